"""The feedback inbox: corrections users shared with consent on answers of
shared models. Staff look at the photo, turn the chosen items into an
evaluation set, or dismiss them; the disagreement table counts every
correction by version and pair of classes."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from evaluation import selectors, services
from evaluation.models import Feedback
from models_registry.models import ModelVersion
from models_registry.selectors import label_names_for_set


class FeedbackSetForm(forms.Form):
    name = forms.CharField(label=_("Name of the evaluation set"), max_length=100)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "version", "answered", "right_class", "created_at", "status"]
    list_filter = ["status", "version"]
    list_select_related = ["version__label_set", "prediction"]
    actions = ["make_evaluation_set", "dismiss"]
    change_list_template = "admin/evaluation/feedback/change_list.html"
    fields = ["thumbnail", "version", "answered", "right_class", "status", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        # Only corrections shared with consent; own classifiers' stay private.
        return super().get_queryset(request).filter(consent=True, version__owner__isnull=True)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _name(self, obj: Feedback, key: str) -> str:
        names = dict(
            label_names_for_set(label_set=obj.version.label_set, language=get_language() or "en")
        )
        return names.get(key, key)

    @admin.display(description=_("answered"))
    def answered(self, obj: Feedback) -> str:
        return self._name(obj, obj.predicted_key)

    @admin.display(description=_("right class"))
    def right_class(self, obj: Feedback) -> str:
        return self._name(obj, obj.correct_key)

    @admin.display(description=_("photo"))
    def thumbnail(self, obj: Feedback) -> str:
        return format_html(
            '<img src="{}" alt="{}" width="96" height="96">',
            reverse("admin:evaluation_feedback_photo", args=[obj.pk]),
            obj.prediction.original_name or gettext("photo"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        name = "evaluation_feedback_"
        return [
            path("<int:feedback_id>/photo/", view(self.photo_view), name=f"{name}photo"),
            path("to-set/", view(self.to_set_view), name=f"{name}to_set"),
            path("disagreement/", view(self.disagreement_view), name=f"{name}disagreement"),
            *super().get_urls(),
        ]

    def photo_view(self, request, feedback_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = self.get_queryset(request).filter(pk=feedback_id)
        item = found.select_related("prediction__image").first()
        if item is None or item.prediction.image is None:
            raise Http404
        response = FileResponse(item.prediction.image.file.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @admin.action(description=_("Make an evaluation set of the selected items"))
    def make_evaluation_set(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:evaluation_feedback_to_set')}?ids={ids}")

    @admin.action(description=_("Dismiss the selected items"))
    def dismiss(self, request, queryset):
        count = services.feedback_dismiss(feedback_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, gettext("%(count)d dismissed.") % {"count": count})

    def to_set_view(self, request):
        """Asks for the new set's name, then makes it of the chosen items."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.isdigit()][:10000]
        items = self.get_queryset(request).filter(pk__in=ids, status=Feedback.Status.INBOX)
        form = FeedbackSetForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.feedback_to_evaluation_set(
                    feedback_ids=list(items.values_list("pk", flat=True)),
                    name=form.cleaned_data["name"],
                    user=request.user,
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(set)s was made of %(count)d photos.")
                    % {"set": created, "count": created.added},
                )
                return HttpResponseRedirect(
                    reverse("admin:evaluation_evaluationset_change", args=[created.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Make an evaluation set"),
            "form": form,
            "items": items.select_related("version"),
        }
        return TemplateResponse(request, "admin/evaluation/feedback/to_set.html", context)

    def disagreement_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = list(selectors.disagreement()[:500])
        versions = ModelVersion.objects.select_related("label_set").in_bulk(
            {row["version"] for row in rows}
        )
        language = get_language() or "en"
        for row in rows:
            version = versions[row["version"]]
            names = dict(label_names_for_set(label_set=version.label_set, language=language))
            row["version_name"] = str(version)
            row["answered"] = names.get(row["predicted_key"], row["predicted_key"])
            row["right"] = names.get(row["correct_key"], row["correct_key"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Where users disagree"),
            "rows": rows,
        }
        return TemplateResponse(request, "admin/evaluation/feedback/disagreement.html", context)
