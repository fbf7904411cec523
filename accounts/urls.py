from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/new/", views.token_created, name="token_created"),
    path("tokens/revoke-all/", views.token_revoke_all, name="token_revoke_all"),
    path("tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("delete/", views.account_delete, name="delete"),
]
