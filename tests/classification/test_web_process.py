"""A web process that served pages and classifications never imports TensorFlow."""

import pytest

from tests.models_registry.test_worker import run_json_script, worker_env

SCRIPT = r"""
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from importlib.resources import files

from accounts.models import User
from classification import inference
from models_registry.selectors import model_version_for_alias

# Everything a web worker loads: the WSGI app and every URL module.
from config.wsgi import application  # noqa: F401
import config.urls  # noqa: F401

client = Client()
client.force_login(User.objects.get(email="web@example.com"))
urls = ["/", "/account/", "/classify/", "/api/v1/models/", "/api/v1/aliases/default/"]
statuses = [client.get(url).status_code for url in urls]
version = model_version_for_alias(alias="default")
top = inference.classify((files("skimage") / "data" / "coffee.png").read_bytes(), version)[0]
print(json.dumps({
    "statuses": statuses,
    "top": top.key,
    "tensorflow": "tensorflow" in sys.modules,
    "keras": "keras" in sys.modules,
    "tf2onnx": "tf2onnx" in sys.modules,
}))
"""


@pytest.mark.django_db(transaction=True)
def test_web_process_never_imports_tensorflow(imagenet_model):
    from tests.accounts.factories import UserFactory

    UserFactory(email="web@example.com")
    env = {**worker_env(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    report = run_json_script(SCRIPT, env)
    assert report["statuses"] == [200, 200, 200, 200, 200]
    assert report["top"] == "n07920052"  # it really classified
    assert report == {**report, "tensorflow": False, "keras": False, "tf2onnx": False}
