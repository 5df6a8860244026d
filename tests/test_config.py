"""channels.yaml: secrets from the environment, every problem at once, readiness."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanpub.config import find_config, load_config, state_dir_for
from chanpub.errors import ConfigError


def write_config(folder: Path, text: str) -> Path:
    path = folder / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    return path


OUTBOX = """
  press:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: ["a@example.com"]
"""


def test_the_default_config_in_the_repo_loads_and_is_ready() -> None:
    config = load_config(Path(__file__).parents[1] / "channels.yaml")
    assert {c.type for c in config.channels.values()} >= {"static-site", "email", "poster-pdf"}
    assert all(c.ready for c in config.channels.values() if c.enabled)
    social = [c for c in config.channels.values() if not c.enabled]
    assert social and all(c.options is not None for c in social)  # previewable all the same
    assert [c.name for c in config.channels.values() if c.canonical] == ["website"]


def test_secrets_come_from_the_environment_or_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        tmp_path,
        """
channels:
  press:
    type: email
    transport: smtp
    host: smtp.example.go.id
    username: ${SMTP_USER}
    password: ${SMTP_PASSWORD}
    from: "Humas <humas@example.go.id>"
    lists: ["a@example.com"]
""",
    )
    (tmp_path / ".env").write_text("SMTP_USER=humas\nSMTP_PASSWORD=from-dotenv\n")
    monkeypatch.setenv("SMTP_PASSWORD", "from-environment")
    config = load_config(path)
    press = config.channels["press"]
    assert press.ready
    assert press.options is not None
    assert press.options.password.get_secret_value() == "from-environment"  # type: ignore[attr-defined]
    assert "from-environment" not in repr(press.options)
    assert press.secrets == {"username": "SMTP_USER", "password": "SMTP_PASSWORD"}
    assert config.redact("login failed for from-environment") == "login failed for ***"


def test_a_missing_secret_leaves_only_that_channel_out(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "channels:"
        + OUTBOX
        + """
  press-smtp:
    type: email
    transport: smtp
    host: smtp.example.go.id
    password: ${SMTP_PASSWORD}
    from: "Humas <humas@example.go.id>"
    lists: ["a@example.com"]
""",
    )
    config = load_config(path)
    assert config.channels["press"].ready
    assert not config.channels["press-smtp"].ready
    assert config.channels["press-smtp"].readiness == "missing secret SMTP_PASSWORD"


def test_every_problem_is_reported_at_once_with_its_path(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
organisation: Diskominfo
colour: blue
channels:
  website:
    type: static-site
    base_url: ftp://example.go.id
    enabled: maybe
  social:
    type: myspace
  press:
    type: email
    transport: outbox
    path: outbox
    from: not-an-address
    lists: ["a@example.com"]
    connections: many
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    expected = [
        f"{path}: colour: unknown setting",
        f"{path}: channels.website.enabled: must be true or false",
        f"{path}: channels.website.path: is required",
        f"{path}: channels.website.base_url: ",
        f"{path}: channels.social.type: unknown channel type 'myspace'",
        f"{path}: channels.press.from: ",
        f"{path}: channels.press.connections: ",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_a_secret_written_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
channels:
  press:
    type: email
    transport: smtp
    host: smtp.example.go.id
    password: hunter2-in-the-repo
    from: "Humas <humas@example.go.id>"
    lists: ["a@example.com"]
""",
    )
    with pytest.raises(ConfigError, match=r"channels.press.password: a secret must not be written"):
        load_config(path)


def test_yaml_errors_name_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "channels:\n  website: [unclosed\n")
    with pytest.raises(ConfigError, match=r"channels.yaml:\d+: not valid YAML"):
        load_config(path)


def test_only_one_canonical_channel(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
channels:
  a: {type: static-site, path: a, canonical: true}
  b: {type: static-site, path: b, canonical: true}
""",
    )
    with pytest.raises(ConfigError, match="a, b are all marked canonical"):
        load_config(path)


def test_an_email_channel_cannot_be_canonical(tmp_path: Path) -> None:
    path = write_config(tmp_path, "channels:" + OUTBOX + "    canonical: true\n")
    with pytest.raises(ConfigError, match="cannot be the canonical one"):
        load_config(path)


def test_config_is_found_by_option_then_environment_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = write_config(tmp_path, "channels: {}\n")
    other = tmp_path / "other.yaml"
    other.write_text("channels: {}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHANPUB_CONFIG", raising=False)
    assert find_config(None).resolve() == here
    monkeypatch.setenv("CHANPUB_CONFIG", str(other))
    assert find_config(None) == other
    assert find_config(here) == here
    monkeypatch.setenv("CHANPUB_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="from CHANPUB_CONFIG"):
        find_config(None)


def test_a_folder_given_as_the_config_names_the_file_to_give(tmp_path: Path) -> None:
    write_config(tmp_path, "channels: {}\n")
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)  # the office folder, as officers often give it
    assert caught.value.message == (
        f"{tmp_path}: is a folder, not a config file (from --config): "
        f"give the file in it, e.g. {tmp_path / 'channels.yaml'}"
    )


def test_a_device_given_as_the_config_is_named_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(Path("/dev/null"))
    assert caught.value.message == (
        "/dev/null: is not a regular file (from --config): give the path of channels.yaml"
    )


def test_no_config_suggests_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="run 'chanpub init'"):
        find_config(None)


def test_state_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = tmp_path / "channels.yaml"
    monkeypatch.setenv("CHANPUB_STATE_DIR", "/srv/state")
    assert state_dir_for(config_path, "state") == Path("/srv/state")
    monkeypatch.delenv("CHANPUB_STATE_DIR")
    assert state_dir_for(config_path, "state") == tmp_path / "state"
    assert state_dir_for(config_path, None) == tmp_path / ".chanpub"
