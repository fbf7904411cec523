from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scopes import (
    Scope,
    TokenHasScope,
    token_check_classifier,
    token_check_version,
    token_classifier_id,
    token_limit_queryset,
)
from classification.api.views import predictions_for_request
from core.exceptions import ApplicationError
from core.ratelimits import rate_limit_hit
from core.uploads import read_data_within_limits
from evaluation import selectors, services
from evaluation.api import serializers as s
from models_registry.models import ModelVersion

# Owners measure their classifiers; staff, the shared models.
EVALUATE = (Scope.CLASSIFIERS_MANAGE, Scope.REGISTRY_ADMIN)
STAFF = [TokenHasScope, IsAdminUser]


def _sets(request):
    """The sets the user may see; a token limited to a classifier: its sets only."""
    sets = selectors.evaluation_sets_for(user=request.user)
    classifier = token_classifier_id(request)
    if classifier is None:
        return sets
    label_sets = ModelVersion.objects.filter(training_run__classifier_id=classifier)
    return sets.filter(label_set__in=label_sets.values("label_set"))


def _evaluations(request):
    evaluations = selectors.evaluations_for(user=request.user)
    return token_limit_queryset(request, evaluations, "version__training_run__classifier_id")


def _created(serializer, name: str, obj):
    return Response(
        serializer.data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": reverse(name, args=[obj.pk])},
    )


class EvaluationSetListApi(generics.ListAPIView):
    """Your evaluation sets (staff: the shared ones too); POST a zip with one
    folder per class -> 202 (a worker adds the photos; poll the set)."""

    serializer_class = s.EvaluationSetSerializer
    parser_classes = [MultiPartParser, FormParser]
    required_scope = EVALUATE

    def get_queryset(self):
        return _sets(self.request)

    @extend_schema(
        request={"multipart/form-data": s.EvaluationSetCreateSerializer},
        responses={202: s.EvaluationSetSerializer},
    )
    def post(self, request):
        from training.selectors import classifier_list_for_user

        rate_limit_hit(action="examples", user=request.user)
        payload = s.EvaluationSetCreateSerializer(data=read_data_within_limits(request))
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        owner, label_set = None, data.get("label_set")
        token_check_classifier(request, data.get("classifier"))
        if data.get("classifier"):
            classifier = get_object_or_404(
                classifier_list_for_user(user=request.user), pk=data["classifier"]
            )
            if classifier.active_version is None:
                raise ApplicationError(
                    _("Train the classifier first: its classes come from a trained version."),
                    code="not_trained",
                    status=409,
                )
            owner, label_set = request.user, classifier.active_version.label_set
        elif not request.user.is_staff or label_set is None:
            raise ApplicationError(
                _(
                    "Say which classes the folders name: a classifier of yours (or, for staff, "
                    "a label set)."
                ),
                code="label_set_required",
            )
        evaluation_set = services.evaluation_set_start(
            name=data["name"],
            description=data["description"],
            label_set=label_set,
            archive=data["archive"],
            user=request.user,
            owner=owner,
        )
        body = s.EvaluationSetSerializer(evaluation_set, context={"request": request})
        return _created(body, "api:evaluation-set-detail", evaluation_set)


class EvaluationSetDetailApi(generics.RetrieveDestroyAPIView):
    serializer_class = s.EvaluationSetSerializer
    required_scope = EVALUATE

    def get_queryset(self):
        return _sets(self.request)

    def perform_destroy(self, instance):
        services.evaluation_set_delete(evaluation_set=instance)


class EvaluationListApi(generics.ListAPIView):
    """Evaluations you may see; POST {model, evaluation_set} -> 202 (a worker
    measures the version on the set; poll the evaluation for its report)."""

    serializer_class = s.EvaluationSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    required_scope = EVALUATE

    def get_queryset(self):
        return _evaluations(self.request)

    @extend_schema(request=s.EvaluationCreateSerializer, responses={202: s.EvaluationSerializer})
    def post(self, request):
        payload = s.EvaluationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token_check_version(request, payload.validated_data["model"])
        sets = _sets(request)
        evaluation_set = get_object_or_404(sets, pk=payload.validated_data["evaluation_set"])
        evaluation = services.evaluation_start(
            version=payload.validated_data["model"],
            evaluation_set=evaluation_set,
            user=request.user,
        )
        body = s.EvaluationSerializer(evaluation, context={"request": request})
        return _created(body, "api:evaluation-detail", evaluation)


class EvaluationDetailApi(generics.RetrieveAPIView):
    serializer_class = s.EvaluationSerializer
    required_scope = EVALUATE

    def get_queryset(self):
        return _evaluations(self.request)


class EvaluationCompareApi(APIView):
    """Two evaluations of the same set side by side."""

    required_scope = EVALUATE

    @extend_schema(
        parameters=[
            OpenApiParameter("before", OpenApiTypes.INT, required=True),
            OpenApiParameter("after", OpenApiTypes.INT, required=True),
        ],
        responses={200: s.ComparisonSerializer},
    )
    def get(self, request):
        visible = _evaluations(request)
        ids = {}
        for side in ("before", "after"):
            value = request.query_params.get(side, "")
            if not value.isdigit() or len(value) > 18:
                raise ApplicationError(
                    _("Give the two evaluations as ?before=<id>&after=<id>."), code="invalid"
                )
            ids[side] = get_object_or_404(visible, pk=int(value))
        return Response(services.evaluation_compare(**ids))


class ReplayListApi(generics.ListAPIView):
    """Staff: replays; POST {model, alias, limit} -> 202 (a worker runs the
    alias's recent kept answers through the candidate)."""

    serializer_class = s.ReplaySerializer
    permission_classes = STAFF
    parser_classes = [JSONParser, FormParser]
    required_scope = Scope.REGISTRY_ADMIN

    def get_queryset(self):
        return selectors.replays_for(user=self.request.user)

    @extend_schema(request=s.ReplayCreateSerializer, responses={202: s.ReplaySerializer})
    def post(self, request):
        payload = s.ReplayCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        replay = services.replay_start(
            candidate=data["model"],
            alias=data["alias"],
            limit=data.get("limit", 0),
            user=request.user,
        )
        return _created(
            s.ReplaySerializer(replay, context={"request": request}), "api:replay-detail", replay
        )


class ReplayDetailApi(generics.RetrieveAPIView):
    serializer_class = s.ReplaySerializer
    permission_classes = STAFF
    required_scope = Scope.REGISTRY_ADMIN

    def get_queryset(self):
        return selectors.replays_for(user=self.request.user)


class ReplayDecideApi(APIView):
    """Staff: approve (the alias moves to the candidate, recording the report)
    or cancel."""

    permission_classes = STAFF
    required_scope = Scope.REGISTRY_ADMIN
    approve = True

    @extend_schema(request=None, responses={200: s.ReplaySerializer})
    def post(self, request, pk: int):
        replay = get_object_or_404(selectors.replays_for(user=request.user), pk=pk)
        replay = services.replay_decide(replay=replay, user=request.user, approve=self.approve)
        return Response(s.ReplaySerializer(replay, context={"request": request}).data)


class FeedbackApi(APIView):
    """ "Wrong? The right class is ...": on your own classifier the photo becomes
    an example of that class; on a shared model it goes to the administrators
    only with ``consent``."""

    parser_classes = [JSONParser, FormParser]
    required_scope = Scope.CLASSIFY

    @extend_schema(request=s.FeedbackCreateSerializer, responses={201: s.FeedbackSerializer})
    def post(self, request, pk: int):
        # the same classifications the token may follow (its own without history:read)
        prediction = get_object_or_404(
            predictions_for_request(request, own=True).select_related("model_version"), pk=pk
        )
        token_check_version(request, prediction.model_version)
        payload = s.FeedbackCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        feedback = services.feedback_give(
            user=request.user, prediction_id=pk, **payload.validated_data
        )
        return Response(s.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class FeedbackInboxApi(generics.ListAPIView):
    """Staff: corrections users shared with consent, waiting in the inbox."""

    serializer_class = s.FeedbackSerializer
    permission_classes = STAFF
    required_scope = Scope.REGISTRY_ADMIN

    def get_queryset(self):
        return selectors.feedback_inbox(user=self.request.user)


class DisagreementApi(generics.ListAPIView):
    """Staff: how often users said an answer was wrong, by version and classes."""

    serializer_class = s.DisagreementSerializer
    permission_classes = STAFF
    required_scope = Scope.REGISTRY_ADMIN

    def get_queryset(self):
        return selectors.disagreement()
