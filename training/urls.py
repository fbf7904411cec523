from django.urls import path  # noqa: F401  (pages arrive with the app's models)

app_name = "training"

urlpatterns: list = []
