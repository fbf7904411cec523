from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import ImportProblemSerializer
from training import selectors
from training.models import Classifier, ExampleImport, TrainingRun


class ClassifierCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    classes = serializers.ListField(
        child=serializers.CharField(max_length=100),
        min_length=settings.TRAINING_MIN_CLASSES,
        max_length=settings.TRAINING_MAX_CLASSES,
        help_text=_("The class names, in any language."),
    )


class ClassifierUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    active_version = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("A version's model id.")
    )
    confidence_threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=0.99,
        help_text=_("Below it the answer is “none of these”; null: always answer."),
    )
    distance_threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=2.0,
        help_text=_(
            "Photos farther than this from the examples (cosine distance to the nearest "
            "class, 0 to 2) are answered “none of these”; null: never for this reason."
        ),
    )


class ClassifierClassSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    examples = serializers.IntegerField()
    few = serializers.BooleanField(help_text=_("Fewer than 5 examples: add more."))


def class_rows(classifier: Classifier) -> list[dict]:
    """Each class with its example count, as the API shows it."""
    return [
        {k: row[k] for k in ("id", "name", "examples", "few")}
        for row in selectors.class_list(classifier=classifier)
    ]


class ClassifierSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    classes = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField(
        help_text=_("Pass this as `model` to classify with the version in use.")
    )
    confidence_threshold = serializers.SerializerMethodField()
    distance_threshold = serializers.SerializerMethodField()
    train_url = serializers.SerializerMethodField()
    examples_url = serializers.SerializerMethodField()
    versions_url = serializers.SerializerMethodField()

    class Meta:
        model = Classifier
        fields = [
            "id",
            "url",
            "name",
            "classes",
            "model",
            "confidence_threshold",
            "distance_threshold",
            "examples_url",
            "train_url",
            "versions_url",
            "created_at",
        ]

    def _abs(self, name: str, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse(name, args=[obj.pk]))

    def get_url(self, obj) -> str:
        return self._abs("api:classifier-detail", obj)

    def get_train_url(self, obj) -> str:
        return self._abs("api:classifier-train", obj)

    def get_examples_url(self, obj) -> str:
        return self._abs("api:classifier-examples", obj)

    def get_versions_url(self, obj) -> str:
        return self._abs("api:classifier-versions", obj)

    @extend_schema_field(ClassifierClassSerializer(many=True))
    def get_classes(self, obj) -> list[dict]:
        return class_rows(obj)

    def get_model(self, obj) -> int | None:
        return obj.active_version_id

    def get_confidence_threshold(self, obj) -> float | None:
        return obj.active_version.confidence_threshold if obj.active_version else None

    def get_distance_threshold(self, obj) -> float | None:
        return obj.active_version.distance_threshold if obj.active_version else None


class ExamplesUploadSerializer(serializers.Serializer):
    class_name = serializers.CharField(
        required=False, help_text=_("The class the `file` images belong to.")
    )
    file = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("Example images.")
    )
    archive = serializers.FileField(
        required=False, help_text=_("A zip with one folder per class, named like the classes.")
    )


class ExamplesAddedSerializer(serializers.Serializer):
    added = serializers.DictField(child=serializers.IntegerField())
    classes = ClassifierClassSerializer(many=True)


class ExampleImportSerializer(serializers.ModelSerializer):
    """A zip of examples being added by a worker: poll ``url`` until it ends."""

    url = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    total = serializers.IntegerField(help_text=_("Photos in the zip."))
    done = serializers.IntegerField(source="position", help_text=_("Photos looked at so far."))
    percent = serializers.IntegerField()
    problems = ImportProblemSerializer(many=True, help_text=_("Photos that were refused, and why."))

    class Meta:
        model = ExampleImport
        fields = [
            "id",
            "url",
            "classifier",
            "status",
            "status_display",
            "total",
            "done",
            "percent",
            "added",
            "duplicates",
            "failed",
            "problems",
            "error",
            "created_at",
            "finished_at",
        ]

    def get_url(self, job: ExampleImport) -> str:
        url = reverse("api:example-import-detail", args=[job.classifier_id, job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class TrainingRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    classifier = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    phase_display = serializers.CharField(source="get_phase_display", read_only=True)
    model = serializers.SerializerMethodField(
        help_text=_("The model id of the version this run made (when it succeeded).")
    )
    cancel_url = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "url",
            "classifier",
            "number",
            "status",
            "status_display",
            "phase",
            "phase_display",
            "percent",
            "error",
            "metrics",
            "model",
            "cancel_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:training-run-detail", args=[obj.pk])
        )

    def get_cancel_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:training-run-cancel", args=[obj.pk])
        )

    def get_classifier(self, obj) -> int:
        return obj.classifier_id

    def get_model(self, obj) -> int | None:
        return obj.model_version_id


class VersionSerializer(serializers.Serializer):
    model = serializers.IntegerField(source="model_version_id")
    number = serializers.IntegerField()
    accuracy = serializers.FloatField(source="metrics.accuracy")
    in_use = serializers.SerializerMethodField()
    run = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_in_use(self, obj) -> bool:
        return obj.model_version_id == obj.classifier.active_version_id

    def get_run(self, obj) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:training-run-detail", args=[obj.pk])
        )

    @extend_schema_field(serializers.DictField(child=serializers.URLField()))
    def get_downloads(self, obj) -> dict:
        request = self.context["request"]
        return {
            kind: request.build_absolute_uri(
                reverse("api:model-export", args=[obj.model_version_id, kind])
            )
            for kind in ("keras", "onnx", "labels", "zip")
        }
