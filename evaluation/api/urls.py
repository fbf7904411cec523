from django.urls import path

from evaluation.api import views

urlpatterns = [
    path("evaluation-sets/", views.EvaluationSetListApi.as_view(), name="evaluation-set-list"),
    path(
        "evaluation-sets/<id:pk>/",
        views.EvaluationSetDetailApi.as_view(),
        name="evaluation-set-detail",
    ),
    path("evaluations/", views.EvaluationListApi.as_view(), name="evaluation-list"),
    path("evaluations/compare/", views.EvaluationCompareApi.as_view(), name="evaluation-compare"),
    path("evaluations/<id:pk>/", views.EvaluationDetailApi.as_view(), name="evaluation-detail"),
    path("replays/", views.ReplayListApi.as_view(), name="replay-list"),
    path("replays/<id:pk>/", views.ReplayDetailApi.as_view(), name="replay-detail"),
    path(
        "replays/<id:pk>/approve/",
        views.ReplayDecideApi.as_view(approve=True),
        name="replay-approve",
    ),
    path(
        "replays/<id:pk>/cancel/",
        views.ReplayDecideApi.as_view(approve=False),
        name="replay-cancel",
    ),
    path(
        "classifications/<id:pk>/feedback/",
        views.FeedbackApi.as_view(),
        name="classification-feedback",
    ),
    path("feedback/", views.FeedbackInboxApi.as_view(), name="feedback-inbox"),
    path("feedback/disagreement/", views.DisagreementApi.as_view(), name="feedback-disagreement"),
]
