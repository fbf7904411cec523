from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scopes import Scope, token_check_classifier, token_limit_queryset
from core.ratelimits import rate_limit_hit
from core.uploads import read_data_within_limits as read_body
from core.uploads import uploads_from_files
from training import selectors, services
from training.api import serializers as s
from training.views import EXPORT_KINDS, export_response, run_or_404


def _classifier(request, pk: int):
    """One of the user's classifiers (404 otherwise); 403 when the token is
    limited to another one."""
    classifier = get_object_or_404(selectors.classifier_list_for_user(user=request.user), pk=pk)
    token_check_classifier(request, classifier.pk)
    return classifier


def _run(request, pk: int):
    run = run_or_404(request, pk)
    token_check_classifier(request, run.classifier_id)
    return run


class ClassifierListApi(generics.ListAPIView):
    """Your classifiers (GET), or create one with its classes (POST) -> 201."""

    serializer_class = s.ClassifierSerializer
    required_scope = Scope.CLASSIFIERS_MANAGE
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        classifiers = selectors.classifier_list_for_user(user=self.request.user)
        return token_limit_queryset(self.request, classifiers, "pk")

    @extend_schema(request=s.ClassifierCreateSerializer, responses={201: s.ClassifierSerializer})
    def post(self, request):
        token_check_classifier(request, None)  # a token limited to one makes no other
        payload = s.ClassifierCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        classifier = services.classifier_create(
            user=request.user,
            name=payload.validated_data["name"],
            class_names=payload.validated_data["classes"],
        )
        classifier = _classifier(request, classifier.pk)
        body = s.ClassifierSerializer(classifier, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class ClassifierDetailApi(generics.RetrieveDestroyAPIView):
    """One classifier: read it, change its name, version in use or threshold
    (PATCH), or delete it with its examples and versions (DELETE)."""

    serializer_class = s.ClassifierSerializer
    required_scope = Scope.CLASSIFIERS_MANAGE

    def get_queryset(self):
        return selectors.classifier_list_for_user(user=self.request.user)

    def get_object(self):
        return _classifier(self.request, self.kwargs["pk"])

    def perform_destroy(self, instance):
        services.classifier_delete(classifier=instance)

    @extend_schema(request=s.ClassifierUpdateSerializer, responses={200: s.ClassifierSerializer})
    def patch(self, request, pk: int):
        classifier = self.get_object()
        payload = s.ClassifierUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if "name" in data:
            services.classifier_rename(classifier=classifier, name=data["name"])
        if "active_version" in data:
            services.classifier_use_version(
                classifier=classifier, version_id=data["active_version"]
            )
        if "confidence_threshold" in data:
            classifier = self.get_object()
            services.classifier_set_threshold(
                classifier=classifier, threshold=data["confidence_threshold"]
            )
        if "distance_threshold" in data:
            services.classifier_set_distance_threshold(
                classifier=self.get_object(), threshold=data["distance_threshold"]
            )
        return Response(self.get_serializer(self.get_object()).data)


class ExamplesApi(APIView):
    """Add example images (multipart): up to EXAMPLES_MAX_FILES_PER_REQUEST `file`
    fields with `class_name`, added at once (201; one bad image rejects them all),
    or a zip as `archive` with one folder per class, added by a worker (202 with
    the import to poll; photos that cannot be used are listed with the reason)."""

    parser_classes = [MultiPartParser, FormParser]
    required_scope = Scope.CLASSIFIERS_MANAGE

    @extend_schema(
        request={"multipart/form-data": s.ExamplesUploadSerializer},
        responses={201: s.ExamplesAddedSerializer, 202: s.ExampleImportSerializer},
    )
    def post(self, request, pk: int):
        classifier = _classifier(request, pk)
        rate_limit_hit(action="examples", user=request.user)
        data = read_body(request)
        payload = s.ExamplesUploadSerializer(data=data)
        payload.is_valid(raise_exception=True)
        received = services.examples_receive(
            classifier=classifier,
            user=request.user,
            archive=request.FILES.get("archive"),
            class_name=payload.validated_data.get("class_name", ""),
            uploads=uploads_from_files(request.FILES.getlist("file")),
        )
        if isinstance(received, dict):
            body = {"added": received, "classes": s.class_rows(classifier)}
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(
            s.ExampleImportSerializer(received, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:example-import-detail", args=[pk, received.pk])},
        )


class ExampleImportDetailApi(generics.RetrieveAPIView):
    """A zip of examples being added by a worker: progress, and refused photos."""

    serializer_class = s.ExampleImportSerializer
    required_scope = Scope.CLASSIFIERS_MANAGE

    def get_object(self):
        classifier = _classifier(self.request, self.kwargs["pk"])
        imports = classifier.imports.defer("members")
        return get_object_or_404(imports, pk=self.kwargs["import_id"])


class TrainApi(APIView):
    """Start training (202 with the run to poll). While a run is queued or
    running, asking again answers with that same run."""

    required_scope = Scope.CLASSIFIERS_MANAGE

    @extend_schema(request=None, responses={202: s.TrainingRunSerializer})
    def post(self, request, pk: int):
        classifier = _classifier(request, pk)
        run, _created = services.training_start(classifier=classifier, user=request.user)
        body = s.TrainingRunSerializer(run, context={"request": request}).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("api:training-run-detail", args=[run.pk])},
        )


class ClassifierChecksApi(APIView):
    """The checks on the examples, from their cached feature vectors (GET): the
    same photo in two classes (``across``) or twice in one (``within``),
    ``outliers``, classes that look ``alike``, and how many examples are
    ``pending`` (not looked at yet). POST looks at up to 32 pending examples
    first (rate-limited like example uploads); remove an example to fix one."""

    required_scope = Scope.CLASSIFIERS_MANAGE

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        classifier = _classifier(request, pk)
        return Response(selectors.classifier_checks(classifier=classifier))

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        classifier = _classifier(request, pk)
        rate_limit_hit(action="examples", user=request.user)
        services.examples_look(classifier=classifier)
        return Response(selectors.classifier_checks(classifier=classifier))


class VersionListApi(generics.ListAPIView):
    """The trained versions of a classifier, newest first, with download links."""

    serializer_class = s.VersionSerializer
    required_scope = Scope.CLASSIFIERS_MANAGE

    def get_queryset(self):
        classifier = _classifier(self.request, self.kwargs["pk"])
        return selectors.version_runs(classifier=classifier).select_related("classifier")


class TrainingRunDetailApi(generics.RetrieveAPIView):
    """A training run's status, phase, percent and, when finished, its metrics."""

    serializer_class = s.TrainingRunSerializer
    required_scope = Scope.CLASSIFIERS_MANAGE

    def get_object(self):
        return _run(self.request, self.kwargs["pk"])


class TrainingRunCancelApi(APIView):
    required_scope = Scope.CLASSIFIERS_MANAGE

    @extend_schema(request=None, responses={200: s.TrainingRunSerializer})
    def post(self, request, pk: int):
        run = services.training_cancel(run=_run(request, pk))
        return Response(s.TrainingRunSerializer(run, context={"request": request}).data)


class ModelExportApi(APIView):
    """Download one of your trained models: `keras`, `onnx`, `labels` (JSON with
    the preprocessing) or `zip` (all three)."""

    required_scope = Scope.CLASSIFIERS_MANAGE

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, kind: str):
        run = selectors.run_for_version(user=request.user, version_id=pk)
        if run is None or kind not in EXPORT_KINDS:
            raise Http404
        token_check_classifier(request, run.classifier_id)
        return export_response(run, kind)
