"""Replays: recent real answers of an alias run through a candidate; the
administrator reads what would change, then approves (the alias moves and
records this report) or cancels."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceAdmin
from core.exceptions import ApplicationError
from evaluation import services
from evaluation.admin.common import table
from evaluation.models import Replay
from models_registry.models import ModelAlias, ModelVersion
from models_registry.selectors import label_names_for_set

CHANGES_SHOWN = 100


class ReplayAddForm(forms.ModelForm):
    alias = forms.ChoiceField(label=_("alias"))

    class Meta:
        model = Replay
        fields = ["alias", "candidate", "limit"]
        help_texts = {"limit": _("The newest kept answers of the alias, at most this many.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = ModelAlias.objects.order_by("name").values_list("name", flat=True)
        self.fields["alias"].choices = [(name, name) for name in names]
        self.fields["candidate"].queryset = ModelVersion.objects.filter(
            status=ModelVersion.Status.READY, owner__isnull=True
        ).select_related("label_set")


def _names(version: ModelVersion) -> dict[str, str]:
    return dict(label_names_for_set(label_set=version.label_set, language=get_language() or "en"))


def _answer(names: dict[str, str], key: str, probability: float) -> str:
    return f"{names.get(key, key)} ({probability:.0%})"


@admin.register(Replay)
class ReplayAdmin(ServiceAdmin):
    list_display = ["__str__", "current", "status", "answers_changed", "decision", "created_at"]
    list_filter = ["status", "decision", "alias"]
    list_select_related = ["current", "candidate"]
    change_form_template = "admin/evaluation/replay/change_form.html"
    readonly_fields = [
        "alias",
        "current",
        "candidate",
        "limit",
        "status",
        "percent",
        "error",
        "answers_changed",
        "transitions",
        "changes",
        "decision",
        "decided_by",
        "decided_at",
        "requested_by",
        "created_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ReplayAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"candidate": request.GET.get("candidate"), "alias": "default"}

    def get_fields(self, request, obj=None):
        return ["alias", "candidate", "limit"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a decision and what it was based on stay on record

    @admin.display(description=_("answers that would change"))
    def answers_changed(self, obj: Replay) -> str:
        if "replayed" not in obj.report:
            return "–"
        return gettext("%(changed)d of %(replayed)d") % obj.report

    @admin.display(description=_("what becomes what"))
    def transitions(self, obj: Replay) -> str:
        before, after = _names(obj.current), _names(obj.candidate)
        rows = [
            (before.get(old, old), after.get(new, new), count)
            for old, new, count in obj.report.get("transitions", [])
        ]
        headers = [gettext("Answered now"), gettext("Would answer"), gettext("Times")]
        return table(headers, rows) if rows else "–"

    @admin.display(description=_("changed answers"))
    def changes(self, obj: Replay) -> str:
        before, after = _names(obj.current), _names(obj.candidate)
        rows = [
            (
                change["prediction"],
                _answer(before, change["before"], change["before_probability"]),
                _answer(after, change["after"], change["after_probability"]),
            )
            for change in obj.report.get("changes", [])[:CHANGES_SHOWN]
        ]
        headers = [gettext("Classification"), gettext("Answered now"), gettext("Would answer")]
        return table(headers, rows) if rows else "–"

    def save_model(self, request, obj, form, change):
        created = services.replay_start(
            alias=form.cleaned_data["alias"],
            candidate=form.cleaned_data["candidate"],
            limit=form.cleaned_data.get("limit") or 0,
            user=request.user,
        )
        obj.pk = created.pk
        self.message_user(request, gettext("The replay runs in the background."))

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path("<int:replay_id>/decide/", decide, name="evaluation_replay_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, replay_id: int):
        """POST approve=1 (the alias moves) or approve=0 (cancel)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request) or not request.user.is_staff:
            raise PermissionDenied
        replay = get_object_or_404(Replay, pk=replay_id)
        approve = request.POST.get("approve") == "1"
        try:
            services.replay_decide(replay=replay, user=request.user, approve=approve)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            message = (
                gettext("“%(alias)s” now answers with %(version)s.")
                if approve
                else gettext("Cancelled: “%(alias)s” stays on its version.")
            )
            values = {"alias": replay.alias, "version": replay.candidate}
            self.message_user(request, message % values)
        return HttpResponseRedirect(reverse("admin:evaluation_replay_change", args=[replay_id]))
