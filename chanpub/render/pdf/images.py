"""Pictures in PDFs: check that Pillow can read them, scale them to print resolution,
and place them inside a box with their alt text recorded in the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chanpub.render.pdf.document import Box

if TYPE_CHECKING:
    from fpdf import FPDF
    from PIL.Image import Image

PRINT_DPI = 300
MAX_PIXELS = 80_000_000  # larger pictures are refused rather than risking memory


class UnreadableImage(ValueError):
    """Pillow cannot read the file as a picture; the message says why."""


@dataclass(frozen=True)
class Picture:
    """A readable picture: its file and pixel size."""

    path: Path
    width: int
    height: int

    @property
    def aspect(self) -> float:
        """Width divided by height."""
        return self.width / self.height


def inspect_image(path: Path) -> Picture:
    """Open the file enough to know it is a picture Pillow can decode, and its size."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise UnreadableImage(f"{path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if image.getexif().get(0x0112) in (5, 6, 7, 8):  # EXIF: shown turned 90°
                    width, height = height, width
                if width * height > MAX_PIXELS:
                    raise UnreadableImage(
                        f"{path} is {width}x{height} pixels: scale it down below "
                        f"{MAX_PIXELS // 1_000_000} megapixels"
                    )
            with Image.open(path) as image:
                image.verify()
    except UnreadableImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise UnreadableImage(
            f"{path} is not a picture this program can read ({error}): save it as PNG or JPEG"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableImage(
            f"{path} cannot be read ({error}): save it again as PNG or JPEG"
        ) from None
    if width < 1 or height < 1:
        raise UnreadableImage(f"{path} has no pixels")
    return Picture(path, width, height)


def contain(picture: Picture, box: Box, align: str = "C") -> Box:
    """The largest box of the picture's proportions inside `box` (centred or left)."""
    scale = min(box.w / picture.width, box.h / picture.height)
    width, height = picture.width * scale, picture.height * scale
    x = box.x + ((box.w - width) / 2 if align == "C" else 0.0 if align == "L" else box.w - width)
    return Box(x, box.y + (box.h - height) / 2, width, height)


def _scaled(picture: Picture, target: Box) -> Image:
    """The picture at no more than print resolution for its printed size (RGB or RGBA)."""
    from PIL import Image, ImageOps

    with Image.open(picture.path) as original:
        image = ImageOps.exif_transpose(original)
        wanted = (
            max(1, round(target.w / 25.4 * PRINT_DPI)),
            max(1, round(target.h / 25.4 * PRINT_DPI)),
        )
        if image.width > wanted[0] * 1.2:
            image = image.resize(wanted, Image.Resampling.LANCZOS)
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image.load()
        return image


def place_image(pdf: FPDF, picture: Picture, box: Box, alt_text: str, align: str = "C") -> Box:
    """Draw the picture inside the box (proportions kept); returns where it went."""
    target = contain(picture, box, align)
    pdf.image(
        _scaled(picture, target),
        x=target.x,
        y=target.y,
        w=target.w,
        h=target.h,
        alt_text=alt_text or None,
    )
    return target
