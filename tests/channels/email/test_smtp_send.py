"""`chanpub send` with an smtp email channel, end to end: a run killed halfway, then sent
again, reaches every journalist once; an unreachable server fails only its channel."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

from smtp_servers import PASSWORD, USER, Received, SmtpServer, free_port
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.release import load_release
from chanpub.testing import write_release


def write_config(folder: Path, port: int, security: str = "starttls") -> Path:
    """A website (canonical) and a press list over SMTP, as an office would write them."""
    config = folder / "channels.yaml"
    config.write_text(
        f"""\
organisation: Dinas Kominfo Kota Contoh
language: id
channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
  press:
    type: email
    transport: smtp
    host: 127.0.0.1
    port: {port}
    security: {security}
    username: ${{SMTP_USER}}
    password: ${{SMTP_PASSWORD}}
    from: "Diskominfo <humas@example.go.id>"
    lists: [media.csv]
    subject_prefix: "[Siaran Pers]"
""",
        encoding="utf-8",
    )
    return config


def test_a_killed_send_then_send_again_reaches_everyone_once(
    tmp_path: Path,
    starttls_server: SmtpServer,
) -> None:
    addresses = [f"wartawan{n:02}@media.example" for n in range(25)]
    (tmp_path / "media.csv").write_text(
        "email,nama\n" + "".join(f"{a},Wartawan {n}\n" for n, a in enumerate(addresses)),
        encoding="utf-8",
    )
    write_config(tmp_path, starttls_server.port)
    release = write_release(tmp_path / "rilis")
    chanpub = shutil.which("chanpub")
    assert chanpub is not None, "pip install -e . puts the chanpub command on PATH"
    env = {**os.environ, "SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}

    first = subprocess.Popen(
        [chanpub, "send", str(release)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def kill_at_the_eighth(_message: Received) -> None:
        if len(starttls_server.handler.received) == 8:
            os.kill(first.pid, signal.SIGKILL)

    starttls_server.handler.on_message = kill_at_the_eighth
    first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL
    starttls_server.handler.on_message = None

    second = subprocess.run(
        [chanpub, "send", str(release)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    history = subprocess.run(
        [chanpub, "history"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    counts = [len(starttls_server.handler.to(a)) for a in addresses]
    assert counts == [1] * 25, "every journalist exactly once, across both runs"
    assert second.returncode == 1, second.stderr  # the one in flight is left to a person
    assert "1 recipient(s) may or may not have received" in second.stdout + second.stderr
    assert f"chanpub resolve {load_release(release).slug} press --resend" in second.stdout
    assert f"press: {addresses[7]}: " in history.stdout
    assert "may have received" in history.stdout
    assert PASSWORD not in second.stdout + second.stderr + history.stdout


def test_an_unreachable_smtp_server_fails_only_its_channel(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "media.csv").write_text("email\nbudi@harian.example\n", encoding="utf-8")
    config = write_config(tmp_path, port, security="none")
    release = write_release(tmp_path / "rilis")

    result = CliRunner().invoke(
        app,
        ["send", "--json", "--config", str(config), str(release)],
        env={"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    outcomes = {o["channel"]: o for r in document["releases"] for o in r["channels"]}
    assert outcomes["website"]["status"] == "published"
    assert outcomes["press"]["status"] == "failed"
    assert f"127.0.0.1:{port}" in outcomes["press"]["error"]


def test_a_list_stopped_midway_shows_in_the_history_how_far_it_went(
    tmp_path: Path, starttls_server: SmtpServer
) -> None:
    starttls_server.handler.quota = 2  # the account's daily limit, after two messages
    addresses = [f"wartawan{n}@media.example" for n in range(5)]
    (tmp_path / "media.csv").write_text("email\n" + "\n".join(addresses) + "\n", encoding="utf-8")
    config = write_config(tmp_path, starttls_server.port)
    release = write_release(tmp_path / "rilis")
    env = {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}

    sent = CliRunner().invoke(app, ["send", "--config", str(config), str(release)], env=env)
    history = CliRunner().invoke(app, ["history", "--json", "--config", str(config)], env=env)
    wide = {**env, "COLUMNS": "400"}  # the table on one line a row
    shown = CliRunner().invoke(app, ["history", "--config", str(config)], env=wide)

    assert sent.exit_code == 1, sent.output
    [press] = [d for d in json.loads(history.stdout)["deliveries"] if d["channel"] == "press"]
    assert press["status"] == "failed" and "5.4.5" in press["error"]
    assert press["details"] == {"sent": 2, "deferred": 1}  # the other two: not tried yet
    assert "sent 2, deferred 1" in shown.stdout
