from django.urls import path

from classification.api import views

urlpatterns = [
    path("classifications/", views.ClassificationListApi.as_view(), name="classification-list"),
    path(
        "classifications/preview/",
        views.ClassificationPreviewApi.as_view(),
        name="classification-preview",
    ),
    path(
        "classifications/<id:pk>/",
        views.ClassificationDetailApi.as_view(),
        name="classification-detail",
    ),
    path("batches/", views.BatchListApi.as_view(), name="batch-list"),
    path("batches/<id:pk>/", views.BatchDetailApi.as_view(), name="batch-detail"),
    path("batches/<id:pk>/results/", views.BatchResultsApi.as_view(), name="batch-results"),
    path("batches/<id:pk>/sorted.zip", views.BatchSortedZipApi.as_view(), name="batch-sorted-zip"),
]
