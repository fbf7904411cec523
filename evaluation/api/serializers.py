from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.serializers import ImportProblemSerializer
from evaluation.models import Evaluation, EvaluationSet, Feedback, Replay
from models_registry.models import LabelSet, ModelVersion


def _absolute(serializer, name: str, pk: int) -> str:
    url = reverse(name, args=[pk])
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request else url


class EvaluationSetSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    private = serializers.SerializerMethodField()
    problems = ImportProblemSerializer(many=True, read_only=True)

    class Meta:
        model = EvaluationSet
        fields = [
            "id",
            "url",
            "name",
            "version",
            "description",
            "label_set",
            "private",
            "status",
            "status_display",
            "total",
            "added",
            "duplicates",
            "failed",
            "problems",
            "percent",
            "created_at",
        ]

    def get_url(self, obj: EvaluationSet) -> str:
        return _absolute(self, "api:evaluation-set-detail", obj.pk)

    def get_private(self, obj: EvaluationSet) -> bool:
        return obj.owner_id is not None


class EvaluationSetCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    archive = serializers.FileField(
        help_text=_("A zip with one folder per class, named by a class key, name or translation.")
    )
    label_set = serializers.PrimaryKeyRelatedField(
        queryset=LabelSet.objects.filter(owner__isnull=True),
        required=False,
        help_text=_("Staff: the label set the folders name (shared models)."),
    )
    classifier = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Your own classifier: a private set for it (folders name its classes)."),
    )


class EvaluationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    report = serializers.JSONField(
        read_only=True,
        help_text=_(
            "accuracy, top5_accuracy, per_class, confusion, thresholds, suggested_thresholds, "
            "calibration (ece, bins), answers ([photo, true, predicted, confidence, in top 5]), "
            "skipped"
        ),
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "url",
            "version",
            "evaluation_set",
            "status",
            "status_display",
            "percent",
            "error",
            "report",
            "created_at",
            "finished_at",
        ]

    def get_url(self, obj: Evaluation) -> str:
        return _absolute(self, "api:evaluation-detail", obj.pk)


class EvaluationCreateSerializer(serializers.Serializer):
    model = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), help_text=_("The model version to measure.")
    )
    evaluation_set = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class ComparisonSerializer(serializers.Serializer):
    numbers = serializers.JSONField(help_text=_("Each number before and after."))
    classes = serializers.JSONField(help_text=_("Classes whose F1 changed, worst first."))
    changed = serializers.JSONField(help_text=_("Photos whose answer changed."))


class ReplaySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    report = serializers.JSONField(read_only=True)

    class Meta:
        model = Replay
        fields = [
            "id",
            "url",
            "alias",
            "current",
            "candidate",
            "limit",
            "status",
            "status_display",
            "percent",
            "error",
            "report",
            "decision",
            "decided_at",
            "created_at",
        ]

    def get_url(self, obj: Replay) -> str:
        return _absolute(self, "api:replay-detail", obj.pk)


class ReplayCreateSerializer(serializers.Serializer):
    model = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.filter(owner__isnull=True),
        help_text=_("The candidate version."),
    )
    alias = serializers.CharField(max_length=50, default="default")
    limit = serializers.IntegerField(min_value=1, max_value=100_000, required=False)


class FeedbackCreateSerializer(serializers.Serializer):
    correct = serializers.CharField(
        max_length=200, help_text=_("The right class: its key or its name, in any language.")
    )
    consent = serializers.BooleanField(
        default=False,
        help_text=_("Shared models: let the administrators keep the photo to test models."),
    )


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = [
            "id",
            "prediction",
            "version",
            "predicted_key",
            "correct_key",
            "consent",
            "status",
            "created_at",
        ]


class DisagreementSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    predicted_key = serializers.CharField()
    correct_key = serializers.CharField()
    count = serializers.IntegerField()
