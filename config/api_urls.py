"""Every app's REST endpoints, collected under /api/v1/."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("models_registry.api.urls")),
    path("", include("classification.api.urls")),
    path("", include("training.api.urls")),
    path("", include("evaluation.api.urls")),
    path("", include("webhooks.api.urls")),
]
