from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from models_registry.models import AliasChange, Label, LabelSet, ModelAlias, ModelVersion


class LabelSetSerializer(serializers.ModelSerializer):
    label_count = serializers.SerializerMethodField()
    localized_name = serializers.SerializerMethodField()

    class Meta:
        model = LabelSet
        fields = [
            "id",
            "name",
            "localized_name",
            "translations",
            "version",
            "description",
            "label_count",
            "grouping_of",
            "created_at",
        ]
        extra_kwargs = {
            "grouping_of": {
                "help_text": _("For a grouping: the label set whose classes it groups.")
            }
        }

    def get_label_count(self, obj: LabelSet) -> int:
        return obj.labels.count()

    def get_localized_name(self, obj: LabelSet) -> str:
        return obj.name_in(get_language())


class LabelSerializer(serializers.ModelSerializer):
    localized_name = serializers.SerializerMethodField()
    members = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="key",
        help_text=_("In a grouping: the keys of the classes this group sums."),
    )

    class Meta:
        model = Label
        fields = ["index", "key", "name", "localized_name", "translations", "members", "catch_all"]

    def get_localized_name(self, obj: Label) -> str:
        return obj.name_in(get_language())


class LabelSetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text=_(".txt, .csv (key,name[,name_es]) or .json"))


class Int8GateSerializer(serializers.Serializer):
    """The version's int8 variant: the gate it had to pass to be served."""

    built = serializers.BooleanField(help_text=_("Whether an int8 variant was tried."))
    passed = serializers.BooleanField()
    served = serializers.ChoiceField(
        choices=["int8", "fp32"], help_text=_("Which file answers for this version now.")
    )
    agreement = serializers.FloatField(
        allow_null=True, help_text=_("Share of photos whose top class is the same as fp32's.")
    )
    accuracy_fp32 = serializers.FloatField(allow_null=True)
    accuracy_int8 = serializers.FloatField(allow_null=True)
    photos = serializers.IntegerField(allow_null=True)
    measured_on = serializers.CharField(
        allow_null=True,
        help_text=_("evaluation_set, validation_photos or calibration_split (held-out photos)."),
    )
    reason = serializers.CharField(
        help_text=_("Why it did not pass: agreement, accuracy, error, off (empty: it passed).")
    )
    summary = serializers.CharField(help_text=_("The gate in a sentence, in your language."))


def int8_gate_data(version: ModelVersion) -> dict:
    from models_registry.int8 import int8_gate_summary, served_precision

    gate = version.int8_gate or {}
    return {
        "built": bool(gate) and gate.get("reason") != "off",
        "passed": gate.get("passed") is True,
        "served": served_precision(version),
        **{
            key: gate.get(key)
            for key in ("agreement", "accuracy_fp32", "accuracy_int8", "photos", "measured_on")
        },
        "reason": gate.get("reason", "off"),
        "summary": int8_gate_summary(gate),
    }


class ModelVersionSerializer(serializers.ModelSerializer):
    label_set = LabelSetSerializer(read_only=True)
    aliases = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    localized_name = serializers.SerializerMethodField()
    int8 = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "localized_name",
            "version",
            "status",
            "error",
            "source",
            "label_set",
            "base_version",
            "confidence_threshold",
            "input_size",
            "preprocessing",
            "metrics",
            "int8",
            "sha256",
            "aliases",
            "created_at",
            "validated_at",
        ]

    def get_localized_name(self, obj: ModelVersion) -> str:
        return obj.name_in(get_language())

    @extend_schema_field(Int8GateSerializer)
    def get_int8(self, obj: ModelVersion) -> dict:
        return int8_gate_data(obj)


class ModelVersionUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    label_set = serializers.PrimaryKeyRelatedField(
        queryset=LabelSet.objects.filter(owner__isnull=True)
    )
    file = serializers.FileField(
        help_text=_("A Keras 3 .keras file, or an .onnx file (e.g. exported from PyTorch)")
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    # How photos become the input of an .onnx model (ignored for .keras files).
    layout = serializers.ChoiceField(
        choices=["nchw", "nhwc"], required=False, help_text=_("ONNX: channels first or last")
    )
    mean = serializers.CharField(
        required=False,
        help_text=_("ONNX: per-channel means in pixel units, e.g. 123.7,116.3,103.5"),
    )
    std = serializers.CharField(
        required=False,
        help_text=_("ONNX: per-channel standard deviations in pixel units, e.g. 58.4,57.1,57.4"),
    )
    size = serializers.IntegerField(
        required=False, help_text=_("ONNX: the input size, when the file leaves it free")
    )
    resize = serializers.IntegerField(
        required=False, help_text=_("ONNX: the shorter side before the centre crop")
    )


class ModelAliasSerializer(serializers.ModelSerializer):
    version = ModelVersionSerializer(read_only=True)

    class Meta:
        model = ModelAlias
        fields = ["name", "version", "updated_at"]


# What an alias's history may say a move was based on (evaluation.services.replays).
BASED_ON_KEYS = ("replay", "replayed", "changed", "evaluation", "accuracy")


class AliasChangeSerializer(serializers.ModelSerializer):
    # str() of the related rows; the first move has no "from".
    from_version = serializers.CharField(read_only=True, allow_null=True)
    to_version = serializers.CharField(read_only=True)
    changed_by = serializers.SerializerMethodField(
        help_text=_("Who moved the alias: shown to staff only; null for everyone else.")
    )

    class Meta:
        model = AliasChange
        fields = ["action", "from_version", "to_version", "changed_by", "changed_at", "based_on"]
        extra_kwargs = {
            "based_on": {
                "help_text": _(
                    "What an approved replay moved it on: replay, replayed, changed, and the "
                    "candidate's latest evaluation and accuracy; empty for a plain move."
                )
            }
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Only the report's numbers: nothing else recorded with a move (such as
        # who decided it) reaches users.
        data["based_on"] = {k: v for k, v in instance.based_on.items() if k in BASED_ON_KEYS}
        return data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_changed_by(self, obj: AliasChange) -> str | None:
        # A staff member's address is not for every signed-in user; a deleted
        # account leaves none either.
        request = self.context.get("request")
        if obj.changed_by is None or request is None or not request.user.is_staff:
            return None
        return str(obj.changed_by)


class AliasActivateSerializer(serializers.Serializer):
    version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())


class DiffLabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    index = serializers.IntegerField(help_text=_("Its place in the model's output."))
    name = serializers.CharField()
    localized_name = serializers.CharField()


class RenamedLabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    from_name = serializers.CharField()
    to_name = serializers.CharField()
    from_localized_name = serializers.CharField()
    to_localized_name = serializers.CharField()


class MovedLabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    from_index = serializers.IntegerField()
    to_index = serializers.IntegerField()


class LabelDiffSerializer(serializers.Serializer):
    before = serializers.IntegerField(help_text=_("The first model version's id."))
    after = serializers.IntegerField(help_text=_("The second model version's id."))
    same_label_set = serializers.BooleanField()
    added = DiffLabelSerializer(many=True, help_text=_("Keys only the second version has."))
    removed = DiffLabelSerializer(many=True, help_text=_("Keys only the first version has."))
    renamed = RenamedLabelSerializer(
        many=True,
        help_text=_(
            "Renamed: the same key with another name (in English or in a translation); "
            "answers keep the key, only the name shown changes."
        ),
    )
    moved = MovedLabelSerializer(
        many=True, help_text=_("The same key at another place in the model's output.")
    )
    unchanged = serializers.IntegerField(help_text=_("Keys with the same names and place."))
