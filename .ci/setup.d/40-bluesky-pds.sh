#!/usr/bin/env bash
# A Bluesky PDS and PLC directory from npm, for the tests marked `pds`
# (tests/channels/test_bluesky_pds.py). Quick when already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm
fi
# better-sqlite3 compiles from source: it needs a C++ toolchain and python3.
if ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make python3
fi
bash tests/servers/bluesky_pds/install.sh
