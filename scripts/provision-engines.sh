#!/usr/bin/env bash
# Fetches the real search engines the log-pipeline tests and benches run (once, cached):
# Elasticsearch 9.5.3 and OpenSearch 3.8.0 integ-test zips from Maven Central (the recipe in
# docs/operations/search-engines.md), unpacked under $VIGIL_ENGINES_DIR (default
# /var/cache/vigil/engines, readable by the account the engines run as). Idempotent: a second run with both unpacked exits at once.
# Nothing is started here: test/harness/search-engine.ts starts private instances.
set -euo pipefail
say() { printf 'provision-engines: %s\n' "$*"; }
dir=${VIGIL_ENGINES_DIR:-/var/cache/vigil/engines}
mkdir -p "$dir"
# mvn fetches, unzip unpacks: Debian packages, installed when missing (as root, like provision.sh).
for tool in mvn:maven unzip:unzip; do
  command -v "${tool%%:*}" >/dev/null 2>&1 && continue
  say "installing ${tool#*:}"
  DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "${tool#*:}" >/dev/null
done
declare -A coord=(
  [elasticsearch-9.5.3]=org.elasticsearch.distribution.integ-test-zip:elasticsearch:9.5.3:zip
  [opensearch-3.8.0]=org.opensearch.distribution.integ-test-zip:opensearch:3.8.0:zip
)
for name in "${!coord[@]}"; do
  [[ -x "$dir/$name/bin/${name%%-*}" ]] && continue
  say "fetching ${coord[$name]}"
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  mvn -q -B dependency:copy -Dartifact="${coord[$name]}" -DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1 ||
    { cat "$tmp/mvn.log" >&2; rm -rf "$tmp"; exit 1; }
  (cd "$tmp" && unzip -q ./*.zip)
  rm -rf "${dir:?}/$name"
  mv "$tmp/$name" "$dir/$name"
  rm -rf "$tmp"
  chmod -R a+rX "$dir/$name"
done
# The engines refuse to run as root: the harness runs them as this account.
id vigil-search >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin vigil-search
say "engines ready in $dir"
