"""Writes to the model registry. Validation itself lives in ``validation.py``
and runs in a worker; nothing here imports TensorFlow."""

import hashlib
import logging
import zipfile
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from models_registry.label_files import LabelData, parse_label_file, validate_labels
from models_registry.models import AliasChange, Label, LabelSet, ModelAlias, ModelVersion

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "default"
# What the pretrained EfficientNet-Lite models expect (see MODEL_FACTS).
DEFAULT_PREPROCESSING = {
    "crop_fraction": 0.875,
    "mean": [127.0, 127.0, 127.0],
    "std": [128.0, 128.0, 128.0],
    "output": "logits",
}


# Label sets
# ------------------------------------------------------------------------------


@transaction.atomic
def label_set_create(
    *, name: str, labels: list[LabelData], description: str = "", user: User | None = None
) -> LabelSet:
    """A new label set, or the next version of one with the same name."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the label set a name."), code="name_required")
    labels = validate_labels(labels)
    # Serialise versions of one name: lock the existing rows of that name.
    list(LabelSet.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
    latest = LabelSet.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
    label_set = LabelSet.objects.create(
        name=name, version=latest + 1, description=description, created_by=user
    )
    Label.objects.bulk_create(
        Label(
            label_set=label_set,
            index=index,
            key=label.key,
            name=label.name,
            translations=label.translations,
        )
        for index, label in enumerate(labels)
    )
    return label_set


def label_set_import_file(
    *, name: str, filename: str, data: bytes, description: str = "", user: User | None = None
) -> LabelSet:
    labels = parse_label_file(filename=filename, data=data)
    return label_set_create(name=name, labels=labels, description=description, user=user)


# Model versions
# ------------------------------------------------------------------------------


def _sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def check_keras_archive(stream: IO[bytes]) -> None:
    """Cheap checks that run before anything is stored: a .keras file is a zip
    with a handful of known members and sane sizes."""
    stream.seek(0)
    if stream.read(4) != b"PK\x03\x04":
        raise ApplicationError(
            _("This is not a .keras model file (it is not a zip archive)."), code="not_keras"
        )
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise ApplicationError(
            _("The .keras file is damaged: %(error)s") % {"error": error}, code="not_keras"
        ) from error
    finally:
        stream.seek(0)
    if len(members) > settings.MODEL_MAX_ARCHIVE_MEMBERS:
        raise ApplicationError(
            _("The .keras file has too many members (%(count)d).") % {"count": len(members)},
            code="archive_too_many_members",
        )
    names = {member.filename for member in members}
    for member in members:
        if member.filename.startswith("/") or ".." in member.filename.split("/"):
            raise ApplicationError(
                _("The .keras file contains an unsafe path: %(name)s") % {"name": member.filename},
                code="archive_unsafe_path",
            )
    if not {"config.json", "model.weights.h5"} <= names:
        raise ApplicationError(
            _("The .keras file lacks config.json or model.weights.h5; save it with Keras 3."),
            code="not_keras",
        )
    total = sum(member.file_size for member in members)
    if total > settings.MODEL_MAX_UNCOMPRESSED_BYTES:
        raise ApplicationError(
            _("The .keras file unpacks to more than %(size)d MB.")
            % {"size": settings.MODEL_MAX_UNCOMPRESSED_BYTES // 2**20},
            code="archive_too_large",
        )
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > 200:
            raise ApplicationError(
                _("The .keras file is compressed suspiciously well (a zip bomb?)."),
                code="archive_bomb",
            )


def model_version_upload(
    *,
    name: str,
    file: File,
    label_set: LabelSet,
    user: User | None = None,
    preprocessing: dict | None = None,
    notes: str = "",
    source: str = ModelVersion.Source.UPLOAD,
    enqueue: bool = True,
) -> ModelVersion:
    """Stores an uploaded .keras file as a new version and queues its validation."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the model a name."), code="name_required")
    filename = getattr(file, "name", "") or ""
    if not filename.lower().endswith(".keras"):
        raise ApplicationError(_("Upload a .keras file (Keras 3 format)."), code="not_keras")
    if file.size is not None and file.size > settings.MODEL_MAX_UPLOAD_BYTES:
        raise ApplicationError(
            _("The model file is larger than %(size)d MB.")
            % {"size": settings.MODEL_MAX_UPLOAD_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    check_keras_archive(file)
    sha256 = _sha256_of(file)

    with transaction.atomic():
        list(
            ModelVersion.objects.select_for_update().filter(name=name).values_list("pk", flat=True)
        )
        latest = ModelVersion.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
        version = ModelVersion(
            name=name,
            version=latest + 1,
            label_set=label_set,
            source=source,
            sha256=sha256,
            preprocessing={**DEFAULT_PREPROCESSING, **(preprocessing or {})},
            notes=notes,
            created_by=user,
        )
        version.file.save("model.keras", file, save=False)
        try:
            version.save()
        except Exception:
            version.file.delete(save=False)  # no orphan file if the row fails
            raise
        if enqueue:
            transaction.on_commit(lambda: model_version_enqueue_validation(version=version))
    return version


def model_version_enqueue_validation(*, version: ModelVersion) -> None:
    from models_registry.tasks import model_version_validate_task

    model_version_validate_task.enqueue(version.pk)


def model_version_revalidate(*, version: ModelVersion) -> ModelVersion:
    if version.status != ModelVersion.Status.FAILED:
        raise ApplicationError(
            _("Only a failed version can be validated again."), code="version_not_failed"
        )
    version.status = ModelVersion.Status.UPLOADED
    version.error = ""
    version.progress = {}
    version.save(update_fields=["status", "error", "progress", "updated_at"])
    transaction.on_commit(lambda: model_version_enqueue_validation(version=version))
    return version


def model_version_mark(*, version: ModelVersion, status: str, **fields) -> None:
    """Moves a version along uploaded -> validating -> ready | failed."""
    allowed = {
        ModelVersion.Status.UPLOADED: {ModelVersion.Status.VALIDATING},
        ModelVersion.Status.VALIDATING: {
            ModelVersion.Status.READY,
            ModelVersion.Status.FAILED,
            ModelVersion.Status.VALIDATING,
        },
    }
    if status not in allowed.get(version.status, set()):
        raise ApplicationError(
            _("A %(old)s model version cannot become %(new)s.")
            % {"old": version.status, "new": status},
            code="bad_transition",
            status=409,
        )
    version.status = status
    for key, value in fields.items():
        setattr(version, key, value)
    if status == ModelVersion.Status.READY:
        version.validated_at = timezone.now()
    version.save()


# Aliases
# ------------------------------------------------------------------------------


@transaction.atomic
def model_alias_point(
    *,
    alias: str,
    version: ModelVersion,
    user: User | None = None,
    action: str = AliasChange.Action.ACTIVATE,
) -> ModelAlias:
    """Points ``alias`` at a ready version, atomically, and records the move."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.READY:
        raise ApplicationError(
            _("Only a ready model version can be activated."), code="version_not_ready", status=409
        )
    alias_obj = ModelAlias.objects.select_for_update().filter(name=alias).first()
    previous = alias_obj.version if alias_obj else None
    if previous == version:
        return alias_obj
    if alias_obj is None:
        alias_obj = ModelAlias.objects.create(name=alias, version=version, updated_by=user)
    else:
        alias_obj.version = version
        alias_obj.updated_by = user
        alias_obj.save(update_fields=["version", "updated_by", "updated_at"])
    AliasChange.objects.create(
        alias=alias_obj, action=action, from_version=previous, to_version=version, changed_by=user
    )
    logger.info("alias %s: %s -> %s by %s", alias, previous, version, user)
    return alias_obj


@transaction.atomic
def model_alias_rollback(*, alias: str, user: User | None = None) -> ModelAlias:
    """Points ``alias`` back at the version it pointed to before its last move."""
    alias_obj = ModelAlias.objects.select_for_update().filter(name=alias).first()
    if alias_obj is None:
        raise ApplicationError(
            _("There is no alias called “%(alias)s”.") % {"alias": alias},
            code="not_found",
            status=404,
        )
    last = alias_obj.changes.order_by("-changed_at", "-id").first()
    if last is None or last.from_version is None:
        raise ApplicationError(
            _("“%(alias)s” has no earlier version to roll back to.") % {"alias": alias},
            code="nothing_to_roll_back",
            status=409,
        )
    return model_alias_point(
        alias=alias, version=last.from_version, user=user, action=AliasChange.Action.ROLLBACK
    )
