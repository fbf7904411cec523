from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from core.exceptions import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (history, labels): staff may look, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """Creation goes through a service; its refusals come back as messages."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
