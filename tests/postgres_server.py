"""A throw-away PostgreSQL cluster on loopback, from Debian's `postgresql` package.

Started once per test session (tests/conftest.py), as the `postgres` user when the tests run
as root (PostgreSQL refuses to run as root); every test gets a database of its own. The
cluster lives in a temporary folder and is stopped and removed at the end.

The tests run it with `fsync=off`: they check behaviour, and a crash of this machine only
loses a throw-away cluster. The benchmarks run it `durable`, as an office's server runs
(PostgreSQL's defaults: every commit flushed to disk before it is acknowledged), since
what a commit costs there is part of what they measure.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PASSWORD_USER = "chanpub"


def binaries() -> Path | None:
    """Debian's PostgreSQL binaries (the newest version installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One cluster: start, stop, restart, and a fresh database per test."""

    def __init__(self, bin_dir: Path, durable: bool = False) -> None:
        self.bin = bin_dir
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="chanpub-pg-"))
        self.port = _free_port()
        self.password = secrets.token_urlsafe(16)
        self.data = self.folder / "data"
        self._count = 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        """Create the cluster on first start; start the server on 127.0.0.1."""
        if not self.data.exists():
            pwfile = self.folder / "pw"
            pwfile.write_text(self.password + "\n")
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres")
                shutil.chown(pwfile, "postgres")
            self._run("initdb", "-D", str(self.data), "-A", "scram-sha-256",
                      f"--pwfile={pwfile}", "-U", "postgres")  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        if not self.durable:
            options += " -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options,
                  "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (the cluster stays)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop and start again: every open connection is cut."""
        self.stop("immediate")
        self.start()

    def url(self, database: str = "postgres") -> str:
        """The URL of a database, with the superuser's password."""
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server and delete the cluster."""
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def rows_inserted(url: str, table: str) -> int:
    """Rows ever inserted into `table` of the database at `url` (its statistics, made
    current first), counting those deleted since: procrastinate deletes finished jobs."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("SELECT pg_stat_force_next_flush()")
        row = db.execute(
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = %s", (table,)
        ).fetchone()
    return int(row[0]) if row else 0
