"""Release files as they arrive in a shared folder: impossible dates, hostile YAML, huge or
special files, invisible titles. Each ends in a clear error (exit 2), never a traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.errors import ReleaseError
from chanpub.release import MAX_RELEASE_BYTES, load_release

CONFIG = """organisation: Diskominfo Kota Contoh
language: id
channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
"""

# 335 bytes that expand to 9**9 strings when anything walks the result.
BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def release_with(folder: Path, line: str, title: str = "Layanan Keliling") -> Path:
    """An approved-looking release whose front matter holds `line` after the title."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rilis.md"
    path.write_text(f"---\ntitle: {title}\n{line}\n---\nIsi siaran.\n", encoding="utf-8")
    return path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_refused_by_check_and_send(tmp_path: Path, path: Path, expected: str) -> None:
    """`chanpub check FILE` and `chanpub send FILE` both exit 2 naming the problem."""
    config = tmp_path / "channels.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    for command in ("check", "send"):
        code, stdout, stderr = cli(command, str(path), "--config", str(config))
        assert code == 2, (command, stdout, stderr)
        assert stderr.startswith("chanpub: error: ") and expected in stderr, stderr
        assert "Traceback" not in stdout + stderr
    assert not (tmp_path / "public").exists(), "nothing was published"


IMPOSSIBLE = [
    ("date: 2026-02-30", "3: date: 2026-02-30 is not a real date or time"),
    ("date: 2026-13-45", "3: date: 2026-13-45 is not a real date or time"),
    (
        "publish_at: 2026-09-07T25:00:00+07:00",
        "3: publish_at: 2026-09-07T25:00:00+07:00 is not a real date or time",
    ),
    (
        "publish_at: 2026-09-07T09:00:00+25:00",
        "3: publish_at: 2026-09-07T09:00:00+25:00 is not a real date or time",
    ),
    ('date: "2026-02-30"', "3: date: is not a date"),
    ('publish_at: "2026-09-07T09:00:00+25:00"', "3: publish_at: is not an ISO 8601 time"),
    ("1: satu", "3: the name 1 is not text"),
    ("? [a, b]\n: satu", "3: the name [...] is not text"),
    ("title: Judul Kedua", "3: title: appears twice (first on line 2): keep only one"),
    ("tags: !!set {a, b}", "3: tags: the YAML type !!set is not supported"),
    ("source: !!binary aGVsbG8=", "3: source: the YAML type !!binary is not supported"),
    ("tags: !!omap [a: 1]", "3: tags: the YAML type !!omap is not supported"),
    ("summary: 2026-01-01 10:00:00", "3: summary: is a date or time, not text: put it in quotes"),
    ("summary: &isi Ringkas.\nsource: *isi", "4: YAML aliases (*isi) are not allowed"),
]


@pytest.mark.parametrize(("line", "expected"), IMPOSSIBLE)
def test_impossible_values_name_file_line_and_field(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = release_with(tmp_path / "releases", line)
    with pytest.raises(ReleaseError) as caught:
        load_release(path)
    assert f"{path}:{expected}" in caught.value.message


@pytest.mark.parametrize(("line", "expected"), IMPOSSIBLE)
def test_check_and_send_refuse_impossible_values_with_exit_2(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = release_with(tmp_path / "releases", line)
    assert_refused_by_check_and_send(tmp_path, path, f"{path}:{expected}")


def test_real_dates_and_times_still_load(tmp_path: Path) -> None:
    path = release_with(tmp_path, "date: 2028-02-29\npublish_at: 2026-09-07T23:59:59+14:00")
    release = load_release(path)
    assert str(release.date) == "2028-02-29"
    assert release.publish_at is not None and release.publish_at.hour == 23


def limit_memory() -> None:
    """At most 1 GB for the child: a runaway read or expansion fails there, not the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run_python(code: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter: a hang, a crash or a runaway allocation fails the
    test, not the suite."""
    path = os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        preexec_fn=limit_memory,
    )


def test_an_alias_bomb_in_a_release_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_text(f"---\ntitle: T\nsummary: *i\n{BOMB}---\nIsi.\n", encoding="utf-8")
    result = run_python(f"""
        from chanpub.release import load_release
        from chanpub.errors import ReleaseError
        try:
            load_release({str(path)!r})
        except ReleaseError as error:
            print(error.message)
        """)
    assert result.returncode == 0, result.stderr
    assert f"{path}:3: YAML aliases (*i) are not allowed" in result.stdout


def test_an_alias_bomb_in_channels_yaml_is_refused_at_once(tmp_path: Path) -> None:
    config = tmp_path / "channels.yaml"
    config.write_text(f"organisation: *i\n{BOMB}", encoding="utf-8")
    result = run_python(f"""
        from pathlib import Path
        from chanpub.config import load_config
        from chanpub.errors import ConfigError
        try:
            load_config(Path({str(config)!r}))
        except ConfigError as error:
            print(error.message)
        """)
    assert result.returncode == 0, result.stderr
    assert f"{config}:1: YAML aliases (*i) are not allowed" in result.stdout


def test_nesting_that_would_crash_the_yaml_parser_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dalam.md"
    depth = 100_000
    path.write_text(f"---\ntitle: T\ntags: {'[' * depth}{']' * depth}\n---\nIsi.\n")
    result = run_python(f"""
        from chanpub.release import load_release
        from chanpub.errors import ReleaseError
        try:
            load_release({str(path)!r})
        except ReleaseError as error:
            print(error.message)
        """)
    assert result.returncode == 0, (result.returncode, result.stderr[-500:])
    assert f"{path}:3: nested more than 50 levels deep" in result.stdout


def test_nesting_deeper_than_50_levels_is_refused_with_its_line(tmp_path: Path) -> None:
    path = release_with(tmp_path, "tags:\n  - " + "[" * 60 + "]" * 60)
    with pytest.raises(ReleaseError, match=r":4: tags: nested more than 50 levels deep"):
        load_release(path)


def test_duplicate_keys_in_channels_yaml_are_an_error(tmp_path: Path) -> None:
    from chanpub.config import load_config
    from chanpub.errors import ConfigError

    config = tmp_path / "channels.yaml"
    config.write_text(CONFIG + "  website:\n    type: static-site\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config, load_adapters=False)
    assert f"{config}:9: channels.website: appears twice (first on line 4)" in (
        caught.value.message
    )


def test_a_release_larger_than_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = release_with(tmp_path, "summary: " + "x" * MAX_RELEASE_BYTES)
    with pytest.raises(ReleaseError, match=r"larger than 1 MB \(1,000,000 bytes\)"):
        load_release(path)
    assert_refused_by_check_and_send(tmp_path, path, "larger than 1 MB")


def test_dev_zero_is_not_a_release() -> None:
    result = run_python("""
        from chanpub.release import load_release
        from chanpub.errors import ReleaseError
        try:
            load_release("/dev/zero")
        except ReleaseError as error:
            print(error.message)
        """)
    assert "/dev/zero: is not a regular file" in result.stdout, result.stderr[-500:]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipa.md"
    os.mkfifo(fifo)
    result = run_python(f"""
        from chanpub.release import load_release
        from chanpub.errors import ReleaseError
        try:
            load_release({str(fifo)!r})
        except ReleaseError as error:
            print(error.message)
        """)
    assert f"{fifo}: is not a regular file" in result.stdout, result.stderr


def test_a_folder_scan_leaves_fifos_alone_and_sends_the_rest(tmp_path: Path) -> None:
    from chanpub.testing import write_release

    folder = tmp_path / "releases"
    write_release(folder)
    os.mkfifo(folder / "pipa.md")
    config = tmp_path / "channels.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    result = run_python(f"""
        import sys
        from chanpub.cli import app
        sys.argv = ["chanpub", "send", {str(folder)!r}, "--config", {str(config)!r}]
        app()
        """)
    assert result.returncode == 0, result.stderr
    assert "website  published" in result.stdout


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pengumuman \u202egnp.exe", "contains the bidirectional control character U+202E"),
        ("Rapat \u2066Wali Kota\u2069", "contains the bidirectional control character U+2066"),
        ("\u202aPengumuman", "contains the bidirectional control character U+202A"),
        ('"\u200b\u200b"', "has no visible characters"),
        ('"\u3164 \u00ad\u2060"', "has no visible characters"),
        ('"\ufeff\u200d\u3000"', "has no visible characters"),
    ],
)
def test_titles_that_hide_or_reorder_their_text_are_refused(
    tmp_path: Path, title: str, expected: str
) -> None:
    path = release_with(tmp_path / "releases", "summary: Ringkas.", title=title)
    with pytest.raises(ReleaseError) as caught:
        load_release(path)
    assert f"{path}:2: title: {expected}" in caught.value.message
    assert_refused_by_check_and_send(tmp_path, path, f"title: {expected}")


def test_titles_in_right_to_left_scripts_and_with_emoji_still_load(tmp_path: Path) -> None:
    title = "بيان صحفي 👩\u200d👩\u200d👧 Layanan"
    assert load_release(release_with(tmp_path, "", title=title)).title == title


@pytest.mark.parametrize(
    "command",
    [("check",), ("preview",), ("approve", "--by", "Kepala Dinas")],
    ids=["check", "preview", "approve"],
)
def test_a_folder_where_one_release_file_is_wanted_is_refused_by_name(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """check, preview and approve take one release: given the releases folder (as officers
    type it), they name the folder and what to give, and approve writes nothing."""
    config = tmp_path / "channels.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    folder = release_with(tmp_path / "releases", "status: draft").parent
    before = (folder / "rilis.md").read_bytes()
    name, *options = command
    code, stdout, stderr = cli(name, str(folder), *options, "--config", str(config))
    assert code == 2, (stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert stderr.startswith(f"chanpub: error: {folder}: ") and "rilis.md" not in stdout, stderr
    assert "releases/banjir.md" in stderr or "send" in stderr, stderr  # what to give instead
    assert (folder / "rilis.md").read_bytes() == before
