"""Model versions: uploaded, validated in a worker, activated under an alias."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceAdmin
from core.exceptions import ApplicationError
from models_registry import services
from models_registry.models import ModelVersion


class ModelVersionAddForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("Model file (.keras or .onnx)"),
        help_text=_(
            "A Keras 3 model: one input (batch, size, size, 3) of float RGB normalised as "
            "(pixel − 127) / 128, one output with one value per label. Or an ONNX model "
            "(e.g. exported from PyTorch), with how photos become its input below."
        ),
    )
    layout = forms.ChoiceField(
        label=_("ONNX: layout"),
        choices=[("nchw", "NCHW (channels first, PyTorch)"), ("nhwc", "NHWC (channels last)")],
        required=False,
    )
    mean = forms.CharField(
        label=_("ONNX: means"),
        required=False,
        help_text=_("Per channel, in pixel units (0-255). Empty: 123.675, 116.28, 103.53."),
    )
    std = forms.CharField(
        label=_("ONNX: standard deviations"),
        required=False,
        help_text=_("Per channel, in pixel units. Empty: 58.395, 57.12, 57.375."),
    )
    size = forms.IntegerField(
        label=_("ONNX: input size"),
        required=False,
        help_text=_("Only when the file leaves it free."),
    )
    resize = forms.IntegerField(
        label=_("ONNX: resize to"),
        required=False,
        help_text=_("The shorter side before the centre crop. Empty: size / 0.875."),
    )
    PREPROCESSING = ("layout", "mean", "std", "size", "resize")

    class Meta:
        model = ModelVersion
        fields = ["name", "label_set", "notes"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceAdmin):
    list_display = ["__str__", "status_badge", "label_set", "source", "aliases_list", "created_at"]
    list_filter = ["status", "source", "label_set"]
    search_fields = ["name"]
    list_select_related = ["label_set"]
    actions = ["activate_as_default", "validate_again"]
    readonly_fields = [
        "name",
        "version",
        "label_set",
        "source",
        "status_badge",
        "progress_step",
        "error",
        "format",
        "sha256",
        "onnx_sha256",
        "input_size",
        "preprocessing",
        "metrics",
        "int8_variant",
        "notes",
        "created_by",
        "created_at",
        "validated_at",
        "aliases_list",
        "measured",
    ]

    class Media:
        js = ["models_registry/admin_refresh.js"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ModelVersion) -> str:
        return format_html(
            '<span class="model-status" data-status="{}">{}</span>',
            obj.status,
            obj.get_status_display(),
        )

    @admin.display(description=_("step"))
    def progress_step(self, obj: ModelVersion) -> str:
        return obj.progress.get("step", "")

    @admin.display(description=_("int8 variant"))
    def int8_variant(self, obj: ModelVersion) -> str:
        """The gate's numbers and which file answers for this version now."""
        from models_registry.int8 import int8_gate_summary, served_precision

        return format_html(
            "{}<br>{}",
            int8_gate_summary(obj.int8_gate),
            _("Served now: %(precision)s.") % {"precision": served_precision(obj)},
        )

    @admin.display(description=_("aliases"))
    def aliases_list(self, obj: ModelVersion) -> str:
        return ", ".join(alias.name for alias in obj.aliases.all()) or "–"

    @admin.display(description=_("evaluations and replays"))
    def measured(self, obj: ModelVersion) -> str:
        """Its evaluations (accuracy, link to the report) and the ways to
        measure it before it answers for everyone."""
        from evaluation.admin.common import version_summary

        return version_summary(obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ModelVersionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "label_set", "upload", *ModelVersionAddForm.PREPROCESSING, "notes"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return  # versions are immutable
        data = form.cleaned_data
        created = services.model_version_upload(
            name=data["name"],
            file=data["upload"],
            label_set=data["label_set"],
            notes=data.get("notes", ""),
            preprocessing={key: data.get(key) for key in ModelVersionAddForm.PREPROCESSING},
            user=request.user,
        )
        obj.pk = created.pk
        obj.version = created.version
        self.message_user(
            request,
            gettext("%(version)s was uploaded; it is being validated in the background.")
            % {"version": created},
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.aliases.exists()

    @admin.action(description=_("Activate the selected version as “default”"))
    def activate_as_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one version."), messages.ERROR)
            return
        try:
            services.model_alias_point(
                alias=services.DEFAULT_ALIAS, version=queryset.get(), user=request.user
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request, gettext("“default” now points at %(v)s.") % {"v": queryset.get()}
        )

    @admin.action(description=_("Validate the selected failed or stuck versions again"))
    def validate_again(self, request, queryset):
        from models_registry.validation_jobs import model_version_revalidate

        for version in queryset:
            try:
                model_version_revalidate(version=version)
            except ApplicationError as error:
                self.message_user(
                    request,
                    gettext("%(version)s: %(reason)s")
                    % {"version": version, "reason": error.message},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, gettext("%(version)s will be validated again.") % {"version": version}
                )
