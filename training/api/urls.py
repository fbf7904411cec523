from django.urls import path

from training.api import views

urlpatterns = [
    path("classifiers/", views.ClassifierListApi.as_view(), name="classifier-list"),
    path("classifiers/<id:pk>/", views.ClassifierDetailApi.as_view(), name="classifier-detail"),
    path("classifiers/<id:pk>/examples/", views.ExamplesApi.as_view(), name="classifier-examples"),
    path(
        "classifiers/<id:pk>/imports/<id:import_id>/",
        views.ExampleImportDetailApi.as_view(),
        name="example-import-detail",
    ),
    path("classifiers/<id:pk>/train/", views.TrainApi.as_view(), name="classifier-train"),
    path(
        "classifiers/<id:pk>/checks/", views.ClassifierChecksApi.as_view(), name="classifier-checks"
    ),
    path(
        "classifiers/<id:pk>/versions/", views.VersionListApi.as_view(), name="classifier-versions"
    ),
    path(
        "training-runs/<id:pk>/", views.TrainingRunDetailApi.as_view(), name="training-run-detail"
    ),
    path(
        "training-runs/<id:pk>/cancel/",
        views.TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path(
        "models/<id:pk>/download/<str:kind>/",
        views.ModelExportApi.as_view(),
        name="model-export",
    ),
]
