"""Real example images for training tests: crops of scikit-image's photographs
of textures (brick, grass, gravel) -- different pictures of the same material."""

import io
import zipfile
from importlib.resources import files

import numpy as np
from PIL import Image, ImageEnhance

TEXTURES = {"ladrillo": "brick.png", "hierba": "grass.png", "grava": "gravel.png"}


def crops(source: str, count: int, seed: int = 0, size: int = 160) -> list[bytes]:
    """``count`` JPEGs cut from random places and scales of one photograph."""
    rng = np.random.default_rng(seed)
    image = Image.open(io.BytesIO((files("skimage") / "data" / source).read_bytes()))
    image = image.convert("RGB")
    width, height = image.size
    out = []
    for _ in range(count):
        side = int(rng.uniform(0.3, 0.6) * min(width, height))
        x, y = rng.integers(0, width - side), rng.integers(0, height - side)
        crop = image.crop((x, y, x + side, y + side)).resize((size, size))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.8, 1.2))
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def texture_zip(per_class: int, seed: int = 0, root: str = "") -> bytes:
    """A zip with one folder per class, as a user would make it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, source) in enumerate(TEXTURES.items()):
            for number, data in enumerate(crops(source, per_class, seed=seed + index)):
                archive.writestr(f"{root}{name}/{number}.jpg", data)
    return buffer.getvalue()
