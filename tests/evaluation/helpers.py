"""Photos of plain colours, zips of them, and classifying one as a user would."""

import io
import zipfile

from PIL import Image

from classification import services as classification
from classification.models import Prediction
from tests.classification.images import encode

COLOURS = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}


def zip_of(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def colour_photos(per_colour: int = 3) -> dict[str, bytes]:
    return {
        f"{name}/{n}.png": encode(Image.new("RGB", (40 + n, 30), rgb), "PNG")
        for name, rgb in COLOURS.items()
        for n in range(per_colour)
    }


def classify_colour(user, colour: str, *, store: bool = True) -> Prediction:
    """A photo of ``colour`` classified through ``default``, kept when ``store``."""
    version = classification.model_version_resolve(user=user, model="default")
    photo = encode(Image.new("RGB", (40, 30), COLOURS[colour]), "PNG")
    outcome = classification.classify_uploads_each(
        user=user,
        uploads=[classification.Upload(f"{colour}.png", photo)],
        version=version,
        store=store,
        alias=classification.alias_of("default"),
    )
    return outcome.predictions[0]
