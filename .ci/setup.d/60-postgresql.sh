#!/usr/bin/env bash
# PostgreSQL from Debian's packages: the ledger tests run on it as well as on SQLite, and the
# multi-host tests share one database. The tests start a throw-away cluster on 127.0.0.1
# themselves (tests/postgres_server.py), as the `postgres` user; nothing runs as a service.
# Quick when already installed.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql
fi
