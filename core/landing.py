"""The landing page's example: a real photo shipped in static/img and the
classes the default model gave it, computed once by
``manage.py landing_example`` and stored in landing_example.json (the page
never runs the model; tests/core/test_landing.py checks the file is true)."""

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

EXAMPLE_FILE = Path(__file__).with_name("landing_example.json")
EXAMPLE_IMAGE = "img/example-coffee.jpg"  # scikit-image's coffee.png, CC0 (Rachel Michetti)


@cache
def _stored() -> dict:
    return json.loads(EXAMPLE_FILE.read_text())


def landing_example() -> dict:
    """The photo, the model that answered and its top classes, named in the
    current language (English when a name is missing)."""
    stored = _stored()
    language = (get_language() or "en").split("-")[0]
    return {
        "image": stored["image"],
        "model": stored["model"],
        "classes": [
            {
                "name": row["names"].get(language) or row["names"]["en"],
                "probability": row["probability"],
                "percent": f"{row['probability']:.0%}" if row["probability"] >= 0.01 else "<1%",
            }
            for row in stored["classes"]
        ],
    }
