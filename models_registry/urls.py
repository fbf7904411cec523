from django.urls import path  # noqa: F401  (pages arrive with the app's models)

app_name = "models_registry"

urlpatterns: list = []
