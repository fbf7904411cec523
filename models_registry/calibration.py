"""The photos an int8 variant is calibrated and checked on.

Twelve public-domain and CC0 photographs ship in ``data/calibration`` (their
sources and licences are in its README). Each gives deterministic views (a
seeded random crop, mirror and zoom), preprocessed like the version wants its
input: the first ``CALIBRATION_VIEWS`` calibrate the quantization, the next
``HELD_OUT_VIEWS`` are the held-out split its gate measures. Nothing is
downloaded; the same version always gets the same tensors.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from core.images import Preprocessing, to_tensor

PHOTOS_DIR = Path(__file__).resolve().parent / "data" / "calibration"
CALIBRATION_VIEWS = 64
HELD_OUT_VIEWS = 192
SEED = 20261202


def calibration_photos() -> list[Image.Image]:
    return [Image.open(path).convert("RGB") for path in sorted(PHOTOS_DIR.glob("*.jpg"))]


def _view(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A crop of 35 to 100 % of the photo's area, aspect 3:4 to 4:3, maybe mirrored."""
    width, height = image.size
    area, aspect = rng.uniform(0.35, 1.0) * width * height, rng.uniform(0.75, 4 / 3)
    crop_w = int(min(width, np.sqrt(area * aspect)))
    crop_h = int(min(height, np.sqrt(area / aspect)))
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    view = image.crop((left, top, left + crop_w, top + crop_h))
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return view


def calibration_views(spec: Preprocessing, *, count: int, offset: int = 0) -> np.ndarray:
    """``count`` preprocessed views (N, ...) starting at view number ``offset``:
    photos taken in turn, each view from its own seed."""
    photos = calibration_photos()
    tensors = []
    for number in range(offset, offset + count):
        rng = np.random.default_rng([SEED, number])
        tensors.append(to_tensor(_view(photos[number % len(photos)], rng), spec))
    return np.concatenate(tensors)


def calibration_split(spec: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """(calibration views, held-out views): no view is in both."""
    return (
        calibration_views(spec, count=CALIBRATION_VIEWS),
        calibration_views(spec, count=HELD_OUT_VIEWS, offset=CALIBRATION_VIEWS),
    )
