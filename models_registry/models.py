"""What images are classified into (label sets) and by what (model versions).

A ``ModelVersion`` is immutable once ready; a ``ModelAlias`` such as ``default``
points at one ready version, and every move of an alias is recorded in
``AliasChange`` so it can be audited and rolled back.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, gettext_noop, pgettext
from django.utils.translation import gettext_lazy as _

from core.models import LeasedJob, TimeStampedModel


def _model_upload_to(instance: "ModelVersion", filename: str) -> str:
    # Random names: the user's filename never reaches the storage path.
    return f"models/{uuid.uuid4().hex}/model.{instance.format or 'keras'}"


def _onnx_upload_to(instance: "ModelVersion", filename: str) -> str:
    return f"models/{uuid.uuid4().hex}/model.onnx"


def _int8_upload_to(instance: "ModelVersion", filename: str) -> str:
    return f"models/{uuid.uuid4().hex}/model.int8.onnx"


def _owner_field() -> models.ForeignKey:
    """Set for a user's own classifier (and its classes): private to that user,
    deleted with the account. Empty: shared."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )


def _created_by_field() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )


class LabelSet(TimeStampedModel):
    """An ordered list of classes. A new upload under the same name is a new version."""

    name = models.CharField(_("name"), max_length=100)
    # {"es": "Mascotas", ...}; English lives in ``name`` (as for a Label).
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    description = models.TextField(_("description"), blank=True)
    # A grouping: each label is a group of classes of this other label set, and
    # a prediction sums its members' probabilities.
    grouping_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groupings",
        verbose_name=_("grouping of"),
    )
    owner = _owner_field()
    created_by = _created_by_field()

    class Meta:
        verbose_name = _("label set")
        verbose_name_plural = _("label sets")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                condition=models.Q(owner__isnull=True),
                name="labelset_name_version_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_in()} v{self.version}"

    def name_in(self, language: str | None = None) -> str:
        """The name in ``language`` (default: the active one), else English."""
        return _translated(self.name, self.translations, language)


def _translated(name: str, translations: dict, language: str | None) -> str:
    language = (language or get_language() or "en").split("-")[0]
    return translations.get(language) or name


class Label(models.Model):
    label_set = models.ForeignKey(
        LabelSet, on_delete=models.CASCADE, related_name="labels", verbose_name=_("label set")
    )
    index = models.PositiveIntegerField(_("index"))
    key = models.CharField(_("key"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    # {"es": "gato atigrado", ...}; English lives in ``name``.
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    # Only in a grouping: the classes of the grouped set this group sums, or,
    # for the one catch-all group, every class no other group claims.
    members = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="groups", verbose_name=_("members")
    )
    catch_all = models.BooleanField(
        _("catch-all"),
        default=False,
        help_text=_("Collects every class that no other group lists."),
    )

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["label_set", "index"]
        constraints = [
            models.UniqueConstraint(fields=["label_set", "index"], name="label_index_unique"),
            models.UniqueConstraint(fields=["label_set", "key"], name="label_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.index}: {self.name}"

    def name_in(self, language: str | None = None) -> str:
        return _translated(self.name, self.translations, language)


class ModelVersion(TimeStampedModel):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        VALIDATING = "validating", _("validating")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        KERAS = "keras", _("Keras (.keras)")
        ONNX = "onnx", _("ONNX (.onnx)")

    class Source(models.TextChoices):
        PRETRAINED = "pretrained", _("pretrained")
        UPLOAD = "upload", _("uploaded by an administrator")
        TRAINING = "training", _("trained on the site")
        GROUPING = "grouping", _("grouping of another model's classes")

    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    label_set = models.ForeignKey(
        LabelSet,
        on_delete=models.RESTRICT,  # gone only with its owner, together with the version
        related_name="model_versions",
        verbose_name=_("label set"),
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.UPLOAD
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.UPLOADED, db_index=True
    )
    error = models.TextField(_("error"), blank=True)
    progress = models.JSONField(_("progress"), default=dict, blank=True)

    format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.KERAS
    )
    # The uploaded file: a .keras model, or an .onnx one (then onnx_file is its
    # validated copy).
    file = models.FileField(_("model file"), upload_to=_model_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    onnx_file = models.FileField(
        _("ONNX file"), upload_to=_onnx_upload_to, max_length=255, blank=True
    )
    onnx_sha256 = models.CharField(_("ONNX SHA-256"), max_length=64, blank=True)

    # The int8 variant (static quantization, see ``quantization``) and its gate:
    # {"passed", "agreement", "accuracy_fp32", "accuracy_int8", "photos",
    # "labelled", "measured_on", "reason"}; served only when it passed.
    int8_file = models.FileField(
        _("int8 ONNX file"), upload_to=_int8_upload_to, max_length=255, blank=True
    )
    int8_sha256 = models.CharField(_("int8 ONNX SHA-256"), max_length=64, blank=True)
    int8_gate = models.JSONField(_("int8 gate"), default=dict, blank=True)

    input_size = models.PositiveIntegerField(_("input size"), default=224)
    # {"resize": 256, "crop": 224, "mean": [...], "std": [...], "output": "logits"}
    preprocessing = models.JSONField(_("preprocessing"), default=dict)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # A grouping runs its base version's network; a trained classifier records
    # the backbone it was trained on.
    base_version = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="derived_versions",
        verbose_name=_("base version"),
    )
    owner = _owner_field()
    # Below this top probability the answer is "none of these" (a serving
    # setting the owner may tune; the weights themselves never change).
    confidence_threshold = models.FloatField(
        _("confidence threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )

    # A trained classifier's model also answers each photo's distance to its
    # examples (cosine, to the nearest class centroid): beyond this the answer
    # is "none of these" (fitted on the validation photos; the owner may tune it).
    distance_threshold = models.FloatField(
        _("distance threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
    )

    created_by = _created_by_field()
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["name", "-version"]
        constraints = [
            # Shared versions are unique by name; a user's own classifiers are
            # told apart by their owner's classifier, so only shared ones count.
            models.UniqueConstraint(
                fields=["name", "version"],
                condition=models.Q(owner__isnull=True),
                name="modelversion_name_version_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(onnx_sha256=""),
                name="modelversion_ready_has_onnx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_in()} v{self.version}"

    def name_in(self, language: str | None = None) -> str:
        """A grouping is named after its label set, shown in ``language``."""
        if self.source == self.Source.GROUPING:
            return self.label_set.name_in(language)
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def usable_by(self, user) -> bool:
        return self.owner_id is None or (user is not None and self.owner_id == user.pk)


class ModelAlias(models.Model):
    """A name (``default``, ``staging``...) that points at one ready version."""

    name = models.SlugField(_("name"), max_length=50, unique=True)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="aliases", verbose_name=_("version")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("model alias")
        verbose_name_plural = _("model aliases")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.version}"

    @property
    def display_name(self) -> str:
        """The alias as people read it: the built-in "default" in their language."""
        return pgettext("model alias", "default") if self.name == "default" else self.name


class AliasChange(models.Model):
    """One move of an alias: who pointed it where, from where, and when."""

    class Action(models.TextChoices):
        ACTIVATE = "activate", _("activate")
        ROLLBACK = "rollback", _("roll back")

    alias = models.ForeignKey(
        ModelAlias, on_delete=models.CASCADE, related_name="changes", verbose_name=_("alias")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from version"),
    )
    to_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("to version")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    # What the move was based on: {"replay": id, "changed": n, "evaluation": id,
    # "accuracy": 0.91, ...} (ids of evaluation's reports; empty for a plain move).
    based_on = models.JSONField(_("based on"), default=dict, blank=True)

    class Meta:
        verbose_name = _("alias change")
        verbose_name_plural = _("alias changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.alias.name}: {self.from_version} → {self.to_version}"


class Grouping(LabelSet):
    """Label sets that group another model's classes (their own admin page)."""

    class Meta:
        proxy = True
        verbose_name = _("grouped label set")
        verbose_name_plural = _("grouped label sets")


class ModelValidation(LeasedJob):
    """One validation of an uploaded model file, run by a models worker in a
    sandboxed subprocess. A worker that dies leaves an expired lease: the sweep
    runs it again (at most MODEL_VALIDATION_MAX_ATTEMPTS times), then the
    version fails with the reason, never stays "validating" forever."""

    lease_setting = "MODEL_VALIDATION_LEASE_SECONDS"
    attempts_setting = "MODEL_VALIDATION_MAX_ATTEMPTS"
    gave_up_message = gettext_noop(
        "The validation stopped %(count)d times without finishing "
        "(its worker was stopped, perhaps for using too much memory)."
    )

    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.CASCADE,
        related_name="validations",
        verbose_name=_("model version"),
    )

    class Meta:
        verbose_name = _("model validation")
        verbose_name_plural = _("model validations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_validation_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} validation #{self.pk}"

    def enqueue(self, *, delay: float = 0) -> None:
        from core.jobs import enqueue_later
        from models_registry.tasks import model_validation_task

        enqueue_later(model_validation_task, self.pk, delay=delay)

    def on_finished(self) -> None:
        """A validation that ended failed (given up by the sweep, say) fails
        its version with the reason."""
        if self.status == self.Status.FAILED:
            self.fail_version(self.error)

    def fail_version(self, reason: str) -> None:
        """The version fails with ``reason``, unless it was decided already or
        another validation of it is under way."""
        others = ModelValidation.objects.filter(version_id=self.version_id, status__in=self.ACTIVE)
        if others.exclude(pk=self.pk).exists():
            return
        ModelVersion.objects.filter(
            pk=self.version_id,
            status__in=[ModelVersion.Status.UPLOADED, ModelVersion.Status.VALIDATING],
        ).update(status=ModelVersion.Status.FAILED, error=reason, progress={"step": "failed"})
