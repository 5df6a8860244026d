"""A release's picture: approval covers its bytes, and a picture no channel can carry is
refused before anything is sent, by `check` as by `send`."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from offices import WEBSITE, office_yaml
from PIL import Image
from typer.testing import CliRunner

from chanpub.cli import app
from chanpub.release import content_sha256, load_release
from chanpub.testing import write_release

CONFIG = office_yaml(WEBSITE)


def picture(format: str, size: tuple[int, int] = (64, 48), colour: str = "navy") -> bytes:
    """A real picture in `format`, as a camera or an editor would save it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: enough for a decompression bomb, no pixels needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    noise = Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG")
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def office(tmp_path: Path) -> Path:
    (tmp_path / "channels.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "releases").mkdir()
    return tmp_path


def test_a_release_without_an_image_keeps_the_hash_existing_ledgers_know() -> None:
    front = {"title": "Layanan Keliling", "tags": ["a"]}
    expected = "6eec5f5aeb4aa1a31e24bc70837b7a13c189e2924ddeacfba642b3fc0d033738"
    assert content_sha256(front, "Isi siaran.\n") == expected


def test_swapping_the_picture_after_approval_is_refused_like_any_edit(office: Path) -> None:
    folder = office / "releases"
    (folder / "foto.png").write_bytes(picture("PNG", colour="navy"))
    path = write_release(folder, image="foto.png", image_alt="Mobil layanan biru")
    assert load_release(path).is_approved

    (folder / "foto.png").write_bytes(picture("PNG", colour="red"))
    assert not load_release(path).is_approved
    code, _stdout, stderr = cli("send", str(path), "--config", str(office / "channels.yaml"))
    assert code == 2
    assert f"{path}: changed after it was approved by Kepala Dinas" in stderr
    assert not (office / "public").exists()


def test_approve_binds_the_picture_it_saw(office: Path) -> None:
    folder = office / "releases"
    (folder / "foto.jpg").write_bytes(picture("JPEG"))
    path = write_release(folder, image="foto.jpg", image_alt="Mobil layanan", approved=False)
    assert cli("approve", str(path), "--by", "Kepala Dinas")[0] == 0
    approved = load_release(path)
    assert approved.is_approved and approved.approved_by == "Kepala Dinas"
    (folder / "foto.jpg").write_bytes(picture("JPEG", colour="white"))
    assert not load_release(path).is_approved


BROKEN = [
    ("foto.jpg", b"bukan gambar, hanya teks\n", "is not a JPEG, PNG, WebP or GIF picture"),
    ("foto.jpg", truncated_jpeg(), "is damaged or cut short"),
    (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "is not a JPEG, PNG, WebP or GIF picture",
    ),
    ("besar.png", png_header(20_000, 20_000), "is too large"),
    ("besar.png", png_header(10_000, 10_000), "is too large"),
    ("panjang.png", png_header(13_000, 100), "of 13000x100 pixels is too large"),
    ("padat.png", png_header(7_000, 7_000), "of 7000x7000 pixels is too large"),
]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    BROKEN,
    ids=["text", "truncated-jpeg", "svg", "20000x20000", "10000x10000", "13000x100", "7000x7000"],
)
def test_a_picture_no_channel_can_carry_stops_check_and_send(
    office: Path, name: str, data: bytes, expected: str
) -> None:
    folder = office / "releases"
    (folder / name).write_bytes(data)
    path = write_release(folder, image=name, image_alt="Foto kegiatan")
    for command in ("check", "send"):
        code, stdout, stderr = cli(command, str(path), "--config", str(office / "channels.yaml"))
        assert code == 2, (command, stdout, stderr)
        assert stderr.startswith("chanpub: error: ")
        assert f"{path}:" in stderr and f"image: {name} {expected}" in stderr, stderr
        assert "Traceback" not in stdout + stderr
    assert not (office / "public").exists(), "nothing was published"


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_every_supported_picture_goes_out(office: Path, format: str) -> None:
    folder = office / "releases"
    name = f"foto.{format.lower()}"
    (folder / name).write_bytes(picture(format, (1200, 675)))
    path = write_release(folder, image=name, image_alt="Mobil layanan")
    code, stdout, stderr = cli("send", str(path), "--config", str(office / "channels.yaml"))
    assert code == 0, stderr
    assert "website  published" in stdout


def test_check_opens_the_picture_of_a_draft_too(office: Path) -> None:
    folder = office / "releases"
    (folder / "foto.jpg").write_bytes(b"bukan gambar")
    path = write_release(folder, image="foto.jpg", image_alt="Foto", approved=False)
    code, _stdout, stderr = cli("check", str(path), "--config", str(office / "channels.yaml"))
    assert code == 2
    assert "image: foto.jpg is not a JPEG, PNG, WebP or GIF picture" in stderr


def test_a_draft_with_a_broken_picture_in_a_folder_is_left_alone(office: Path) -> None:
    folder = office / "releases"
    (folder / "rusak.jpg").write_bytes(b"bukan gambar")
    write_release(
        folder, name="draf.md", title="Draf", image="rusak.jpg", image_alt="x", approved=False
    )
    write_release(folder, name="siap.md")
    code, stdout, stderr = cli("send", str(folder), "--config", str(office / "channels.yaml"))
    assert code == 0, stderr
    assert "website  published" in stdout


def test_loading_releases_without_pictures_leaves_pillow_unimported(tmp_path: Path) -> None:
    write_release(tmp_path / "releases")
    code = f"""
import sys
from pathlib import Path
from chanpub.intake import load_releases
load_releases([Path({str(tmp_path / "releases")!r})])
print("PIL" in sys.modules)
"""
    path = os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"
