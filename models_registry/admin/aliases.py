"""Aliases: which version answers under a name, with their history and roll back."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ServiceAdmin
from core.exceptions import ApplicationError
from models_registry import selectors, services
from models_registry.models import AliasChange, ModelAlias


def basis(change: AliasChange) -> str:
    """What a move was based on: the replay (and the evaluation) approved."""
    based_on = change.based_on or {}
    parts = []
    if "replay" in based_on:
        parts.append(
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:evaluation_replay_change", args=[based_on["replay"]]),
                gettext("replay: %(changed)s of %(replayed)s answers changed")
                % {"changed": based_on.get("changed"), "replayed": based_on.get("replayed")},
            )
        )
    if "evaluation" in based_on and based_on.get("accuracy") is not None:
        parts.append(
            format_html(
                '<a href="{}">{}</a>',
                reverse("evaluation:report", args=[based_on["evaluation"]]),
                gettext("evaluated: %(accuracy).1f %% right")
                % {"accuracy": 100 * based_on["accuracy"]},
            )
        )
    return format_html_join("; ", "{}", ((part,) for part in parts)) if parts else "–"


class AliasChangeInline(admin.TabularInline):
    model = AliasChange
    fields = ["changed_at", "action", "from_version", "to_version", "changed_by", "based_on_report"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-changed_at", "-id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("based on"))
    def based_on_report(self, obj: AliasChange) -> str:
        return basis(obj)


class ModelAliasForm(forms.ModelForm):
    class Meta:
        model = ModelAlias
        fields = ["name", "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = selectors.model_version_list()


@admin.register(ModelAlias)
class ModelAliasAdmin(ServiceAdmin):
    form = ModelAliasForm
    list_display = ["name", "version", "updated_by", "updated_at"]
    list_select_related = ["version", "updated_by"]
    inlines = [AliasChangeInline]
    actions = ["roll_back"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []

    def save_model(self, request, obj, form, change):
        alias = services.model_alias_point(
            alias=obj.name, version=form.cleaned_data["version"], user=request.user
        )
        obj.pk = alias.pk

    def save_related(self, request, form, formsets, change):
        pass  # history rows are written by the service only

    @admin.action(description=_("Roll back the selected aliases to their previous version"))
    def roll_back(self, request, queryset):
        for alias in queryset:
            try:
                moved = services.model_alias_rollback(alias=alias.name, user=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("“%(alias)s” is back on %(version)s.")
                % {"alias": moved.name, "version": moved.version},
            )


@admin.register(AliasChange)
class AliasChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "changed_at",
        "alias",
        "action",
        "from_version",
        "to_version",
        "changed_by",
        "based_on_report",
    ]
    list_filter = ["alias", "action"]
    list_select_related = ["alias", "from_version", "to_version", "changed_by"]

    @admin.display(description=_("based on"))
    def based_on_report(self, obj: AliasChange) -> str:
        return basis(obj)
