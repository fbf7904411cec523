from django.urls import path

from models_registry.api import views

urlpatterns = [
    path("label-sets/", views.LabelSetListApi.as_view(), name="label-set-list"),
    path("label-sets/<id:pk>/", views.LabelSetDetailApi.as_view(), name="label-set-detail"),
    path("label-sets/<id:pk>/labels/", views.LabelListApi.as_view(), name="label-list"),
    path("models/", views.ModelVersionListApi.as_view(), name="model-version-list"),
    path("models/<id:pk>/", views.ModelVersionDetailApi.as_view(), name="model-version-detail"),
    path(
        "models/<id:pk>/label-diff/<id:other>/",
        views.LabelDiffApi.as_view(),
        name="model-version-label-diff",
    ),
    path("aliases/", views.ModelAliasListApi.as_view(), name="alias-list"),
    path("aliases/<slug:name>/", views.ModelAliasDetailApi.as_view(), name="alias-detail"),
    path(
        "aliases/<slug:name>/activate/",
        views.ModelAliasActivateApi.as_view(),
        name="alias-activate",
    ),
    path(
        "aliases/<slug:name>/rollback/",
        views.ModelAliasRollbackApi.as_view(),
        name="alias-rollback",
    ),
]
