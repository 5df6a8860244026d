"""User templates run sandboxed, and a release cannot point outside its own folder: each
attempt ends in exit 2 with a clear 'chanpub: error:' line, before anything is published."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.testing import write_release

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{{ self.__init__.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ title.__class__.__base__.__subclasses__() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ '{0.__class__.__mro__}'.format(title) }}",
]
TEMPLATED = {  # every type whose post text comes from a user template
    "mastodon": {"instance": "https://mastodon.example", "token": "${TOKEN}"},
    "bluesky": {"handle": "kominfo.example", "app_password": "${TOKEN}"},
    "telegram": {"bot_token": "${TOKEN}", "chat_id": "@kominfokota"},
    "facebook-page": {"page_id": "1234567890", "page_token": "${TOKEN}"},
    "instagram": {"account_id": "1784", "access_token": "${TOKEN}"},
    "x": {"oauth2_token": "${TOKEN}"},
}


def office(folder: Path, channels: dict[str, dict[str, object]]) -> Path:
    config = folder / "channels.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "channels": {
                    "website": {
                        "type": "static-site",
                        "canonical": True,
                        "path": "public",
                        "base_url": "https://kominfo.example.go.id/siaran/",
                    },
                    **channels,
                }
            }
        ),
        encoding="utf-8",
    )
    return config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"TOKEN": "t0ken-value-1"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


CASES = [(kind, template) for kind in sorted(TEMPLATED) for template in ESCAPES[:2]] + [
    ("telegram", template) for template in ESCAPES[2:]
]


@pytest.mark.parametrize(("kind", "template"), CASES)
def test_a_template_reaching_for_python_internals_fails_cleanly(
    tmp_path: Path,
    kind: str,
    template: str,
) -> None:
    config = office(tmp_path, {"social": {"type": kind, **TEMPLATED[kind], "template": template}})
    release = write_release(tmp_path / "releases")
    for command in (["check", str(release)], ["send", str(release)]):
        code, stdout, stderr = run(*command, "--config", str(config))
        assert code == 2, (command, stdout, stderr)
        assert stderr.startswith("chanpub: error: ") and "channels.social.template" in stderr
        assert "Traceback" not in stderr and "<class" not in stdout + stderr
    assert not (tmp_path / "public").exists(), "nothing was published"


@pytest.mark.parametrize(
    "image", ["../../etc/passwd", "/etc/passwd", "../gambar.png", "sub/../../gambar.png"]
)
def test_an_image_outside_the_release_folder_is_refused(tmp_path: Path, image: str) -> None:
    config = office(tmp_path, {})
    (tmp_path / "gambar.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    release = write_release(tmp_path / "releases", image=image, image_alt="Banjir")
    code, _stdout, stderr = run("send", str(release), "--config", str(config))
    assert code == 2
    assert f"image: {image} is outside the release's folder" in stderr
    assert not (tmp_path / "public").exists()


def test_an_image_symlink_leading_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    config = office(tmp_path, {})
    folder = tmp_path / "releases"
    folder.mkdir()
    os.symlink("/etc/passwd", folder / "gambar.png")
    release = write_release(folder, image="gambar.png", image_alt="Banjir")
    code, _stdout, stderr = run("send", str(release), "--config", str(config))
    assert code == 2
    assert "image: gambar.png is outside the release's folder" in stderr
    assert not (tmp_path / "public").exists()


def test_a_symlinked_folder_leading_out_is_refused(tmp_path: Path) -> None:
    config = office(tmp_path, {})
    folder = tmp_path / "releases"
    folder.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "foto.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    os.symlink(outside, folder / "media")
    release = write_release(folder, image="media/foto.png", image_alt="Banjir")
    code, _stdout, stderr = run("send", str(release), "--config", str(config))
    assert code == 2 and "is outside the release's folder" in stderr


def test_an_image_beside_the_release_is_published(tmp_path: Path) -> None:
    config = office(tmp_path, {})
    folder = tmp_path / "releases"
    folder.mkdir()
    Image.new("RGB", (64, 48), "navy").save(folder / "gambar.png")  # a real picture
    release = write_release(folder, image="gambar.png", image_alt="Banjir")
    code, _stdout, stderr = run("send", str(release), "--config", str(config))
    assert code == 0, stderr
    assert list((tmp_path / "public" / "media").iterdir())
