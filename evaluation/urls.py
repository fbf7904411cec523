from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.set_list, name="sets"),
    path("upload/", views.set_upload, name="set_upload"),
    path("<id:set_id>/", views.set_detail, name="set"),
    path("<id:set_id>/evaluate/", views.evaluate, name="evaluate"),
    path("reports/<id:evaluation_id>/", views.report, name="report"),
    path("compare/", views.compare, name="compare"),
    path("photos/<id:photo_id>/", views.photo, name="photo"),
    path("feedback/<id:prediction_id>/", views.feedback, name="feedback"),
]
