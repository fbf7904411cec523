import os
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.accounts.factories import PASSWORD, UserFactory

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _media_root_cleanup():
    """Uploaded files of this run live in a temporary folder; remove it at the end."""
    import shutil

    from django.conf import settings

    yield
    if "picsort-test-media-" in str(settings.MEDIA_ROOT):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _english_by_default():
    """A request in Spanish leaves Spanish active in the thread; start each test fresh."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate limits live in the cache; one test's failures must not lock out the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stand_in(settings):
    """A local HTTP server standing in for the internet (tests/http_stand_in.py),
    reachable over http although it is on 127.0.0.1: the test-only allowances
    of core.fetch (off by default, refused by production settings)."""
    from tests import http_stand_in

    settings.FETCH_ALLOW_HTTP = True
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = http_stand_in.start()
    yield server
    http_stand_in.stop(server)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright; never a downloaded browser."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make here are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def camera_browser(browser):
    """A second chromium (same Playwright) whose camera is Chromium's fake one, a
    moving test pattern, granted without a prompt."""
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    )
    yield camera
    camera.close()


@pytest.fixture
def screenshot_dir() -> Path:
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# Models: the real pretrained EfficientNet-Lite0, converted once per machine.
# ------------------------------------------------------------------------------
MODEL_CACHE = ARTIFACTS / "model-cache"


@pytest.fixture(scope="session")
def pretrained_artifacts():
    """(keras bytes, onnx bytes, metrics) of the converted pretrained model.

    Converting takes ~15 s (TensorFlow); the result is cached under
    artifacts/model-cache keyed by the weights package's version.
    """
    import json
    from importlib.metadata import version as package_version

    from models_registry.pretrained import VARIANTS, convert_to_keras
    from models_registry.validation import validate_and_convert

    variant = VARIANTS["lite0"]
    cache = MODEL_CACHE / f"{variant.key}-{package_version(variant.package)}"
    keras_path, onnx_path, metrics_path = (
        cache / "model.keras",
        cache / "model.onnx",
        cache / "metrics.json",
    )
    if not (keras_path.exists() and onnx_path.exists() and metrics_path.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        convert_to_keras(variant=variant, destination=keras_path)
        result = validate_and_convert(model_path=keras_path, num_labels=1000)
        onnx_path.write_bytes(result.onnx)
        metrics_path.write_text(json.dumps({**result.metrics, "input_size": result.input_size}))
    return keras_path.read_bytes(), onnx_path.read_bytes(), json.loads(metrics_path.read_text())


@pytest.fixture
def imagenet_model(db, pretrained_artifacts):
    """The pretrained model registered as ready and pointed at by ``default``,
    the way bootstrap_models leaves it (files stored, label set in the DB)."""
    import hashlib

    from django.core.files.base import ContentFile

    from models_registry import services
    from models_registry.bootstrap import imagenet_label_set_ensure
    from models_registry.models import ModelVersion

    keras_bytes, onnx_bytes, metrics = pretrained_artifacts
    version = ModelVersion(
        name="EfficientNet-Lite0",
        label_set=imagenet_label_set_ensure(),
        source=ModelVersion.Source.PRETRAINED,
        status=ModelVersion.Status.READY,
        sha256=hashlib.sha256(keras_bytes).hexdigest(),
        onnx_sha256=hashlib.sha256(onnx_bytes).hexdigest(),
        input_size=metrics["input_size"],
        preprocessing=services.DEFAULT_PREPROCESSING,
        metrics=metrics,
    )
    version.file.save("model.keras", ContentFile(keras_bytes), save=False)
    version.onnx_file.save("model.onnx", ContentFile(onnx_bytes), save=False)
    version.save()
    services.model_alias_point(alias=services.DEFAULT_ALIAS, version=version)
    return version


def photo(name: str) -> bytes:
    """A real photograph shipped inside scikit-image (BSD licensed)."""
    from importlib.resources import files

    return (files("skimage") / "data" / name).read_bytes()
