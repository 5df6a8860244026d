"""The image pipeline: each platform's spec met, the picture upright, no location or other
photo metadata in any output, the same bytes every time, fitted once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from phone_photo import metadata_of, portrait_photo

from chanpub.errors import ReleaseError
from chanpub.render.media import MediaSpec, check_image, fit_image

INSTAGRAM = MediaSpec("instagram", formats=("JPEG",), max_bytes=8_000_000, aspect=(0.8, 1.91))


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return portrait_photo(tmp_path / "foto.jpg")


def test_a_portrait_photo_is_padded_to_4_5_upright_and_without_location(
    photo: Path, tmp_path: Path
) -> None:
    fitted = fit_image(photo, INSTAGRAM, tmp_path / "cache")
    shown = metadata_of(fitted.path.read_bytes())
    assert (fitted.source_width, fitted.source_height) == (1080, 1920), "orientation applied"
    assert shown["size"] == (1536, 1920) and shown["format"] == "JPEG"
    assert shown["exif"] == {} and shown["gps"] == {} and "exif" not in shown["info"]
    assert fitted.describe() == (
        f"image: 1080x1920 padded to 1536x1920 (4:5), JPEG {fitted.size / 1e6:.1f} MB, "
        "turned upright, location data removed"
    )


def test_padding_uses_the_pad_colour_and_cropping_keeps_the_middle(
    photo: Path, tmp_path: Path
) -> None:
    from PIL import Image

    padded = fit_image(photo, MediaSpec("x", aspect=(0.8, 1.91), pad_color="#003366"), tmp_path)
    with Image.open(padded.path) as image:
        red, green, blue = image.getpixel((3, 960))  # inside the left bar
    assert abs(red - 0x00) < 8 and abs(green - 0x33) < 8 and abs(blue - 0x66) < 8
    cropped = fit_image(photo, MediaSpec("x", aspect=(0.8, 1.91), fit="crop"), tmp_path)
    assert (cropped.width, cropped.height) == (1080, 1350)
    assert "cropped to 1080x1350 (4:5)" in cropped.describe()


def test_byte_and_pixel_limits_are_met(photo: Path, tmp_path: Path) -> None:
    bluesky = fit_image(photo, MediaSpec("bluesky", max_bytes=2_000_000), tmp_path)
    assert bluesky.size <= 2_000_000 and bluesky.path.stat().st_size == bluesky.size
    telegram = fit_image(photo, MediaSpec("telegram", max_side_sum=2000), tmp_path)
    assert telegram.width + telegram.height <= 2000
    mastodon = fit_image(photo, MediaSpec("mastodon", max_pixels=1_000_000), tmp_path)
    assert mastodon.width * mastodon.height <= 1_000_000 and "scaled down" in mastodon.describe()
    tiny = fit_image(photo, MediaSpec("x", max_bytes=60_000), tmp_path)
    assert tiny.size <= 60_000


def test_a_panorama_is_brought_within_telegrams_ratio_of_20(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4200, 100), "red").save(tmp_path / "panorama.png")
    spec = MediaSpec("telegram", aspect=(1 / 20, 20), max_side_sum=10_000)
    fitted = fit_image(tmp_path / "panorama.png", spec, tmp_path / "cache")
    assert fitted.width / fitted.height <= 20 and fitted.format == "PNG"


def test_same_picture_same_bytes_and_fitted_once(photo: Path, tmp_path: Path) -> None:
    first = fit_image(photo, INSTAGRAM, tmp_path / "a")
    second = fit_image(photo, INSTAGRAM, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    stamp = first.path.stat().st_mtime_ns
    again = fit_image(photo, INSTAGRAM, tmp_path / "a")
    assert again == first and first.path.stat().st_mtime_ns == stamp, "served from the cache"


def test_a_clean_picture_within_the_rules_is_used_byte_for_byte(tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "examples" / "layanan-keliling.jpg"
    fitted = fit_image(source, INSTAGRAM, tmp_path)
    assert fitted.path.read_bytes() == source.read_bytes()
    assert fitted.describe().endswith("sent as it is")


def test_metadata_without_location_is_removed_too(tmp_path: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0131] = "PhotoEditor 3.1"  # Software
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(buffer, "JPEG", exif=exif, comment=b"NIP 1985")
    (tmp_path / "edited.jpg").write_bytes(buffer.getvalue())
    fitted = fit_image(tmp_path / "edited.jpg", INSTAGRAM, tmp_path / "cache")
    shown = metadata_of(fitted.path.read_bytes())
    assert shown["exif"] == {} and "comment" not in shown["info"]
    assert fitted.describe().endswith("photo metadata removed")


def test_a_file_that_is_no_picture_is_a_release_error(tmp_path: Path) -> None:
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ReleaseError, match=r"image: foto.jpg is not a picture.*JPEG or PNG"):
        check_image(tmp_path / "foto.jpg")
    with pytest.raises(ReleaseError, match="not a picture"):
        fit_image(tmp_path / "foto.jpg", INSTAGRAM, tmp_path / "cache")


OFFICE = """\
organisation: Dinas Kominfo Kota Contoh
language: en
channels:
  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
  toots:
    type: mastodon
    instance: https://sosial.kotacontoh.go.id
    token: ${MASTODON_TOKEN}
"""


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An office with a website and a Mastodon account (whose token is set)."""
    (tmp_path / "channels.yaml").write_text(OFFICE, encoding="utf-8")
    monkeypatch.setenv("MASTODON_TOKEN", "token-value")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_shows_per_channel_what_is_done_to_the_photo(office: Path) -> None:
    from typer.testing import CliRunner

    from chanpub.cli import app
    from chanpub.testing import write_release

    (office / "releases").mkdir()
    portrait_photo(office / "releases" / "foto.jpg")
    write_release(office / "releases", image="foto.jpg", image_alt="Petugas melayani warga")
    result = CliRunner().invoke(app, ["check", "releases/release.md"])
    assert result.exit_code == 0, result.output
    assert "image: 1080x1920 (9:16), JPEG" in result.stdout
    assert "turned upright, location data removed" in result.stdout


def test_a_picture_that_cannot_be_read_stops_send_before_anything_is_sent(office: Path) -> None:
    from typer.testing import CliRunner

    from chanpub.cli import app
    from chanpub.testing import write_release

    (office / "releases").mkdir()
    (office / "releases" / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut off by the upload")
    write_release(office / "releases", image="foto.jpg", image_alt="Petugas melayani warga")
    for command in (["check", "releases/release.md"], ["send", "releases/"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("image: foto.jpg is") == 1  # one clear line, not one per channel
    assert not (office / "public").exists(), "nothing was published"
