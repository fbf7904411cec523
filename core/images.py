"""Image bytes -> model input tensor, with Pillow and numpy only.

Every way an upload can be bad (not an image, truncated, a decompression bomb,
an SVG or HTML file renamed .jpg) ends in an ``ApplicationError`` with a
message a person understands; nothing here crashes on hostile input.
"""

import io
import warnings
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import ApplicationError

# Pillow's own bomb guard, tightened: past the limit its warning is an error
# (and past twice the limit Pillow raises by itself).
Image.MAX_IMAGE_PIXELS = 50_000_000
warnings.simplefilter("error", Image.DecompressionBombWarning)

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "MPO"}


@dataclass(frozen=True)
class Preprocessing:
    """How a model wants its input: see ModelVersion.preprocessing."""

    size: int = 224
    resize: int = 256  # shorter side before the centre crop
    mean: tuple[float, float, float] = (127.0, 127.0, 127.0)
    std: tuple[float, float, float] = (128.0, 128.0, 128.0)

    @classmethod
    def from_spec(cls, spec: dict, *, size: int) -> "Preprocessing":
        resize = int(spec.get("resize") or round(size / spec.get("crop_fraction", 0.875)))
        return cls(
            size=size,
            resize=max(resize, size),
            mean=tuple(float(v) for v in spec.get("mean", cls.mean)),
            std=tuple(float(v) for v in spec.get("std", cls.std)),
        )


def _max_pixels() -> int:
    return settings.IMAGE_MAX_PIXELS


def open_image(data: bytes, *, draft_size: int | None = None) -> Image.Image:
    """Decodes an upload into an RGB image, upright per its EXIF orientation."""
    if not data:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ALLOWED_FORMATS:
            raise ApplicationError(
                _("This image format is not supported. Use JPEG, PNG, GIF, WebP, BMP or TIFF."),
                code="unsupported_format",
            )
        width, height = image.size
        if width * height > _max_pixels() or width < 1 or height < 1:
            raise ApplicationError(
                _("The image is too large (%(width)d × %(height)d pixels).")
                % {"width": width, "height": height},
                code="image_too_large",
            )
        if draft_size and image.format in {"JPEG", "MPO"}:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still
            # leaves at least draft_size pixels on the shorter side.
            scale = draft_size / min(width, height)
            image.draft("RGB", (int(width * scale) + 1, int(height * scale) + 1))
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated: the first frame
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return _to_rgb(image)
    except ApplicationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ApplicationError(
            _("The image is too large to open safely."), code="image_too_large"
        ) from error
    except UnidentifiedImageError as error:
        raise ApplicationError(
            _("The file is not an image, or its format is not supported."), code="not_an_image"
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ApplicationError(
            _("The image is damaged or incomplete and cannot be read."), code="corrupt_image"
        ) from error


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit (or 32-bit int) greyscale: scale to 8 bits instead of clipping.
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") else max(float(array.max()), 1.0)
        grey = np.clip(array * (255.0 / peak), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        span = max(float(array.max() - array.min()), 1e-12)
        grey = ((array - array.min()) * (255.0 / span)).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent pixels become white, as most viewers show them.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def to_tensor(image: Image.Image, spec: Preprocessing) -> np.ndarray:
    """Resize the shorter side to ``resize``, centre-crop ``size``, normalise:
    (1, size, size, 3) float32. Done as one resize of the central box, which
    is the same picture without resizing pixels the crop throws away."""
    width, height = image.size
    side = min(width, height) * spec.size / spec.resize  # the crop, in source pixels
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize(
        (spec.size, spec.size),
        Image.Resampling.BILINEAR,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
    array = np.asarray(image, dtype=np.float32)
    # (x - mean) / std as x * scale + offset, in place: no temporaries.
    std = np.asarray(spec.std, dtype=np.float32)
    array *= 1.0 / std
    array += -np.asarray(spec.mean, dtype=np.float32) / std
    return array[np.newaxis]


def image_to_tensor(data: bytes, spec: Preprocessing) -> np.ndarray:
    return to_tensor(open_image(data, draft_size=spec.resize), spec)


def encode_jpeg(image: Image.Image, max_side: int) -> bytes:
    """Re-encodes without any metadata: EXIF (GPS, camera serial) is dropped."""
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=88, optimize=True)
    return buffer.getvalue()
