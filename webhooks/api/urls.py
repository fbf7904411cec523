from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks/", views.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<id:pk>/", views.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<id:pk>/deliveries/",
        views.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path("webhooks/<id:pk>/test/", views.WebhookTestApi.as_view(), name="webhook-test"),
]
