#!/usr/bin/env bash
# strace: tests/faults/test_power_cut.py reads the installed command's system calls to check
# that every ledger write is on the disk before anything irreversible goes out.
# Quick when already installed.
set -euo pipefail
if ! command -v strace >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends strace
fi
