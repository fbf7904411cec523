"""Shared evaluation sets (uploaded here as a zip, imported by a worker) and
the evaluations of shared models on them."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceAdmin
from evaluation import services
from evaluation.admin.common import percent, report_link, table
from evaluation.models import Evaluation, EvaluationSet
from evaluation.reports import report_context, set_classes
from models_registry.models import LabelSet, ModelVersion


class EvaluationSetAddForm(forms.ModelForm):
    archive_upload = forms.FileField(
        label=_("A zip with one folder per class"),
        help_text=_(
            "Folders named by a class key, its name or its Spanish name, e.g. tabby/1.jpg. "
            "The same name again makes the set's next version."
        ),
    )

    class Meta:
        model = EvaluationSet
        fields = ["name", "description", "label_set"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label_set"].queryset = LabelSet.objects.filter(owner__isnull=True)


@admin.register(EvaluationSet)
class EvaluationSetAdmin(ServiceAdmin):
    list_display = ["__str__", "label_set", "status", "added", "created_at", "page"]
    list_filter = ["status", "label_set"]
    search_fields = ["name"]
    list_select_related = ["label_set"]
    readonly_fields = [
        "name",
        "version",
        "description",
        "label_set",
        "status",
        "total",
        "added",
        "duplicates",
        "failed",
        "error",
        "classes",
        "refused",
        "evaluations_table",
        "user",
        "created_at",
        "page",
    ]

    def get_queryset(self, request):
        # Users' private sets are theirs alone.
        return super().get_queryset(request).filter(owner__isnull=True).defer("members")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EvaluationSetAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "description", "label_set", "archive_upload"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("page"))
    def page(self, obj: EvaluationSet) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("evaluation:set", args=[obj.pk]), gettext("Open")
        )

    @admin.display(description=_("photos per class"))
    def classes(self, obj: EvaluationSet) -> str:
        rows = [(row["name"], row["count"]) for row in set_classes(obj)]
        return table([gettext("Class"), gettext("Photos")], rows) if rows else "–"

    @admin.display(description=_("refused photos"))
    def refused(self, obj: EvaluationSet) -> str:
        rows = [(problem["file"], problem["error"]) for problem in obj.problems[:100]]
        return table([gettext("File"), gettext("Why")], rows) if rows else "–"

    @admin.display(description=_("evaluations"))
    def evaluations_table(self, obj: EvaluationSet) -> str:
        rows = [
            (e.version, e.get_status_display(), percent(e.report.get("accuracy")), report_link(e))
            for e in obj.evaluations.select_related("version")[:50]
        ]
        headers = [gettext("Model"), gettext("Status"), gettext("Accuracy"), gettext("Report")]
        return table(headers, rows) if rows else "–"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.evaluation_set_start(
            name=data["name"],
            description=data.get("description", ""),
            label_set=data["label_set"],
            archive=data["archive_upload"],
            user=request.user,
        )
        obj.pk, obj.version = created.pk, created.version
        self.message_user(
            request,
            gettext("%(set)s was uploaded; its photos are being added in the background.")
            % {"set": created},
        )

    def delete_model(self, request, obj):
        services.evaluation_set_delete(evaluation_set=obj)

    def delete_queryset(self, request, queryset):
        for evaluation_set in queryset:
            services.evaluation_set_delete(evaluation_set=evaluation_set)


class EvaluationAddForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = ["version", "evaluation_set"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = ModelVersion.objects.filter(
            status=ModelVersion.Status.READY, owner__isnull=True
        ).select_related("label_set")
        self.fields["evaluation_set"].queryset = EvaluationSet.objects.filter(
            owner__isnull=True, status=EvaluationSet.Status.SUCCEEDED
        ).defer("members")


@admin.register(Evaluation)
class EvaluationAdmin(ServiceAdmin):
    list_display = ["__str__", "status", "accuracy", "top5", "ece", "created_at", "report_page"]
    list_filter = ["status", "evaluation_set"]
    list_select_related = ["version", "evaluation_set"]
    actions = ["compare"]
    readonly_fields = [
        "version",
        "evaluation_set",
        "status",
        "percent",
        "error",
        "accuracy",
        "top5",
        "ece",
        "thresholds",
        "weakest_classes",
        "report_page",
        "requested_by",
        "created_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(evaluation_set__owner__isnull=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EvaluationAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"version": request.GET.get("version")}

    def get_fields(self, request, obj=None):
        return ["version", "evaluation_set"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("top 1"))
    def accuracy(self, obj: Evaluation) -> str:
        return percent(obj.report.get("accuracy"))

    @admin.display(description=_("top 5"))
    def top5(self, obj: Evaluation) -> str:
        return percent(obj.report.get("top5_accuracy"))

    @admin.display(description=_("calibration error"))
    def ece(self, obj: Evaluation) -> str:
        value = obj.report.get("calibration", {}).get("ece")
        return "–" if value is None else f"{value:.3f}"

    @admin.display(description=_("“none of these” threshold"))
    def thresholds(self, obj: Evaluation) -> str:
        rows = [
            (percent(row["target"]), row["threshold"] or "–", percent(row.get("answered")))
            for row in obj.report.get("suggested_thresholds", [])
        ]
        headers = [gettext("Accuracy wanted"), gettext("Threshold"), gettext("Photos answered")]
        return table(headers, rows) if rows else "–"

    @admin.display(description=_("weakest classes"))
    def weakest_classes(self, obj: Evaluation) -> str:
        rows = [
            (row["name"], f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}")
            for row in report_context(obj, query={}).get("per_class", [])[:10]
        ]
        headers = [gettext("Class"), gettext("Precision"), gettext("Recall"), "F1"]
        return table(headers, rows) if rows else "–"

    @admin.display(description=_("report"))
    def report_page(self, obj: Evaluation) -> str:
        return report_link(obj)

    def save_model(self, request, obj, form, change):
        created = services.evaluation_start(
            version=form.cleaned_data["version"],
            evaluation_set=form.cleaned_data["evaluation_set"],
            user=request.user,
        )
        obj.pk = created.pk
        self.message_user(request, gettext("The evaluation runs in the background."))

    @admin.action(description=_("Compare the two selected evaluations"))
    def compare(self, request, queryset):
        chosen = list(queryset.order_by("created_at", "id")[:3])
        if len(chosen) != 2:
            self.message_user(request, gettext("Select exactly two evaluations."), messages.ERROR)
            return None
        return HttpResponseRedirect(
            f"{reverse('evaluation:compare')}?before={chosen[0].pk}&after={chosen[1].pk}"
        )
