"""Classifies the landing page's example photo with the default model and
writes core/landing_example.json. Run once after the model is installed
(``make run`` does it): ``manage.py landing_example``."""

import json
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError

from classification.inference import classify
from core.landing import EXAMPLE_FILE, EXAMPLE_IMAGE
from models_registry.selectors import model_version_for_alias


def landing_example_compute(*, version) -> dict:
    image = Path(finders.find(EXAMPLE_IMAGE)).read_bytes()
    ranked = {lang: classify(image, version, top_k=5, language=lang) for lang in ("en", "es")}
    return {
        "image": EXAMPLE_IMAGE,
        "model": str(version),
        "classes": [
            {
                "key": en.key,
                "names": {"en": en.name, "es": es.name},
                "probability": round(en.probability, 4),
            }
            for en, es in zip(ranked["en"], ranked["es"], strict=True)
        ],
    }


class Command(BaseCommand):
    help = "Classify the landing page's example photo and store the result."

    def handle(self, *args, **options):
        version = model_version_for_alias(alias="default")
        if version is None:
            raise CommandError("No default model yet: run `make run` (or bootstrap_models) first.")
        example = landing_example_compute(version=version)
        EXAMPLE_FILE.write_text(json.dumps(example, ensure_ascii=False, indent=1) + "\n")
        top = example["classes"][0]
        self.stdout.write(f"{top['names']['en']} {top['probability']:.0%} -> {EXAMPLE_FILE}")
