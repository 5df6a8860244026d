#!/usr/bin/env bash
# Everything the tests need on a fresh Debian machine, then the whole test suite.
# System packages and servers (WordPress, a Bluesky PDS, ...) come from .ci/setup.d/;
# each script there is idempotent and quick when its part is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
for script in .ci/setup.d/*.sh; do
  [ -e "$script" ] || continue
  echo "== $script"
  bash "$script"
done
python3 -m pip install --quiet -e '.[test]'
python3 -m pytest "$@"
# House style, checked like the tests: lint, format and strict types.
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy chanpub
