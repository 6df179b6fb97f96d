#!/usr/bin/env bash
# Fetches the real search engines the log-pipeline tests and benches run (once, cached):
# the integ-test zips of Elasticsearch 9.5.3 and 8.19.21 and OpenSearch 3.8.0 and 2.19.6 from
# Maven Central (the recipe in docs/operations/search-engines.md), unpacked under
# $VIGIL_ENGINES_DIR (default /var/cache/vigil/engines, readable by the account the engines run
# as). Every artifact is checked against the SHA-256 pinned below, which is what decides; Maven's
# own checksum check is lenient (mvn -c: a mirror that serves the zip without its .sha1, as seen
# 2026-12-04, only warns) since a pinned SHA-256 is the stronger check of the two. OpenSearch 2.19.6's zip lacks the geo module (geohash_grid and
# geotile_grid answer 400 without it): its jar is fetched from Maven Central and installed as a
# module. ES 8.19 and OpenSearch 2.19 need Java 17 (OpenSearch 2.x's security manager is gone in
# Java 24+), installed from Debian when missing. Idempotent: a second run with everything
# unpacked exits at once. Nothing is started here: test/harness/search-engine.ts starts private instances.
set -euo pipefail
say() { printf 'provision-engines: %s\n' "$*"; }
dir=${VIGIL_ENGINES_DIR:-/var/cache/vigil/engines}
java17=${VIGIL_ENGINE_JAVA17_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
mkdir -p "$dir"
# mvn fetches, unzip unpacks: Debian packages, installed when missing (as root, like provision.sh).
for tool in mvn:maven unzip:unzip; do
  command -v "${tool%%:*}" >/dev/null 2>&1 && continue
  say "installing ${tool#*:}"
  DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "${tool#*:}" >/dev/null
done
if [[ ! -x "$java17/bin/java" ]]; then
  say "installing openjdk-17-jre-headless (ES 8.19, OpenSearch 2.19)"
  DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends openjdk-17-jre-headless >/dev/null
fi
# name → "coordinate sha256"
declare -A artifact=(
  [elasticsearch-9.5.3]="org.elasticsearch.distribution.integ-test-zip:elasticsearch:9.5.3:zip bec49f3b8d00e75c8d1cec85c35298635ec9fbd3ae80ef5aeb6bc05abdb3db2d"
  [elasticsearch-8.19.21]="org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.19.21:zip 215d5f3dbf0609a149f6218a9e47b6ae2df34ebbff3c5754e35f15a5e5393c8a"
  [opensearch-3.8.0]="org.opensearch.distribution.integ-test-zip:opensearch:3.8.0:zip 196c3cf4602c394f2e40e6174ccbf2a924eae37246f08fa6bbb6b75f9fd5ff1f"
  [opensearch-2.19.6]="org.opensearch.distribution.integ-test-zip:opensearch:2.19.6:zip 71d6d8b1c637f3faecda0752b184b1cc526fc6eaad59ec1408c6327bb00b9293"
)
# modules added to a distribution: name → "module coordinate sha256"
declare -A module=(
  [opensearch-2.19.6]="geo org.opensearch.plugin:geo:2.19.6 ef64aafe284bd228475cb519795258a43cb378c86d25da68ae47b3d743ff4725"
)

# fetch COORDINATE SHA256 DIR: copies the artifact into DIR and checks its SHA-256; prints its path.
fetch() {
  local coordinate=$1 sha=$2 out=$3 file a v type
  mvn -q -B -c dependency:copy -Dartifact="$coordinate" -DoutputDirectory="$out" >"$out/mvn.log" 2>&1 ||
    { cat "$out/mvn.log" >&2; return 1; }
  IFS=: read -r _ a v type <<<"$coordinate"
  file="$out/$a-$v.${type:-jar}"
  printf '%s  %s\n' "$sha" "$file" | sha256sum -c --quiet - >&2 ||
    { say "SHA-256 mismatch for $coordinate (expected $sha)" >&2; return 1; }
  printf '%s\n' "$file"
}

installed() { # NAME: unpacked, with its extra module if it has one
  local name=$1
  [[ -x "$dir/$name/bin/${name%%-*}" ]] || return 1
  [[ -z "${module[$name]:-}" ]] || [[ -f "$dir/$name/modules/${module[$name]%% *}/plugin-descriptor.properties" ]]
}

for name in "${!artifact[@]}"; do
  installed "$name" && continue
  read -r coordinate sha <<<"${artifact[$name]}"
  say "fetching $coordinate"
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  zip=$(fetch "$coordinate" "$sha" "$tmp")
  (cd "$tmp" && unzip -q "$zip")
  if [[ -n "${module[$name]:-}" ]]; then
    read -r mod mcoord msha <<<"${module[$name]}"
    version=${name#*-}
    say "adding the $mod module ($mcoord)"
    mkdir -p "$tmp/jar"
    jar=$(fetch "$mcoord" "$msha" "$tmp/jar")
    mkdir -p "$tmp/$name/modules/$mod"
    cp "$jar" "$tmp/$name/modules/$mod/"
    # The descriptor the stock 2.19 distribution would ship (as 3.8.0's modules/geo has it).
    cat >"$tmp/$name/modules/$mod/plugin-descriptor.properties" <<P
description=Plugin for geospatial features in OpenSearch. Registering the geo_shape and aggregations on GeoShape and GeoPoint
version=$version
name=$mod
classname=org.opensearch.geo.GeoModulePlugin
java.version=11
opensearch.version=$version
custom.foldername=
extended.plugins=
has.native.controller=false
P
  fi
  rm -rf "${dir:?}/$name"
  mv "$tmp/$name" "$dir/$name"
  rm -rf "$tmp"
  trap - EXIT
  chmod -R a+rX "$dir/$name"
done
# The engines refuse to run as root: the harness runs them as this account.
id vigil-search >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin vigil-search
say "engines ready in $dir"
