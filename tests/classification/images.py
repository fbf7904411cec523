"""Image files made on the fly for preprocessing tests."""

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(width: int = 640, height: int = 480, *, seed: int = 0, **params) -> bytes:
    rng = np.random.default_rng(seed)
    # Smooth content compresses like a photo; noise would make huge files.
    small = rng.integers(0, 255, (max(height // 40, 2), max(width // 40, 2), 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)
    return encode(image, "JPEG", quality=90, **params)
