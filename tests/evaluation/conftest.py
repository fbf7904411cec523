import pytest
from django.core.files.base import ContentFile

from models_registry import services as registry
from models_registry.validation_jobs import model_version_validate
from tests.evaluation.helpers import COLOURS
from tests.models_registry import onnx_files
from tests.models_registry.factories import LabelSetFactory
from tests.training.conftest import textures, trained  # noqa: F401  (a trained classifier)


def colour_models() -> list:
    """The right colour model, and one that answers blue for green (ONNX, ready)."""
    label_set = LabelSetFactory(name="colours", classes=tuple(COLOURS))
    versions = []
    for confuse in (False, True):
        version = registry.model_version_upload(
            name="colour-means",
            file=ContentFile(onnx_files.colour_means(confuse_green=confuse), name="m.onnx"),
            label_set=label_set,
            preprocessing={"mean": "100,100,100", "std": "50,50,50"},
            enqueue=False,
        )
        versions.append(model_version_validate(version_id=version.pk))
    assert all(v.status == "ready" for v in versions), [v.error for v in versions]
    return versions


@pytest.fixture
def colours_live(db):
    """``default`` answers colours with the right model; a worse one waits."""
    good, worse = colour_models()
    registry.model_alias_point(alias="default", version=good)
    return good, worse
