"""Registry writes: versions, upload checks that store nothing on bad input,
alias moves that are atomic and audited."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.exceptions import ApplicationError
from models_registry import services
from models_registry.label_files import LabelData
from models_registry.models import AliasChange, LabelSet, ModelAlias, ModelVersion
from tests.models_registry.factories import LabelSetFactory
from tests.models_registry.keras_files import tiny_model, zip_bytes

pytestmark = pytest.mark.django_db


def _stored_files() -> set[str]:
    root = Path(default_storage.location) / "models"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_label_set_versions_by_name(user):
    first = LabelSetFactory(name="pets")
    second = LabelSetFactory(name="pets", classes=("cat", "dog"), user=user)
    assert (first.version, second.version) == (1, 2)
    assert second.labels.count() == 2
    assert list(second.labels.values_list("index", "key")) == [(0, "cat"), (1, "dog")]
    assert second.created_by == user


def test_label_set_needs_a_name():
    with pytest.raises(ApplicationError):
        services.label_set_create(name=" ", labels=[LabelData("a", "a"), LabelData("b", "b")])
    assert not LabelSet.objects.exists()


@pytest.fixture(scope="module")
def tiny_keras(tmp_path_factory) -> bytes:
    return tiny_model(tmp_path_factory.mktemp("m") / "tiny.keras").read_bytes()


def _upload(data: bytes, name="upload.keras", **kwargs) -> ModelVersion:
    label_set = kwargs.pop("label_set", None) or LabelSetFactory()
    return services.model_version_upload(
        name="tiny", file=ContentFile(data, name=name), label_set=label_set, enqueue=False, **kwargs
    )


def test_upload_stores_file_under_a_random_name_with_checksum(tiny_keras, user):
    version = _upload(tiny_keras, name="../../etc/evil name.keras", user=user)
    assert version.status == ModelVersion.Status.UPLOADED
    assert version.file.name.startswith("models/") and "evil" not in version.file.name
    assert len(version.sha256) == 64
    assert version.file.open("rb").read() == tiny_keras
    assert version.preprocessing["mean"] == [127.0, 127.0, 127.0]
    again = _upload(tiny_keras)
    assert again.version == 2


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"not a zip at all", "model.keras", "not_keras"),
        (b"PK\x03\x04 truncated", "model.keras", "not_keras"),
        (zip_bytes({"config.json": b"{}"}), "model.keras", "not_keras"),
        (
            zip_bytes({"config.json": b"{}", "model.weights.h5": b"", "../evil": b"x"}),
            "model.keras",
            "archive_unsafe_path",
        ),
        (zip_bytes({f"f{i}": b"" for i in range(60)}), "model.keras", "archive_too_many_members"),
        (
            zip_bytes({"config.json": b"{}", "model.weights.h5": b"\0" * 5_000_000}),
            "model.keras",
            "archive_bomb",
        ),
        (b"PK\x03\x04", "model.h5", "not_a_model"),
    ],
    ids=[
        "not-zip",
        "broken-zip",
        "missing-members",
        "zip-slip",
        "many-members",
        "zip-bomb",
        "wrong-extension",
    ],
)
def test_bad_uploads_store_nothing(data, name, code):
    label_set = LabelSetFactory()
    before = _stored_files()
    with pytest.raises(ApplicationError) as error:
        _upload(data, name=name, label_set=label_set)
    assert error.value.code == code
    assert not ModelVersion.objects.exists()
    assert _stored_files() == before


def test_upload_size_limit(tiny_keras, settings):
    settings.MODEL_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ApplicationError) as error:
        _upload(tiny_keras)
    assert error.value.status == 413


def _ready(version: ModelVersion) -> ModelVersion:
    version.status = ModelVersion.Status.READY
    version.onnx_sha256 = "0" * 64
    version.save()
    return version


def test_only_ready_versions_can_be_activated(tiny_keras, user):
    version = _upload(tiny_keras)
    with pytest.raises(ApplicationError) as error:
        services.model_alias_point(alias="default", version=version, user=user)
    assert error.value.code == "version_not_ready"
    assert not ModelAlias.objects.exists()


def test_activate_and_roll_back_are_recorded(tiny_keras, user, other_user):
    label_set = LabelSetFactory()
    v1 = _ready(_upload(tiny_keras, label_set=label_set))
    v2 = _ready(_upload(tiny_keras, label_set=label_set))

    services.model_alias_point(alias="default", version=v1, user=user)
    services.model_alias_point(alias="default", version=v2, user=other_user)
    assert ModelAlias.objects.get(name="default").version == v2
    # Pointing at the current version again is a no-op, not a history row.
    services.model_alias_point(alias="default", version=v2, user=other_user)
    assert AliasChange.objects.count() == 2

    alias = services.model_alias_rollback(alias="default", user=user)
    assert alias.version == v1
    last = AliasChange.objects.first()
    assert (last.action, last.from_version, last.to_version, last.changed_by) == (
        "rollback",
        v2,
        v1,
        user,
    )
    history = list(AliasChange.objects.values_list("action", flat=True))
    assert history == ["rollback", "activate", "activate"]


def test_rollback_without_history(tiny_keras, user):
    with pytest.raises(ApplicationError) as error:
        services.model_alias_rollback(alias="default", user=user)
    assert error.value.status == 404
    services.model_alias_point(alias="default", version=_ready(_upload(tiny_keras)), user=user)
    with pytest.raises(ApplicationError) as error:
        services.model_alias_rollback(alias="default", user=user)
    assert error.value.code == "nothing_to_roll_back"


def test_status_moves_only_forward(tiny_keras):
    from models_registry.validation_jobs import model_version_revalidate

    version = _upload(tiny_keras)
    with pytest.raises(ApplicationError):
        services.model_version_mark(version=version, status=ModelVersion.Status.READY)
    with pytest.raises(ApplicationError) as error:
        model_version_revalidate(version=_ready(_upload(tiny_keras)))
    assert error.value.code == "version_ready"


def test_ready_versions_need_an_onnx_artefact(tiny_keras):
    from django.db import IntegrityError, transaction

    version = _upload(tiny_keras)
    version.status = ModelVersion.Status.READY
    with pytest.raises(IntegrityError), transaction.atomic():
        version.save()
