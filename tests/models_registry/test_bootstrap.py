"""``manage.py bootstrap_models``: converts the real weights once, then is a no-op."""

import io

import pytest
from django.core.management import call_command

from classification import inference
from models_registry import services
from models_registry.models import LabelSet, ModelAlias, ModelVersion
from tests.conftest import photo

pytestmark = pytest.mark.django_db


def test_bootstrap_converts_registers_activates_and_is_idempotent(user):
    out = io.StringIO()
    call_command("bootstrap_models", stdout=out)
    version = ModelVersion.objects.get(source=ModelVersion.Source.PRETRAINED)
    assert version.status == ModelVersion.Status.READY, version.error
    assert version.source == ModelVersion.Source.PRETRAINED
    assert version.label_set.labels.count() == 1000
    assert ModelAlias.objects.get(name="default").version == version
    assert "is ready" in out.getvalue()
    assert inference.classify(photo("camera.png"), version)[0].key == "n04485082"  # tripod
    # The two shipped groupings of its classes come along, ready to use.
    groupings = ModelVersion.objects.filter(source=ModelVersion.Source.GROUPING)
    assert {g.name for g in groupings} == {"Animals, vehicles, food, landscapes", "Pets"}
    assert all(g.base_version == version and g.is_ready for g in groupings)
    pets = groupings.get(name="Pets")
    assert inference.classify(photo("chelsea.png"), pets, language="es")[0].name == "Gato"

    # An administrator points default elsewhere; bootstrapping again changes nothing.
    other = ModelVersion.objects.create(
        name="other",
        label_set=version.label_set,
        status=ModelVersion.Status.READY,
        sha256=version.sha256,
        onnx_sha256=version.onnx_sha256,
        file=version.file.name,
        onnx_file=version.onnx_file.name,
        preprocessing=version.preprocessing,
    )
    services.model_alias_point(alias="default", version=other, user=user)
    call_command("bootstrap_models", stdout=io.StringIO())
    assert ModelVersion.objects.count() == 2 + 2
    assert LabelSet.objects.count() == 1 + 2
    assert ModelAlias.objects.get(name="default").version == other


def test_missing_weights_package_is_a_clear_error(monkeypatch):
    from django.core.management.base import CommandError

    from models_registry.pretrained import VARIANTS, Variant

    missing = Variant(
        "lite9",
        "EfficientNet-Lite9",
        "efficientnet-lite9-pytorch-model",
        "efficientnet_lite9_pytorch_model",
        "EfficientnetLite9ModelFile",
        300,
    )
    monkeypatch.setitem(VARIANTS, "lite9", missing)
    with pytest.raises(CommandError, match="Install the package efficientnet-lite9-pytorch-model"):
        call_command("bootstrap_models", "--variant", "lite9", stdout=io.StringIO())
    assert not ModelVersion.objects.exists()
    assert not LabelSet.objects.exists()
