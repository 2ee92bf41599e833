#!/bin/sh
# Checks that a fresh clone installs and runs `npm start` without a C/C++ toolchain: clones HEAD into a
# temp folder, runs `npm install` with CC=false CXX=false (every native build fails; better-sqlite3, an
# optional dependency, is then skipped), `EDGE_EXPORT_START_ONCE=1 npm start` (must exit 0), and checks
# that the Node host explains the missing better-sqlite3 in one line. Needs the npm registry, so it is
# not part of `npm test`: run it by hand or in CI with `sh scripts/check-fresh-install.sh`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/edge-export-fresh-XXXXXX")
trap 'rm -rf "$dir"' EXIT
git clone --quiet "$root" "$dir/clone"
cd "$dir/clone"
git checkout --quiet "$(git -C "$root" rev-parse HEAD)"
echo "== CC=false CXX=false npm install (in $dir/clone)"
CC=false CXX=false npm install --no-audit --no-fund
if [ -e node_modules/better-sqlite3 ]; then
  echo "note: better-sqlite3 installed anyway (a prebuilt binary downloaded); the host check below is skipped"
fi
echo "== EDGE_EXPORT_START_ONCE=1 npm start"
EDGE_EXPORT_START_ONCE=1 PORT=0 S3_PORT=0 npm start
if [ ! -e node_modules/better-sqlite3 ]; then
  echo "== npm run host:node without better-sqlite3"
  if out=$(SECRETS_KEY=$(openssl rand -base64 32) ADMIN_TOKEN=check PORT=0 EDGE_EXPORT_DB="$dir/db.sqlite" \
    npm run -s host:node 2>&1); then
    echo "FAIL: the Node host started without better-sqlite3"; exit 1
  fi
  echo "$out"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "FAIL: expected one line"; exit 1; }
  case "$out" in *better-sqlite3*) ;; *) echo "FAIL: the line does not name better-sqlite3"; exit 1 ;; esac
fi
echo "== fresh install without a compiler: ok"
