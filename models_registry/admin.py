"""Administrators change what images are classified into, from here.

Upload a label set (txt, CSV or JSON) and a .keras model for it; validation
runs in a worker and its progress shows on the model's page; activate a ready
version under an alias, or roll an alias back, with one action. Every admin
write goes through ``services``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.exceptions import ApplicationError
from models_registry import selectors, services
from models_registry.models import (
    AliasChange,
    Grouping,
    Label,
    LabelSet,
    ModelAlias,
    ModelVersion,
)


class _ServiceAdmin(admin.ModelAdmin):
    """Creation goes through a service; errors come back as form errors."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# Label sets
# ------------------------------------------------------------------------------


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
class LabelSetAdmin(_ServiceAdmin):
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


# Model versions
# ------------------------------------------------------------------------------


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
class ModelVersionAdmin(_ServiceAdmin):
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
        "notes",
        "created_by",
        "created_at",
        "validated_at",
        "aliases_list",
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

    @admin.display(description=_("aliases"))
    def aliases_list(self, obj: ModelVersion) -> str:
        return ", ".join(alias.name for alias in obj.aliases.all()) or "–"

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


# Aliases
# ------------------------------------------------------------------------------


class AliasChangeInline(admin.TabularInline):
    model = AliasChange
    fields = ["changed_at", "action", "from_version", "to_version", "changed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-changed_at", "-id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ModelAliasForm(forms.ModelForm):
    class Meta:
        model = ModelAlias
        fields = ["name", "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = selectors.model_version_list()


@admin.register(ModelAlias)
class ModelAliasAdmin(_ServiceAdmin):
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
    list_display = ["changed_at", "alias", "action", "from_version", "to_version", "changed_by"]
    list_filter = ["alias", "action"]
    list_select_related = ["alias", "from_version", "to_version", "changed_by"]


# Groupings: build a label set out of groups of another model's classes
# ------------------------------------------------------------------------------


class GroupingForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    name_es = forms.CharField(label=_("Name (Spanish)"), max_length=200, required=False)
    key = forms.SlugField(
        label=_("Key"),
        max_length=100,
        required=False,
        help_text=_("A stable identifier for the API; made from the name when empty."),
    )
    catch_all = forms.BooleanField(label=_("Every class no other group lists"), required=False)
    members = forms.MultipleChoiceField(label=_("Classes"), required=False)

    def __init__(self, *args, class_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.admin.widgets import FilteredSelectMultiple

        self.fields["members"].choices = class_choices
        self.fields["members"].widget = FilteredSelectMultiple(_("classes"), is_stacked=False)
        self.fields["members"].widget.choices = class_choices

    def group(self) -> services.GroupData | None:
        data = self.cleaned_data
        if not data or not (data.get("name") or "").strip():
            return None
        from django.utils.text import slugify

        es = (data.get("name_es") or "").strip()
        return services.GroupData(
            key=data.get("key") or slugify(data["name"])[:100] or "group",
            name=data["name"].strip(),
            translations={"es": es} if es else {},
            members=list(data.get("members") or []),
            catch_all=bool(data.get("catch_all")),
        )


class _GroupFormSet(forms.BaseFormSet):
    def groups(self) -> list[services.GroupData]:
        return [g for form in self.forms if (g := form.group()) is not None]


@admin.register(Grouping)
class GroupingAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "group_count", "grouping_of", "created_at", "new_version"]
    search_fields = ["name"]
    fields = ["name", "version", "description", "grouping_of", "created_by", "groups_table"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grouping_of__isnull=False, owner__isnull=True)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a grouping never changes: saving makes a new version

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("groups"))
    def group_count(self, obj: LabelSet) -> int:
        return obj.labels.count()

    @admin.display(description=_("new version"))
    def new_version(self, obj: LabelSet) -> str:
        return format_html(
            '<a href="{}?from={}">{}</a>',
            reverse("admin:models_registry_grouping_add"),
            obj.pk,
            gettext("Edit as a new version"),
        )

    @admin.display(description=_("groups"))
    def groups_table(self, obj: LabelSet) -> str:
        rows = []
        for group in obj.labels.prefetch_related("members").order_by("index"):
            members = [m.name for m in group.members.all()]
            summary = (
                gettext("every class no other group lists")
                if group.catch_all
                else ", ".join(members[:8]) + (" …" if len(members) > 8 else "")
            )
            rows.append((group.name, group.translations.get("es", ""), len(members), summary))
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            gettext("Group"),
            gettext("Spanish"),
            gettext("Classes"),
            gettext("Examples"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        base_versions = [
            v
            for v in selectors.model_version_list().select_related("label_set")
            if v.label_set.grouping_of_id is None
        ]
        source = None
        if (source_id := request.GET.get("from", "")).isdigit():
            source = self.get_queryset(request).filter(pk=int(source_id)).first()
        wanted = request.POST.get("base_version") or request.GET.get("base") or ""
        base = next((v for v in base_versions if str(v.pk) == wanted), None)
        if base is None and source is not None:
            derived = source.model_versions.select_related("base_version").first()
            base = derived.base_version if derived else None
        if base is None:
            default = selectors.model_version_for_alias(alias=services.DEFAULT_ALIAS)
            base = default if default in base_versions else next(iter(base_versions), None)
        if base is None:
            self.message_user(
                request, gettext("There is no ready model to group yet."), messages.ERROR
            )
            return HttpResponseRedirect(reverse("admin:models_registry_grouping_changelist"))

        class_choices = [
            (label.key, f"{label.name} ({label.key})")
            for label in selectors.label_list_for_set(label_set=base.label_set)
        ]
        formset_class = forms.formset_factory(
            GroupForm, formset=_GroupFormSet, extra=0, min_num=0, max_num=100
        )
        if request.method == "POST":
            form = GroupingForm(request.POST)
            groups = formset_class(
                request.POST, prefix="groups", form_kwargs={"class_choices": class_choices}
            )
            if form.is_valid() and groups.is_valid():
                try:
                    created = services.grouping_create(
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        base_version=base,
                        groups=groups.groups(),
                        user=request.user,
                    )
                except ApplicationError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(
                        request,
                        gettext(
                            "%(version)s is ready: choose it on the classify page or "
                            "in the API (model=%(id)s)."
                        )
                        % {"version": created, "id": created.pk},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:models_registry_grouping_changelist")
                    )
        else:
            initial, groups_initial = {}, []
            if source is not None:
                initial = {"name": source.name, "description": source.description}
                for group in source.labels.prefetch_related("members").order_by("index"):
                    groups_initial.append(
                        {
                            "name": group.name,
                            "name_es": group.translations.get("es", ""),
                            "key": group.key,
                            "catch_all": group.catch_all,
                            "members": [m.key for m in group.members.all()],
                        }
                    )
            form = GroupingForm(initial=initial)
            groups = forms.formset_factory(
                GroupForm, formset=_GroupFormSet, extra=3 if groups_initial else 6, max_num=100
            )(
                initial=groups_initial,
                prefix="groups",
                form_kwargs={"class_choices": class_choices},
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Build a grouping"),
            "form": form,
            "groups": groups,
            "media": self.media + form.media + groups.media,
            "base": base,
            "base_versions": base_versions,
            "source": source,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/models_registry/grouping/build.html", context)
