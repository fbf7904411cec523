from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "key_prefix",
        "scopes",
        "classifier",
        "expires_at",
        "created_at",
        "last_used_at",
    ]
    search_fields = ["name", "user__email"]
    # What a token may do is its owner's choice, made when it is created.
    readonly_fields = [
        "key_prefix",
        "key_digest",
        "scopes",
        "classifier",
        "created_at",
        "last_used_at",
    ]
    list_select_related = ["user", "classifier"]

    def has_add_permission(self, request) -> bool:
        # A key is only ever shown to its owner, from the profile page.
        return False
