#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than the lockfile (a fresh
# clone, or a pull that changed package-lock.json). Silent and instant when they are up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-deps: npm not found; install Node.js 20 (with npm) first" >&2
  exit 1
fi
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "ensure-deps: installing npm dependencies (npm ci)"
  if ! npm ci --no-audit --no-fund; then
    echo "ensure-deps: npm ci failed; the npm registry must be reachable (or install node_modules by hand)" >&2
    exit 1
  fi
fi
