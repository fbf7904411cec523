"""Idempotent set-up of the default label set and pretrained model."""

import json
import tempfile
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from models_registry import services
from models_registry.label_files import LabelData
from models_registry.models import LabelSet, ModelAlias, ModelVersion
from models_registry.pretrained import VARIANTS, convert_to_keras

IMAGENET_NAME = "ImageNet-1k"
IMAGENET_FILE = Path(__file__).resolve().parent / "data" / "imagenet1k.json"
GROUPINGS_DIR = Path(__file__).resolve().parent / "data" / "groupings"


def imagenet_labels() -> list[LabelData]:
    rows = json.loads(IMAGENET_FILE.read_text(encoding="utf-8"))
    return [
        LabelData(key=r["key"], name=r["name"], translations={"es": r["name_es"]}) for r in rows
    ]


def imagenet_label_set_ensure() -> LabelSet:
    labels = imagenet_labels()
    current = LabelSet.objects.filter(name=IMAGENET_NAME).order_by("-version").first()
    if current is not None:
        stored = list(current.labels.order_by("index").values_list("key", "name", "translations"))
        if stored == [(label.key, label.name, label.translations) for label in labels]:
            return current
    return services.label_set_create(
        name=IMAGENET_NAME,
        labels=labels,
        description="The 1000 ImageNet (ILSVRC-2012) classes, keyed by WordNet id.",
    )


def pretrained_model_ensure(*, variant_key: str = "lite0", activate: bool = True) -> ModelVersion:
    """Converts, validates and registers the pretrained model unless a ready one
    exists, with its int8 variant (``int8``); points the ``default`` alias at it
    when nothing else is active."""
    from models_registry.validation_jobs import model_version_validate

    variant = VARIANTS[variant_key]
    variant.weights_path()  # fails early, before anything is written, if not installed
    label_set = imagenet_label_set_ensure()
    version = (
        ModelVersion.objects.filter(
            name=variant.model_name,
            source=ModelVersion.Source.PRETRAINED,
            status=ModelVersion.Status.READY,
            label_set=label_set,
        )
        .order_by("-version")
        .first()
    )
    if version is None:
        with tempfile.TemporaryDirectory(prefix="pretrained-") as workdir:
            path = convert_to_keras(variant=variant, destination=Path(workdir) / "model.keras")
            with open(path, "rb") as handle:
                version = services.model_version_upload(
                    name=variant.model_name,
                    file=File(handle, name="model.keras"),
                    label_set=label_set,
                    source=ModelVersion.Source.PRETRAINED,
                    notes=f"Converted from the PyPI package {variant.package}.",
                    enqueue=False,
                )
        version = model_version_validate(version_id=version.pk)
        if version.status != ModelVersion.Status.READY:
            raise ApplicationError(
                _("The pretrained model failed validation: %(error)s") % {"error": version.error},
                code="bootstrap_failed",
            )
    if settings.MODEL_INT8_VARIANTS and version.int8_gate.get("reason", "off") == "off":
        from models_registry.int8 import model_version_int8_build  # made without one

        version = model_version_int8_build(version=version)
    if activate and not ModelAlias.objects.filter(name=services.DEFAULT_ALIAS).exists():
        services.model_alias_point(alias=services.DEFAULT_ALIAS, version=version)
    return version


class GroupingFile(NamedTuple):
    name: str
    description: str
    groups: list[services.GroupData]
    translations: dict[str, str]  # the grouping's own name: {"es": ...}


def grouping_file_read(path: Path) -> GroupingFile:
    """A grouping file: ``{"name", "translations": {"es": ...}, "description",
    "groups": [{"key", "name", "translations": {"es": ...}, "members": [class
    keys], "catch_all": bool}]}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    groups = [
        services.GroupData(
            key=g["key"],
            name=g["name"],
            translations=g.get("translations", {}),
            members=list(g.get("members", [])),
            catch_all=bool(g.get("catch_all", False)),
        )
        for g in data["groups"]
    ]
    return GroupingFile(
        data["name"], data.get("description", ""), groups, data.get("translations", {})
    )


def groupings_ensure(*, base_version: ModelVersion) -> list[ModelVersion]:
    """The groupings shipped with the project, over ``base_version``, unless a
    grouping of that name already exists (an admin's newer version is kept)."""
    made = []
    for path in sorted(GROUPINGS_DIR.glob("*.json")):
        name, description, groups, translations = grouping_file_read(path)
        existing = (
            ModelVersion.objects.filter(
                name=name, source=ModelVersion.Source.GROUPING, owner__isnull=True
            )
            .order_by("-version")
            .first()
        )
        if existing is None:
            existing = services.grouping_create(
                name=name,
                base_version=base_version,
                groups=groups,
                description=description,
                translations=translations,
            )
        made.append(existing)
    return made
