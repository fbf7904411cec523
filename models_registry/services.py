"""Writes to the model registry. Validation itself lives in ``validation.py``
and runs in a worker; nothing here imports TensorFlow."""

import hashlib
import logging
import zipfile
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.storage import storage_errors
from models_registry import selectors
from models_registry.label_files import LabelData, parse_label_file, validate_labels
from models_registry.model_files import (
    KERAS_PREPROCESSING,
    model_format_of,
    preprocessing_declared,
)
from models_registry.models import AliasChange, Label, LabelSet, ModelAlias, ModelVersion

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "default"
# What the pretrained EfficientNet-Lite models expect (see MODEL_FACTS).
DEFAULT_PREPROCESSING = KERAS_PREPROCESSING


# Label sets
# ------------------------------------------------------------------------------


@transaction.atomic
def label_set_create(
    *,
    name: str,
    labels: list[LabelData],
    description: str = "",
    user: User | None = None,
    owner: User | None = None,
) -> LabelSet:
    """A new label set, or the next version of one with the same name. An
    ``owner``'s label set (a user's own classifier) is private and unnumbered."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the label set a name."), code="name_required")
    labels = validate_labels(labels)
    label_set = LabelSet.objects.create(
        name=name,
        version=1 if owner else _next_version_number(LabelSet, name),
        description=description,
        created_by=user,
        owner=owner,
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


@storage_errors()
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
    """Stores an uploaded model file (.keras, or .onnx with its declared
    preprocessing: ``model_files``) as a new version and queues its validation."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the model a name."), code="name_required")
    model_format = model_format_of(getattr(file, "name", "") or "")
    spec = preprocessing_declared(model_format=model_format, declared=preprocessing)
    if file.size is not None and file.size > settings.MODEL_MAX_UPLOAD_BYTES:
        raise ApplicationError(
            _("The model file is larger than %(size)d MB.")
            % {"size": settings.MODEL_MAX_UPLOAD_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    if model_format == ModelVersion.Format.KERAS:
        check_keras_archive(file)
    sha256 = _sha256_of(file)

    with transaction.atomic():
        version = ModelVersion(
            name=name,
            version=_next_version_number(ModelVersion, name),
            label_set=label_set,
            source=source,
            format=model_format,
            sha256=sha256,
            preprocessing=spec,
            notes=notes,
            created_by=user,
        )
        version.file.save(f"model.{model_format}", file, save=False)
        try:
            version.save()
        except Exception:
            version.file.delete(save=False)  # no orphan file if the row fails
            raise
        if enqueue:
            from models_registry.validation_jobs import model_validation_start

            model_validation_start(version=version)
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
    based_on: dict | None = None,
) -> ModelAlias:
    """Points ``alias`` at a ready version, atomically, and records the move
    (with ``based_on``: the reports that justified it, e.g. a replay)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.READY:
        raise ApplicationError(
            _("Only a ready model version can be activated."), code="version_not_ready", status=409
        )
    if version.owner_id is not None:
        raise ApplicationError(
            _("A user's own classifier cannot be shared through an alias."),
            code="version_private",
            status=409,
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
        alias=alias_obj,
        action=action,
        from_version=previous,
        to_version=version,
        changed_by=user,
        based_on=based_on or {},
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


def _next_version_number(model, name: str) -> int:
    """Under a row lock on that name, so two writers never pick the same number."""
    rows = model.objects.filter(name=name, owner__isnull=True)
    list(rows.select_for_update().values_list("pk", flat=True))
    return (rows.aggregate(v=Max("version"))["v"] or 0) + 1


@transaction.atomic
def model_version_create_ready(
    *,
    name: str,
    version: int | None = None,
    label_set: LabelSet,
    keras: bytes,
    onnx: bytes,
    source: str,
    input_size: int,
    preprocessing: dict,
    base_version: ModelVersion | None = None,
    owner: User | None = None,
    metrics: dict | None = None,
    notes: str = "",
    confidence_threshold: float | None = None,
    distance_threshold: float | None = None,
) -> ModelVersion:
    """Registers a model made and checked on the site (a trained classifier):
    both files are stored and the version is ready at once."""
    version = ModelVersion(
        name=name,
        version=version or _next_version_number(ModelVersion, name),
        label_set=label_set,
        source=source,
        status=ModelVersion.Status.READY,
        sha256=hashlib.sha256(keras).hexdigest(),
        onnx_sha256=hashlib.sha256(onnx).hexdigest(),
        input_size=input_size,
        preprocessing=preprocessing,
        base_version=base_version,
        owner=owner,
        created_by=owner,
        metrics=metrics or {},
        notes=notes,
        confidence_threshold=confidence_threshold,
        distance_threshold=distance_threshold,
        validated_at=timezone.now(),
    )
    version.file.save("model.keras", ContentFile(keras), save=False)
    version.onnx_file.save("model.onnx", ContentFile(onnx), save=False)
    try:
        version.save()
    except Exception:
        version.file.delete(save=False)
        version.onnx_file.delete(save=False)
        raise
    return version


# Groupings: a label set made of groups of another model's classes
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupData:
    key: str
    name: str
    members: list[str]
    translations: dict = field(default_factory=dict)
    catch_all: bool = False


def _grouping_error(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_grouping")


def _check_groups(groups: list[GroupData], base_keys: set[str]) -> None:
    if len(groups) < 2:
        raise _grouping_error(_("A grouping needs at least two groups."))
    if sum(group.catch_all for group in groups) > 1:
        raise _grouping_error(_("Only one group can collect the remaining classes."))
    claimed: dict[str, str] = {}
    for group in groups:
        if not group.catch_all and not group.members:
            raise _grouping_error(
                _("The group “%(group)s” has no classes.") % {"group": group.name}
            )
        unknown = [key for key in group.members if key not in base_keys]
        if unknown:
            raise _grouping_error(
                _("The group “%(group)s” lists classes the model does not have: %(keys)s")
                % {"group": group.name, "keys": ", ".join(unknown[:5])}
            )
        for key in group.members:
            if key in claimed and claimed[key] != group.key:
                raise _grouping_error(
                    _("The class %(key)s is in two groups: “%(first)s” and “%(second)s”.")
                    % {"key": key, "first": claimed[key], "second": group.name}
                )
            claimed[key] = group.name


@transaction.atomic
def grouping_create(
    *,
    name: str,
    base_version: ModelVersion,
    groups: list[GroupData],
    description: str = "",
    translations: dict[str, str] | None = None,
    user: User | None = None,
) -> ModelVersion:
    """A grouped label set over ``base_version``'s classes, and the ready model
    version that classifies with it (it runs the base's network, so nothing is
    converted or validated again). The same name again makes the next version.
    ``translations``: the grouping's own name in other languages ({"es": ...})."""
    if base_version.status != ModelVersion.Status.READY:
        raise _grouping_error(_("Choose a ready model to group."))
    if base_version.label_set.grouping_of_id is not None or base_version.owner_id is not None:
        raise _grouping_error(_("Only a shared model with its own classes can be grouped."))
    base_labels = {label.key: label for label in base_version.label_set.labels.all()}
    _check_groups(groups, set(base_labels))
    label_set = label_set_create(
        name=name,
        labels=[LabelData(key=g.key, name=g.name, translations=g.translations) for g in groups],
        description=description,
        user=user,
    )
    label_set.grouping_of = base_version.label_set
    label_set.translations = {code: text.strip() for code, text in (translations or {}).items()}
    label_set.save(update_fields=["grouping_of", "translations", "updated_at"])
    for label, group in zip(label_set.labels.order_by("index"), groups, strict=True):
        if group.catch_all:
            label.catch_all = True
            label.save(update_fields=["catch_all"])
        label.members.set([base_labels[key] for key in group.members])
    # Hedged answers use groupings as broader classes: from now on, everywhere.
    selectors.broader_classes_forget()
    transaction.on_commit(selectors.broader_classes_forget)
    return ModelVersion.objects.create(
        name=label_set.name,
        version=_next_version_number(ModelVersion, label_set.name),
        label_set=label_set,
        source=ModelVersion.Source.GROUPING,
        status=ModelVersion.Status.READY,
        file=base_version.file.name,
        sha256=base_version.sha256,
        onnx_file=base_version.onnx_file.name,
        onnx_sha256=base_version.onnx_sha256,
        input_size=base_version.input_size,
        preprocessing=base_version.preprocessing,
        base_version=base_version,
        metrics={"groups": len(groups)},
        notes=description,
        created_by=user,
        validated_at=timezone.now(),
    )


@transaction.atomic
def owned_model_version_delete(*, version: ModelVersion) -> None:
    """Deletes a user's own version (a trained classifier) and its private label
    set; apps remove what it produced when told (``owned_version_deleting``)."""
    from models_registry.signals import owned_version_deleting

    if version.owner_id is None:
        raise ApplicationError(
            _("Shared model versions are kept."), code="version_shared", status=409
        )
    owned_version_deleting.send(sender=ModelVersion, version=version)
    label_set = version.label_set
    version.delete()
    if label_set.owner_id is not None and not label_set.model_versions.exists():
        label_set.delete()
