"""Image bytes -> model input tensor, with Pillow and numpy only.

Every way an upload can be bad (not an image, truncated, a decompression bomb,
an SVG or HTML file renamed .jpg) ends in an ``ApplicationError`` with a
message a person understands; nothing here crashes on hostile input.
"""

import contextlib
import io
import re
import threading
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
    layout: str = "nhwc"  # or "nchw" (channels first, as PyTorch exports)

    @classmethod
    def from_spec(cls, spec: dict, *, size: int) -> "Preprocessing":
        resize = int(spec.get("resize") or round(size / spec.get("crop_fraction", 0.875)))
        return cls(
            size=size,
            resize=max(resize, size),
            mean=tuple(float(v) for v in spec.get("mean", cls.mean)),
            std=tuple(float(v) for v in spec.get("std", cls.std)),
            layout=spec.get("layout", cls.layout),
        )


def _max_pixels() -> int:
    return settings.IMAGE_MAX_PIXELS


class PixelBudget:
    """The pixels one request may decode in all (``UPLOAD_MAX_REQUEST_PIXELS``),
    on top of the limit per image: decoding time stays bounded however many
    files a request holds. JPEGs count at the reduced size they decode at."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = settings.UPLOAD_MAX_REQUEST_PIXELS if limit is None else limit
        self.spent = 0

    def spend(self, pixels: int) -> None:
        self.spent += pixels
        if self.spent > self.limit:
            raise ApplicationError(
                _(
                    "These images hold more than %(megapixels)d megapixels in all; "
                    "send fewer or smaller images per request."
                )
                % {"megapixels": self.limit // 1_000_000},
                code="too_many_pixels",
                status=413,
            )


# Big pictures are decoded one at a time per process: a web process serves
# several requests at once (threads), and each full-size decode may take a
# hundred megabytes or more until it is reduced. Small ones go straight through.
_BIG_DECODE = threading.Lock()
BIG_DECODE_PIXELS = 4_000_000


def open_image(
    data: bytes, *, draft_size: int | None = None, budget: PixelBudget | None = None
) -> Image.Image:
    """Decodes an upload into an RGB image, upright per its EXIF orientation.

    With ``draft_size``, the image comes back only as large as needed for its
    shorter side to keep at least that many pixels: JPEGs are decoded at 1/2,
    1/4 or 1/8 scale, and other formats are reduced right after decoding, so
    one full-size picture at most is in memory at any time."""
    if not data:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    try:
        image = Image.open(io.BytesIO(data))
        _format_check(image)
        width, height = image.size
        if width * height > _max_pixels() or width < 1 or height < 1:
            raise ApplicationError(
                _("The image is too large (%(width)d × %(height)d pixels).")
                % {"width": width, "height": height},
                code="image_too_large",
                extra={"width": width, "height": height},
            )
        if draft_size and image.format in {"JPEG", "MPO"}:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still
            # leaves at least draft_size pixels on the shorter side.
            scale = draft_size / min(width, height)
            image.draft("RGB", (int(width * scale) + 1, int(height * scale) + 1))
        if budget is not None:
            budget.spend(image.size[0] * image.size[1])
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated: the first frame
        big = image.size[0] * image.size[1] > BIG_DECODE_PIXELS
        with _BIG_DECODE if big else contextlib.nullcontext():
            image.load()
            if draft_size:
                image = _shrink(image, draft_size)
            ImageOps.exif_transpose(image, in_place=True)
            return _to_rgb(image)
    except ApplicationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ApplicationError(
            _("The image is too large to open safely."), code="image_too_large"
        ) from error
    except UnidentifiedImageError as error:
        raise _not_an_image() from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ApplicationError(
            _("The image is damaged or incomplete and cannot be read."), code="corrupt_image"
        ) from error


def _format_check(image: Image.Image) -> None:
    if image.format not in ALLOWED_FORMATS:
        raise ApplicationError(
            _("This image format is not supported. Use JPEG, PNG, GIF, WebP, BMP or TIFF."),
            code="unsupported_format",
        )


def _not_an_image() -> ApplicationError:
    return ApplicationError(
        _("The file is not an image, or its format is not supported."), code="not_an_image"
    )


def image_sniff(data: bytes) -> str:
    """The format of an image, from its first bytes only (nothing is decoded):
    what a file claims to be (its name, a Content-Type header) is not trusted.
    ``open_image`` does the full checks later."""
    if not data:
        raise ApplicationError(_("The file is empty."), code="empty_file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            _format_check(image)
            return image.format
    except ApplicationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _not_an_image() from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ApplicationError(
            _("The image is too large to open safely."), code="image_too_large"
        ) from error


_REDUCIBLE = {"L", "RGB", "I", "F", "CMYK", "YCbCr"}
# Modes that need a full-size copy to be reduced (colours from a palette, or
# premultiplied alpha inside Pillow's reduce): done a strip at a time.
_BY_STRIPS = {"P", "PA", "1", "LA", "RGBA", "La", "RGBa"}
_STRIP_ROWS = 512  # rows of the full-size picture per strip (about)


def _shrink(image: Image.Image, shorter_side: int) -> Image.Image:
    """Divides both sides by the largest whole factor that keeps the shorter
    side at least ``shorter_side`` long (a box filter: every pixel counts),
    never holding a second full-size copy of the picture."""
    factor = min(image.size) // max(1, shorter_side)
    if factor < 2:
        return image
    if image.mode in _BY_STRIPS:
        small = _reduce_by_strips(image, factor)
    elif image.mode in _REDUCIBLE:
        small = image.reduce(factor)
    else:  # 16-bit greyscale and the like
        small = image.resize(
            (image.size[0] // factor, image.size[1] // factor), Image.Resampling.BOX
        )
    small.info = image.info  # keeps the EXIF orientation for exif_transpose
    return small


def _reduce_by_strips(image: Image.Image, factor: int) -> Image.Image:
    if image.mode in ("P", "PA", "1"):  # palette indices cannot be averaged: colours first
        mode = "RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB"
    else:
        mode = {"La": "LA", "RGBa": "RGBA"}.get(image.mode, image.mode)
    width, height = image.size
    small = Image.new(mode, (-(-width // factor), -(-height // factor)))
    # A multiple of the factor, so the strips give the same pixels as one reduce.
    step = factor * max(1, _STRIP_ROWS // factor)
    for top in range(0, height, step):
        strip = image.crop((0, top, width, min(top + step, height)))
        if strip.mode != mode:
            strip = strip.convert(mode)
        small.paste(strip.reduce(factor), (0, top // factor))
    return small


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit greyscale: scale to 8 bits (the high byte) instead of clipping.
        grey = (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "I":
        # 32-bit integers: 0 to the largest value, in float32 (half the memory).
        array = np.asarray(image, dtype=np.float32)
        array *= 255.0 / max(float(array.max()), 1.0)
        return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float32)
        low = float(array.min())
        array -= low
        array *= 255.0 / max(float(array.max()), 1e-12)
        return Image.fromarray(array.astype(np.uint8), "L").convert("RGB")
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
    (1, size, size, 3) float32, or (1, 3, size, size) for an NCHW model. Done
    as one resize of the central box, which is the same picture without
    resizing pixels the crop throws away."""
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
    if spec.layout == "nchw":
        return np.ascontiguousarray(array.transpose(2, 0, 1))[np.newaxis]
    return array[np.newaxis]


def image_to_tensor(
    data: bytes, spec: Preprocessing, *, budget: PixelBudget | None = None
) -> np.ndarray:
    return to_tensor(open_image(data, draft_size=spec.resize, budget=budget), spec)


def encode_jpeg(image: Image.Image, max_side: int) -> bytes:
    """Re-encodes without any metadata: EXIF (GPS, camera serial) is dropped."""
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=88, optimize=True)
    return buffer.getvalue()


# Markers kept when a JPEG is stored as it came: the picture and what decoding
# needs (APP0 JFIF, APP14 Adobe colour transform, before the first scan); every
# other APPn segment (EXIF with GPS and camera serials, XMP, ICC, maker notes)
# and comments go, as they do when a picture is re-encoded. Whatever follows
# the end of the picture (a second JPEG with its own EXIF, a Motion Photo's
# video) goes too.
_JPEG_KEEP_APP = {0xE0, 0xEE}
_JPEG_FRAME = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0..SOF15
_JPEG_TABLES = {0xC4, 0xCC, 0xDB, 0xDD}  # DHT, DAC, DQT, DRI
_JPEG_DNL = 0xDC
# In a scan's entropy-coded data FF00 is a stuffed FF and FFD0..FFD7 are restart
# markers: any other FF starts the next marker.
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]", re.DOTALL)


def jpeg_without_metadata(data: bytes, *, max_side: int) -> bytes | None:
    """A JPEG upload as stored, without re-encoding it: the same compressed
    picture with its metadata segments dropped. None when it must be
    re-encoded instead: not a plain JPEG, larger than ``max_side``, turned by
    its EXIF orientation, not RGB or greyscale, or not parsed to its end."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if (
                image.format != "JPEG"
                or image.mode not in ("RGB", "L")
                or max(image.size) > max_side
                or image.getexif().get(0x0112, 1) != 1
            ):
                return None
    except Exception:
        return None
    return _jpeg_picture(data)


def _jpeg_picture(data: bytes) -> bytes | None:
    """The segments of ``data`` a decoder needs, up to and with its first end
    of image (EOI); None for anything malformed or unexpected."""
    if data[:2] != b"\xff\xd8":
        return None
    kept, position, framed, scans = [b"\xff\xd8"], 2, False, 0
    while position + 2 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # end of image: nothing after it is kept
            return b"".join([*kept, b"\xff\xd9"]) if scans else None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker == 0xDA:  # start of scan: its header, then the picture data
            found = _JPEG_NEXT_MARKER.search(data, end) if framed else None
            if found is None:
                return None
            kept.append(data[position : found.start()])
            position, scans = found.start(), scans + 1
            continue
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn and comments
            if marker in _JPEG_KEEP_APP and not scans:
                kept.append(data[position:end])
        elif (marker in _JPEG_FRAME and not framed and not scans) or marker in _JPEG_TABLES:
            framed = framed or marker in _JPEG_FRAME
            kept.append(data[position:end])
        elif marker == _JPEG_DNL and scans:
            kept.append(data[position:end])
        else:
            return None
        position = end
    return None
