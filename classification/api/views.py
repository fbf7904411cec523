from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scopes import Scope, request_token, token_check_version, token_limit_queryset
from classification import selectors, services
from classification.api import serializers as s
from classification.filters import PredictionFilter
from classification.hedging import hedge_threshold
from classification.models import Prediction
from classification.services.contract import model_version_expect
from classification.sorted_zip import batch_sorted_zip_response
from core.fetch import image_uploads_from_urls
from core.ratelimits import rate_limit_hit
from core.uploads import read_data_within_limits as _read_body

# The token that made a batch or a classification follows it (and deletes the
# classification); reading the rest of the history takes history:read.
MADE_OR_HISTORY = (Scope.CLASSIFY, Scope.HISTORY_READ)

# A token limited to one classifier reads only the history made with it.
CLASSIFIER_OF_VERSION = "model_version__training_run__classifier_id"


def _made_by_token(request, queryset, made_by: Q):
    """Without history:read, a token reaches only what it made itself."""
    token = request_token(request)
    if token is None or token.has_scope(Scope.HISTORY_READ):
        return queryset
    return queryset.filter(made_by)


def predictions_for_request(request, *, own: bool = False):
    """The user's classifications; with ``own``, only the token's own unless
    it holds history:read (the list itself needs history:read)."""
    predictions = selectors.prediction_list_for_user(user=request.user)
    if own:
        token = request_token(request)
        # A batch's classifications were made by the token that started it.
        made = Q(api_token=token) | Q(batch_item__job__api_token=token)
        predictions = _made_by_token(request, predictions, made)
    return token_limit_queryset(request, predictions, CLASSIFIER_OF_VERSION)


def _batches(request, *, own: bool = False):
    batches = selectors.batch_job_list_for_user(user=request.user)
    if own:
        batches = _made_by_token(request, batches, Q(api_token=request_token(request)))
    return token_limit_queryset(request, batches, CLASSIFIER_OF_VERSION)


NOTHING_CLASSIFIED = (
    "When no file could be classified: 400 in the error shape, `details.errors` listing every "
    "file's reason; `code` is the file's own (such as `not_an_image`) for one file, "
    "`no_image_classified` for several. The request's limits (too many files, 413 sizes, "
    "the pixel budget) fail the whole request."
)


class ClassificationListApi(generics.ListAPIView):
    """Your classifications (GET, newest first), or classify images (POST)."""

    serializer_class = s.PredictionSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    required_scope = {"GET": Scope.HISTORY_READ, "POST": Scope.CLASSIFY}
    # The History page's filters, the same FilterSet (and so in the schema).
    filter_backends = [DjangoFilterBackend]
    filterset_class = PredictionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's anonymous request
            return Prediction.objects.none()
        return predictions_for_request(self.request)

    @extend_schema(
        request={
            "multipart/form-data": s.ClassifyMultipartSerializer,
            "application/json": s.ClassifyJsonSerializer,
        },
        responses={
            201: s.ClassifyResponseSerializer,
            200: s.ClassifyResponseSerializer,
            400: OpenApiResponse(s.NothingClassifiedSerializer, description=NOTHING_CLASSIFIED),
        },
        description=(
            "Classify one or several images synchronously. Multipart: one or more `file` fields. "
            "JSON: `images` as base64, or `url` (one https address) or `urls` (several), fetched "
            "by the server: only public addresses (private, loopback, link-local and metadata "
            "addresses are refused, redirects too), at most FETCH_MAX_MB and "
            "FETCH_TIMEOUT_SECONDS per address, and the bytes must be an image whatever the "
            "Content-Type says. One `url` that fails answers with its code: `url_refused` or "
            "`url_invalid` (400), `url_too_large` (413), `url_unreachable`, `url_timeout` or "
            "`url_http_error` (422), `not_an_image` (400); each of several `urls` is answered "
            "in `errors` like a file. "
            "Names come in the request's language (Accept-Language). "
            "Every file is answered on its own: `results` holds the classified ones and "
            "`errors` the others with their reason (`index` is a file's place in the request). "
            "201 when at least one was classified and stored, 200 with `store=false`. "
            + NOTHING_CLASSIFIED
        ),
    )
    def post(self, request):
        options, uploads, version = _classify_request(
            request, options=s.ClassifyOptionsSerializer, json=s.ClassifyJsonSerializer
        )
        outcome = services.classify_uploads_each(
            user=request.user,
            uploads=uploads,
            version=version,
            store=options["store"],
            alias=services.alias_of(options["model"]),
            hedge_at=_hedge_at(options, version),
            api_token=request_token(request),
        )
        body = _answer(outcome, s.ClassifiedSerializer, self.get_serializer_context(), options)
        return Response(
            body, status=status.HTTP_201_CREATED if options["store"] else status.HTTP_200_OK
        )


class ClassificationPreviewApi(generics.GenericAPIView):
    """Classify without keeping anything (a live camera preview)."""

    serializer_class = s.PreviewResponseSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    required_scope = Scope.CLASSIFY

    @extend_schema(
        request={
            "multipart/form-data": s.PreviewMultipartSerializer,
            "application/json": s.PreviewJsonSerializer,
        },
        responses={
            200: s.PreviewResponseSerializer,
            400: OpenApiResponse(s.NothingClassifiedSerializer, description=NOTHING_CLASSIFIED),
        },
        description=(
            "The same request and per-file answer as POST /classifications/, but nothing is "
            "stored: neither the image nor the result (it is not in your history, and has no "
            "id). For live previews, such as a camera classified every second. "
            + NOTHING_CLASSIFIED
        ),
    )
    def post(self, request):
        options, uploads, version = _classify_request(
            request, options=s.PreviewOptionsSerializer, json=s.PreviewJsonSerializer
        )
        outcome = services.classify_preview(
            user=request.user,
            uploads=uploads,
            version=version,
            hedge_at=_hedge_at(options, version),
        )
        body = _answer(outcome, s.PreviewResultSerializer, self.get_serializer_context(), options)
        return Response(body, status=status.HTTP_200_OK)


def _classify_request(request, *, options, json):
    """The options, uploads and model version of a classify request (multipart or JSON)."""
    rate_limit_hit(action="classify", user=request.user)
    data = _read_body(request)
    if request.content_type.startswith("application/json"):
        payload = json(data=data)
        payload.is_valid(raise_exception=True)
        validated = payload.validated_data
        images = validated.get("images") or []
        uploads = [services.Upload(name=i["name"], data=i["data"]) for i in images]
    else:
        payload = options(data=data)
        payload.is_valid(raise_exception=True)
        validated = payload.validated_data
        uploads = services.uploads_from_files(request.FILES.getlist("file"))
    version = services.model_version_resolve(user=request.user, model=validated["model"])
    token_check_version(request, version)
    model_version_expect(
        version=version, model=validated["model"], expected=validated["expected_version"]
    )
    # Addresses are fetched last: a request refused anyway costs no fetch.
    uploads += image_uploads_from_urls(url=validated.get("url"), urls=validated.get("urls"))
    return validated, uploads, version


def _hedge_at(options, version) -> float | None:
    return hedge_threshold(
        version=version, min_confidence=options["min_confidence"], hedge=options["hedge"]
    )


def _answer(outcome, serializer, context, options) -> dict:
    context = {**context, "options": options}
    return {
        "results": serializer(outcome.predictions, many=True, context=context).data,
        "errors": s.FileErrorSerializer(outcome.errors, many=True).data,
    }


class ClassificationDetailApi(generics.RetrieveDestroyAPIView):
    """One of your classifications; DELETE removes it and its image."""

    serializer_class = s.PredictionSerializer
    # Deleting a result is the classifying side's, never the reading side's;
    # a token without history:read reaches only the classifications it made.
    required_scope = {"GET": MADE_OR_HISTORY, "DELETE": Scope.CLASSIFY}

    def get_queryset(self):
        return predictions_for_request(self.request, own=True)

    def perform_destroy(self, instance):
        services.prediction_delete(user=self.request.user, prediction_id=instance.pk)


class BatchListApi(generics.ListAPIView):
    """Your batch jobs (GET), or start one (POST: a zip as `archive`, or `file` fields) -> 202."""

    serializer_class = s.BatchJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    required_scope = {"GET": Scope.HISTORY_READ, "POST": Scope.CLASSIFY}

    def get_queryset(self):
        return _batches(self.request)

    @extend_schema(
        request={"multipart/form-data": s.BatchCreateSerializer},
        responses={202: s.BatchJobSerializer},
    )
    def post(self, request):
        rate_limit_hit(action="batch", user=request.user)
        data = _read_body(request)
        payload = s.BatchCreateSerializer(data=data)
        payload.is_valid(raise_exception=True)
        options = payload.validated_data
        version = services.model_version_resolve(user=request.user, model=options["model"])
        token_check_version(request, version)
        job = services.batch_job_create(
            user=request.user,
            archive=request.FILES.get("archive"),
            uploads=services.uploads_from_files(request.FILES.getlist("file")),
            version=version,
            top_k=options["top_k"],
            store=options["store"],
            api_token=request_token(request),
        )
        body = s.BatchJobSerializer(job, context=self.get_serializer_context()).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:batch-detail", args=[job.pk])},
        )


class BatchDetailApi(generics.RetrieveAPIView):
    """Status and progress of one of your batch jobs: poll it."""

    serializer_class = s.BatchJobSerializer
    required_scope = MADE_OR_HISTORY

    def get_queryset(self):
        return _batches(self.request, own=True)


class BatchResultsApi(generics.ListAPIView):
    """The items of a batch, in upload order, with their classes or error (paginated)."""

    serializer_class = s.BatchItemSerializer
    required_scope = MADE_OR_HISTORY

    def get_queryset(self):
        job = get_object_or_404(_batches(self.request, own=True), pk=self.kwargs["pk"])
        return selectors.batch_items_for_job(job=job).select_related("job")


class BatchSortedZipApi(APIView):
    """A finished batch's photos sorted into folders (see the operation's description)."""

    renderer_classes = [JSONRenderer]  # errors; the answer itself is a zip
    required_scope = MADE_OR_HISTORY

    def perform_content_negotiation(self, request, force=False):
        # "Accept: application/zip" must not be refused (406): the zip is the answer.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="batches_sorted_zip",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=(
                    "A zip, streamed: one folder per predicted class (or group) named in the "
                    "request's language (Accept-Language) and made safe as a folder name, "
                    "`unsure/` for answers below the classifier's confidence threshold, and "
                    "`results.csv` listing every file with its folder, class and confidence, "
                    "failed files with their reason (their photos were never kept, so they "
                    "have no folder). These two names are translated too (`dudosas/`, "
                    "`resultados.csv`). The photos are the kept copies (JPEG, without "
                    "metadata)."
                ),
            ),
        },
        description=(
            "Download the batch's photos sorted into folders by predicted class. 409 with "
            "code `job_not_finished` while the batch runs, `images_not_kept` when it was "
            "started with `store=false` (its CSV/JSON results are all there is)."
        ),
    )
    def get(self, request, pk: int):
        job = get_object_or_404(_batches(request, own=True), pk=pk)
        return batch_sorted_zip_response(job=job, language=get_language() or "en")
