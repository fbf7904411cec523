import pytest

from core.uploads import Upload
from tests.training.examples import TEXTURES, crops
from training import services


@pytest.fixture
def textures(user, imagenet_model):
    """A 3-class classifier with 8 real examples per class, not trained yet."""
    classifier = services.classifier_create(
        user=user, name="Texturas <b>&", class_names=list(TEXTURES)
    )
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            name: [Upload(f"{name}-{i}.jpg", data) for i, data in enumerate(crops(src, 8, seed=i))]
            for i, (name, src) in enumerate(TEXTURES.items())
        },
    )
    return classifier


@pytest.fixture
def trained(textures, user, django_capture_on_commit_callbacks):
    """``textures`` after one training run (through the task backend)."""
    with django_capture_on_commit_callbacks(execute=True):
        run, created = services.training_start(classifier=textures, user=user)
    assert created
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    textures.refresh_from_db()
    return textures, run
