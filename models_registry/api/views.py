from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, status
from rest_framework import serializers as drf_serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scopes import Scope, TokenHasScope
from models_registry import selectors, services
from models_registry.api import serializers as s
from models_registry.models import ModelAlias


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


# Reading the registry: to choose and follow the model one classifies with.
REGISTRY_READ = (Scope.CLASSIFY, Scope.REGISTRY_ADMIN)
REGISTRY_READ_OR_WRITE = {"GET": REGISTRY_READ, "POST": Scope.REGISTRY_ADMIN}


class LabelSetListApi(generics.ListAPIView):
    """Label sets (GET); staff upload a new one or a new version (POST, multipart)."""

    permission_classes = [TokenHasScope, IsStaffOrReadOnly]
    required_scope = REGISTRY_READ_OR_WRITE
    serializer_class = s.LabelSetSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.label_set_list()

    def get_serializer_class(self):
        return s.LabelSetUploadSerializer if self.request.method == "POST" else s.LabelSetSerializer

    @extend_schema(request=s.LabelSetUploadSerializer, responses={201: s.LabelSetSerializer})
    def post(self, request):
        upload = s.LabelSetUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        label_set = services.label_set_import_file(
            name=data["name"],
            filename=data["file"].name,
            data=data["file"].read(),
            description=data["description"],
            user=request.user,
        )
        return Response(s.LabelSetSerializer(label_set).data, status=status.HTTP_201_CREATED)


class LabelSetDetailApi(generics.RetrieveAPIView):
    serializer_class = s.LabelSetSerializer
    required_scope = REGISTRY_READ

    def get_queryset(self):
        return selectors.label_set_list()


class LabelListApi(generics.ListAPIView):
    """The labels of one set, in output order (paginated)."""

    serializer_class = s.LabelSerializer
    required_scope = REGISTRY_READ

    def get_queryset(self):
        label_set = get_object_or_404(selectors.label_set_list(), pk=self.kwargs["pk"])
        return selectors.label_list_for_set(label_set=label_set).prefetch_related("members")


def _versions_visible_to(user):
    """Shared versions (staff: in any status) and the user's own classifiers;
    never another user's, even for staff."""
    return selectors.model_version_list(include_unready=user.is_staff, user=user).prefetch_related(
        "aliases"
    )


class ModelVersionListApi(generics.ListAPIView):
    """Ready model versions (staff see every status); staff upload (POST) -> 202."""

    permission_classes = [TokenHasScope, IsStaffOrReadOnly]
    parser_classes = [MultiPartParser, FormParser]
    required_scope = REGISTRY_READ_OR_WRITE

    def get_serializer_class(self):
        if self.request.method == "POST":
            return s.ModelVersionUploadSerializer
        return s.ModelVersionSerializer

    def get_queryset(self):
        return _versions_visible_to(self.request.user)

    @extend_schema(
        request=s.ModelVersionUploadSerializer, responses={202: s.ModelVersionSerializer}
    )
    def post(self, request):
        upload = s.ModelVersionUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        declared = {k: data[k] for k in ("layout", "mean", "std", "size", "resize") if k in data}
        version = services.model_version_upload(
            name=data["name"],
            file=data["file"],
            label_set=data["label_set"],
            notes=data["notes"],
            preprocessing=declared,
            user=request.user,
        )
        url = reverse("api:model-version-detail", args=[version.pk])
        return Response(
            s.ModelVersionSerializer(version).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


class ModelVersionDetailApi(generics.RetrieveAPIView):
    serializer_class = s.ModelVersionSerializer
    required_scope = REGISTRY_READ

    def get_queryset(self):
        return _versions_visible_to(self.request.user)


class LabelDiffApi(APIView):
    """The label differences between two model versions you may see."""

    required_scope = REGISTRY_READ

    @extend_schema(
        responses=s.LabelDiffSerializer,
        description=(
            "How the second version's classes differ from the first's, by key: `added`, "
            "`removed`, `renamed` (the same key with another name: answers keep the key) and "
            "`moved` (the same key at another place in the output). Names in the request's "
            "language too. Check it when classify answers 412 `version_changed`."
        ),
    )
    def get(self, request, pk: int, other: int):
        visible = _versions_visible_to(request.user).select_related("label_set")
        before = get_object_or_404(visible, pk=pk)
        after = get_object_or_404(visible, pk=other)
        diff = selectors.label_diff(before=before, after=after, language=get_language() or "en")
        return Response(s.LabelDiffSerializer({"before": pk, "after": other, **diff}).data)


class ModelAliasListApi(generics.ListAPIView):
    serializer_class = s.ModelAliasSerializer
    required_scope = REGISTRY_READ

    def get_queryset(self):
        return selectors.model_alias_list()


class ModelAliasDetailApi(APIView):
    """One alias with its history of moves."""

    required_scope = REGISTRY_READ

    @extend_schema(
        responses=inline_serializer(
            "ModelAliasWithHistory",
            {
                "name": drf_serializers.CharField(),
                "version": s.ModelVersionSerializer(),
                "updated_at": drf_serializers.DateTimeField(),
                "history": s.AliasChangeSerializer(many=True),
            },
        )
    )
    def get(self, request, name):
        alias = get_object_or_404(selectors.model_alias_list(), name=name)
        data = s.ModelAliasSerializer(alias).data
        data["history"] = s.AliasChangeSerializer(
            selectors.alias_history(alias=alias)[:50], many=True, context={"request": request}
        ).data
        return Response(data)


class ModelAliasActivateApi(APIView):
    """Staff: point the alias at a ready version (creates the alias if new)."""

    permission_classes = [TokenHasScope, permissions.IsAdminUser]
    required_scope = Scope.REGISTRY_ADMIN

    @extend_schema(request=s.AliasActivateSerializer, responses=s.ModelAliasSerializer)
    def post(self, request, name):
        payload = s.AliasActivateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alias = services.model_alias_point(
            alias=name, version=payload.validated_data["version"], user=request.user
        )
        return Response(s.ModelAliasSerializer(alias).data)


class ModelAliasRollbackApi(APIView):
    """Staff: point the alias back at the version before its last move."""

    permission_classes = [TokenHasScope, permissions.IsAdminUser]
    required_scope = Scope.REGISTRY_ADMIN

    @extend_schema(request=None, responses=s.ModelAliasSerializer)
    def post(self, request, name):
        alias = services.model_alias_rollback(alias=name, user=request.user)
        return Response(s.ModelAliasSerializer(ModelAlias.objects.get(pk=alias.pk)).data)
