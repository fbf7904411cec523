from django.urls import path, re_path

from classification import views

app_name = "classification"

urlpatterns = [
    path("", views.classify, name="classify"),
    path("history/", views.history, name="history"),
    re_path(r"^history/export\.(?P<fmt>csv|json)$", views.history_export, name="history_export"),
    path("history/delete/", views.history_delete_all, name="history_delete_all"),
    path("history/<id:prediction_id>/", views.prediction_detail, name="prediction_detail"),
    path("history/<id:prediction_id>/delete/", views.prediction_delete, name="prediction_delete"),
    path("images/<id:image_id>/", views.image, name="image"),
    path("images/<id:image_id>/thumbnail/", views.image, {"thumbnail": True}, name="thumbnail"),
    path("batches/", views.batch_new, name="batch_new"),
    path("batches/<id:job_id>/", views.batch_detail, name="batch_detail"),
    re_path(
        r"^batches/(?P<job_id>[0-9]{1,18})/export\.(?P<fmt>csv|json)$",
        views.batch_export,
        name="batch_export",
    ),
    path("batches/<id:job_id>/sorted.zip", views.batch_sorted_zip, name="batch_sorted_zip"),
]
