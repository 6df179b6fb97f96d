#!/usr/bin/env bash
# Builds the dashboard's React app (dashboard/web → dashboard/web/dist) with Vite when the build is
# missing or older than any of its sources. Silent and instant when it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
web=dashboard/web
stamp=$web/dist/index.html
if [[ -f $stamp ]] && [[ -z $(find $web/src $web/public $web/index.html $web/vite.config.ts collector/src/search package-lock.json -newer "$stamp" -type f -print -quit 2>/dev/null) ]]; then
  exit 0
fi
echo "build-web: building the dashboard (vite build)"
node_modules/.bin/vite build "$web" --logLevel warn
