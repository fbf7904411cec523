"""The engine: sessions cached per process by SHA-256, thread-safe, and
refusing versions that are not ready or whose file was tampered with."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile

from classification import inference
from core.exceptions import ApplicationError
from models_registry import services
from models_registry.models import ModelVersion
from tests.conftest import photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    inference.sessions.clear()
    yield
    inference.sessions.clear()


def _copy_version(source: ModelVersion, **changes) -> ModelVersion:
    version = ModelVersion(
        name=source.name,
        version=ModelVersion.objects.filter(name=source.name).count() + 1,
        label_set=source.label_set,
        source=source.source,
        status=changes.pop("status", ModelVersion.Status.READY),
        sha256=source.sha256,
        onnx_sha256=source.onnx_sha256,
        input_size=source.input_size,
        preprocessing=source.preprocessing,
    )
    version.file.save("m.keras", ContentFile(source.file.open("rb").read()), save=False)
    onnx = changes.pop("onnx", None) or source.onnx_file.open("rb").read()
    version.onnx_file.save("m.onnx", ContentFile(onnx), save=False)
    for key, value in changes.items():
        setattr(version, key, value)
    version.save()
    return version


def test_a_version_is_loaded_once_per_process(imagenet_model):
    image = photo("coffee.png")
    first = inference.classify(image, imagenet_model)
    second = inference.classify(image, imagenet_model)
    assert len(inference.sessions) == 1
    assert first == second


def test_sessions_are_keyed_by_checksum_so_activation_needs_no_restart(imagenet_model):
    import hashlib

    import onnx

    inference.classify(photo("coffee.png"), imagenet_model)
    same_file = _copy_version(imagenet_model)
    inference.classify(photo("coffee.png"), same_file)
    assert len(inference.sessions) == 1  # same checksum, same session

    # The same network saved with other metadata is another file: a new session.
    proto = onnx.load_from_string(imagenet_model.onnx_file.open("rb").read())
    proto.doc_string = "retrained"
    data = proto.SerializeToString()
    other = _copy_version(imagenet_model, onnx=data, onnx_sha256=hashlib.sha256(data).hexdigest())
    assert other.onnx_sha256 != imagenet_model.onnx_sha256
    assert inference.classify(photo("coffee.png"), other)[0].key == "n07920052"
    assert len(inference.sessions) == 2


def test_a_version_that_is_not_ready_is_refused(imagenet_model):
    pending = _copy_version(imagenet_model, status=ModelVersion.Status.VALIDATING)
    with pytest.raises(ApplicationError) as error:
        inference.classify(photo("coffee.png"), pending)
    assert error.value.code == "model_not_ready"
    assert error.value.status == 409


def test_a_tampered_model_file_is_refused(imagenet_model):
    onnx = bytearray(imagenet_model.onnx_file.open("rb").read())
    onnx[-1] ^= 0xFF
    tampered = _copy_version(imagenet_model, onnx=bytes(onnx))
    with pytest.raises(ApplicationError) as error:
        inference.classify(photo("coffee.png"), tampered)
    assert error.value.code == "model_corrupt"
    assert len(inference.sessions) == 0


def test_parallel_requests_share_one_session_and_agree(imagenet_model):
    images = [photo(name) for name in ("coffee.png", "chelsea.png", "camera.png")] * 4
    inference.classify(images[0], imagenet_model, language="en")  # labels, session cached
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(
                lambda data: inference.classify(data, imagenet_model, top_k=1, language="en"),
                images,
            )
        )
    assert len(inference.sessions) == 1
    assert [r[0].key for r in results[:3]] * 4 == [r[0].key for r in results]


def test_alias_moves_are_seen_by_the_next_classification(imagenet_model, user):
    from models_registry.selectors import model_version_for_alias

    newer = _copy_version(imagenet_model)
    services.model_alias_point(alias="default", version=newer, user=user)
    assert model_version_for_alias(alias="default") == newer
    ranked = inference.classify(photo("coffee.png"), model_version_for_alias(alias="default"))
    assert ranked[0].key == "n07920052"


def test_top_k_is_bounded_by_the_number_of_classes(imagenet_model):
    assert len(inference.classify(photo("coffee.png"), imagenet_model, top_k=0)) == 1
    assert len(inference.classify(photo("coffee.png"), imagenet_model, top_k=5000)) == 1000
