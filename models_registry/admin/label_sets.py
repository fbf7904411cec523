"""Label sets: uploaded from a file, immutable, versioned by name."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ServiceAdmin
from models_registry import selectors, services
from models_registry.models import Label, LabelSet


class LabelSetAddForm(forms.ModelForm):
    labels_file = forms.FileField(
        label=_("Labels file"),
        help_text=_(
            "A .txt file (one class per line), a .csv file (key,name[,name_es]) or a .json "
            "list. The order is the model's output order. The same name makes a new version."
        ),
    )

    class Meta:
        model = LabelSet
        fields = ["name", "description"]


@admin.register(LabelSet)
class LabelSetAdmin(ServiceAdmin):
    list_display = ["name", "version", "label_count", "created_at", "created_by"]
    search_fields = ["name"]
    readonly_fields = ["name", "version", "description", "created_by", "created_at", "preview"]

    @admin.display(description=_("labels"))
    def label_count(self, obj: LabelSet) -> int:
        return obj.labels.count()

    @admin.display(description=_("first labels"))
    def preview(self, obj: LabelSet) -> str:
        labels = selectors.label_list_for_set(label_set=obj)[:20]
        return format_html(
            "<ol start='0'>{}</ol>",
            format_html_join(
                "",
                "<li><code>{}</code> {} <em>{}</em></li>",
                ((label.key, label.name, label.translations.get("es", "")) for label in labels),
            ),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LabelSetAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "description", "labels_file"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # label sets are immutable: a new upload makes a new version
        upload = form.cleaned_data["labels_file"]
        created = services.label_set_import_file(
            name=form.cleaned_data["name"],
            filename=upload.name,
            data=upload.read(),
            description=form.cleaned_data.get("description", ""),
            user=request.user,
        )
        obj.pk = created.pk
        obj.version = created.version

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.model_versions.exists()


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    list_display = ["index", "key", "name", "label_set"]
    list_filter = ["label_set"]
    search_fields = ["key", "name"]
    list_select_related = ["label_set"]
