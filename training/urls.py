from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.classifier_list, name="list"),
    path("<id:classifier_id>/", views.classifier_detail, name="detail"),
    path("<id:classifier_id>/rename/", views.classifier_rename, name="rename"),
    path("<id:classifier_id>/delete/", views.classifier_delete, name="delete"),
    path("<id:classifier_id>/classes/", views.class_add, name="class_add"),
    path(
        "<id:classifier_id>/classes/<id:class_id>/delete/",
        views.class_delete,
        name="class_delete",
    ),
    path(
        "<id:classifier_id>/classes/<id:class_id>/examples/",
        views.examples_of_class,
        name="examples",
    ),
    path("<id:classifier_id>/examples/", views.examples_upload, name="examples_upload"),
    path(
        "<id:classifier_id>/examples/<id:example_id>/delete/",
        views.example_delete,
        name="example_delete",
    ),
    path("<id:classifier_id>/train/", views.train, name="train"),
    path("<id:classifier_id>/use-version/", views.use_version, name="use_version"),
    path("<id:classifier_id>/threshold/", views.set_threshold, name="threshold"),
    path("<id:classifier_id>/distance/", views.set_distance, name="distance"),
    path("<id:classifier_id>/look/", views.examples_look, name="look"),
    path("examples/<id:example_id>.jpg", views.example_image, name="example_image"),
    path("runs/<id:run_id>/", views.run_detail, name="run"),
    path("runs/<id:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("versions/<id:version_id>/export/<str:kind>/", views.export, name="export"),
]
