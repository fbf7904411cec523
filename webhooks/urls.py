from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("created/", views.webhook_created, name="created"),
    path("<id:pk>/", views.webhook_detail, name="detail"),
    path("<id:pk>/test/", views.webhook_test, name="test"),
    path("<id:pk>/active/", views.webhook_active, name="active"),
    path("<id:pk>/delete/", views.webhook_delete, name="delete"),
]
