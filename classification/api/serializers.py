import base64
import binascii

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classification.hedging import hedged_for_display
from classification.models import BatchItem, BatchJob, Prediction
from classification.selectors import prediction_classes

# How a model version or label set is named in answers: {"id", "name", "version"}.
VERSIONED_REF = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "localized_name": {"type": "string", "description": "The name in the request's language."},
        "version": {"type": "integer"},
    },
}


def versioned_ref(obj) -> dict:
    return {
        "id": obj.pk,
        "name": obj.name,
        "localized_name": obj.name_in(),
        "version": obj.version,
    }


class Base64ImageSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, default="image")
    data = serializers.CharField(help_text=_("The image file, base64-encoded."))

    def validate_data(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as error:
            raise serializers.ValidationError(_("This is not valid base64.")) from error


class PreviewOptionsSerializer(serializers.Serializer):
    model = serializers.CharField(
        required=False,
        default="default",
        help_text=_("An alias (such as default) or a model version id."),
    )
    expected_version = serializers.IntegerField(
        required=False,
        default=None,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_(
            "The model version id you built against (model.id of an earlier answer). When "
            "model now resolves to another version, nothing is classified: 412 with code "
            "version_changed and details.current_version."
        ),
    )
    top_k = serializers.IntegerField(required=False, default=5, min_value=1, max_value=10)
    min_confidence = serializers.FloatField(
        required=False,
        default=None,
        allow_null=True,
        min_value=0.0,
        max_value=1.0,
        help_text=_(
            "The confidence asked for: classes below it are left out, and when none reaches "
            "it the answer is hedged to a broader class. Default: the classifier's own "
            "threshold, else the site's (0.5)."
        ),
    )
    hedge = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("Hedge to a broader class when no class is confident enough (false: off)."),
    )


class ClassifyOptionsSerializer(PreviewOptionsSerializer):
    store = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("Keep the image in your history (false: keep only the result)."),
    )


def _images_field():
    return Base64ImageSerializer(many=True, required=False)


class ImageSourcesSerializer(serializers.Serializer):
    """JSON names its images in one of three ways: the bytes, or addresses."""

    url = serializers.CharField(
        required=False,
        max_length=2000,
        help_text=_(
            "An https address of one image, fetched by the server (public addresses only; "
            "size and time limited; the bytes must be an image)."
        ),
    )
    urls = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        required=False,
        min_length=1,
        help_text=_("Several image addresses: each one answered on its own, like files."),
    )

    def validate(self, attrs):
        given = [key for key in ("images", "url", "urls") if attrs.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Send exactly one of images (base64), url or urls.")
            )
        return super().validate(attrs)


def _files_field():
    # Any file: each one that is not a usable image is answered in "errors".
    return serializers.ListField(
        child=serializers.FileField(), help_text=_("One or several image files.")
    )


class ClassifyJsonSerializer(ImageSourcesSerializer, ClassifyOptionsSerializer):
    images = _images_field()


class ClassifyMultipartSerializer(ClassifyOptionsSerializer):
    file = _files_field()


class PreviewJsonSerializer(ImageSourcesSerializer, PreviewOptionsSerializer):
    images = _images_field()


class PreviewMultipartSerializer(PreviewOptionsSerializer):
    file = _files_field()


class ClassSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    probability = serializers.FloatField()


class HedgedSerializer(serializers.Serializer):
    """The smallest broader class that reaches the confidence asked for."""

    key = serializers.CharField(help_text=_("A WordNet id, or a grouping's group key."))
    name = serializers.CharField()
    confidence = serializers.FloatField(help_text=_("The sum of its classes' probabilities."))
    threshold = serializers.FloatField(help_text=_("The confidence asked for."))
    classes = serializers.IntegerField(help_text=_("How many classes it holds."))
    contributors = ClassSerializer(many=True, help_text=_("Its classes with the largest shares."))


PRECISION_HELP = _(
    "Which file of the model answered: int8 (its quantized variant, served when it "
    "passed its accuracy gate) or fp32."
)


class PredictionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    precision = serializers.CharField(read_only=True, help_text=PRECISION_HELP)
    label_set = serializers.SerializerMethodField()
    classes = serializers.SerializerMethodField()
    hedged = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "url",
            "original_name",
            "image_url",
            "model",
            "precision",
            "label_set",
            "classes",
            "hedged",
            "none_of_these",
            "none_of_these_reason",
            "created_at",
        ]

    def _options(self) -> dict:
        return self.context.get("options", {})

    def get_url(self, obj: Prediction) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:classification-detail", args=[obj.pk])
        )

    def get_image_url(self, obj: Prediction) -> str | None:
        if obj.image_id is None:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("classification:image", args=[obj.image_id])
        )

    @extend_schema_field(VERSIONED_REF)
    def get_model(self, obj: Prediction) -> dict:
        return versioned_ref(obj.model_version)

    @extend_schema_field(VERSIONED_REF)
    def get_label_set(self, obj: Prediction) -> dict:
        return versioned_ref(obj.label_set)

    @extend_schema_field(ClassSerializer(many=True))
    def get_classes(self, obj: Prediction) -> list[dict]:
        options = self._options()
        return prediction_classes(
            prediction=obj,
            language=get_language() or "en",
            top_k=options.get("top_k", 5),
            min_confidence=options.get("min_confidence") or 0.0,
        )

    @extend_schema_field(HedgedSerializer(allow_null=True))
    def get_hedged(self, obj: Prediction) -> dict | None:
        return hedged_for_display(prediction=obj, language=get_language() or "en")


# Classify answers: every file on its own
# ------------------------------------------------------------------------------
UPLOAD_INDEX_HELP = _("The file's place in the request, from 0.")


class ClassifiedSerializer(PredictionSerializer):
    """A classified file of the request (its place in it, and the classification)."""

    index = serializers.IntegerField(source="upload_index", help_text=UPLOAD_INDEX_HELP)

    class Meta(PredictionSerializer.Meta):
        fields = ["index", *PredictionSerializer.Meta.fields]


class FileErrorSerializer(serializers.Serializer):
    """A file of the request that was not classified, and why."""

    index = serializers.IntegerField(source="upload_index", help_text=UPLOAD_INDEX_HELP)
    file = serializers.CharField(help_text=_("The file's name."))
    code = serializers.CharField(help_text=_("Machine-readable, such as not_an_image."))
    message = serializers.CharField(help_text=_("Why, in the request's language."))


class ClassifyResponseSerializer(serializers.Serializer):
    results = ClassifiedSerializer(many=True)
    errors = FileErrorSerializer(many=True)


class PreviewResultSerializer(ClassifiedSerializer):
    """A classified file of a preview: nothing was stored, so no id or links."""

    class Meta(PredictionSerializer.Meta):
        fields = [
            "index",
            "original_name",
            "model",
            "precision",
            "label_set",
            "classes",
            "hedged",
            "none_of_these",
        ]


class PreviewResponseSerializer(serializers.Serializer):
    results = PreviewResultSerializer(many=True)
    errors = FileErrorSerializer(many=True)


class NothingClassifiedDetailsSerializer(serializers.Serializer):
    errors = FileErrorSerializer(
        many=True,
        required=False,
        help_text=_("When no file could be classified: every file's reason."),
    )


class NothingClassifiedBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = NothingClassifiedDetailsSerializer(required=False)


class NothingClassifiedSerializer(serializers.Serializer):
    """The one error shape; when no file could be classified, `details.errors`
    lists each file with its reason."""

    error = NothingClassifiedBodySerializer()


class BatchCreateSerializer(serializers.Serializer):
    archive = serializers.FileField(required=False, help_text=_("A zip of images."))
    file = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=_("Image files.")
    )
    model = serializers.CharField(required=False, default="default")
    top_k = serializers.IntegerField(required=False, default=5, min_value=1, max_value=10)
    store = serializers.BooleanField(required=False, default=True)


class BatchJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    results_url = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    model = serializers.SerializerMethodField()

    class Meta:
        model = BatchJob
        fields = [
            "id",
            "url",
            "results_url",
            "status",
            "total",
            "done",
            "failed",
            "percent",
            "model",
            "top_k",
            "store_images",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_url(self, obj: BatchJob) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:batch-detail", args=[obj.pk])
        )

    def get_results_url(self, obj: BatchJob) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:batch-results", args=[obj.pk])
        )

    @extend_schema_field(VERSIONED_REF)
    def get_model(self, obj: BatchJob) -> dict:
        return versioned_ref(obj.model_version)


class BatchItemSerializer(serializers.ModelSerializer):
    error_code = serializers.CharField(
        read_only=True, help_text=_("Why the file failed, for programs (empty: it did not).")
    )
    error = serializers.CharField(
        source="error_message",
        read_only=True,
        help_text=_("Why the file failed, in the request's language."),
    )
    classes = serializers.SerializerMethodField()
    precision = serializers.SerializerMethodField(help_text=PRECISION_HELP)
    prediction_url = serializers.SerializerMethodField()

    class Meta:
        model = BatchItem
        fields = [
            "index",
            "original_name",
            "status",
            "error_code",
            "error",
            "classes",
            "precision",
            "prediction_url",
        ]

    def _prediction(self, obj: BatchItem):
        return getattr(obj, "prediction", None)

    @extend_schema_field(ClassSerializer(many=True))
    def get_classes(self, obj: BatchItem) -> list[dict]:
        prediction = self._prediction(obj)
        if prediction is None:
            return []
        return prediction_classes(
            prediction=prediction, language=get_language() or "en", top_k=obj.job.top_k
        )

    def get_precision(self, obj: BatchItem) -> str | None:
        prediction = self._prediction(obj)
        return None if prediction is None else prediction.precision

    def get_prediction_url(self, obj: BatchItem) -> str | None:
        prediction = self._prediction(obj)
        if prediction is None:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api:classification-detail", args=[prediction.pk])
        )
