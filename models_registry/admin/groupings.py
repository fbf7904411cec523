"""Groupings: a label set made of groups of another model's classes."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from models_registry import selectors, services
from models_registry.models import Grouping, LabelSet, ModelVersion


class GroupingForm(forms.Form):
    name = forms.CharField(label=_("Name (English)"), max_length=100)
    name_es = forms.CharField(
        label=_("Name (Spanish)"),
        max_length=100,
        required=False,
        help_text=_("Shown to people who use the site in Spanish; empty: the English name."),
    )
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
    fields = [
        "name",
        "name_es",
        "version",
        "description",
        "grouping_of",
        "created_by",
        "groups_table",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(grouping_of__isnull=False, owner__isnull=True)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a grouping never changes: saving makes a new version

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Name (Spanish)"))
    def name_es(self, obj: LabelSet) -> str:
        return obj.translations.get("es", "")

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

    def get_urls(self):
        from django.urls import path

        urls = [
            path(
                "wordnet/",
                self.admin_site.admin_view(self.wordnet_view),
                name="models_registry_grouping_wordnet",
            )
        ]
        return urls + super().get_urls()

    def _nothing_to_group(self, request):
        self.message_user(request, gettext("There is no ready model to group yet."), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:models_registry_grouping_changelist"))

    def wordnet_view(self, request):
        """A grouping from WordNet's hierarchy (``admin/wordnet.py``)."""
        from models_registry.admin.wordnet import wordnet_grouping_view

        if not self.has_add_permission(request):
            raise PermissionDenied
        base_versions = _base_versions()
        base = _chosen_base(request, base_versions, None)
        if base is None:
            return self._nothing_to_group(request)
        return wordnet_grouping_view(self, request, base_versions, base)

    def add_view(self, request, form_url="", extra_context=None):
        """Build a grouping: a form for its name and one row per group, the
        classes of a base model to choose from (or a grouping's to start from)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        source = None
        if (source_id := request.GET.get("from", "")).isdigit():
            source = self.get_queryset(request).filter(pk=int(source_id)).first()
        base_versions = _base_versions()
        base = _chosen_base(request, base_versions, source)
        if base is None:
            return self._nothing_to_group(request)
        class_choices = [
            (label.key, f"{label.name} ({label.key})")
            for label in selectors.label_list_for_set(label_set=base.label_set)
        ]
        if request.method == "POST":
            form = GroupingForm(request.POST)
            groups = _formset(extra=0)(
                request.POST, prefix="groups", form_kwargs={"class_choices": class_choices}
            )
            if form.is_valid() and groups.is_valid() and self._create(request, form, groups, base):
                return HttpResponseRedirect(reverse("admin:models_registry_grouping_changelist"))
        else:
            initial, groups_initial = _initial_from(source)
            form = GroupingForm(initial=initial)
            groups = _formset(extra=3 if groups_initial else 6)(
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

    def _create(self, request, form, groups, base) -> bool:
        try:
            es = form.cleaned_data["name_es"].strip()
            created = services.grouping_create(
                name=form.cleaned_data["name"],
                translations={"es": es} if es else {},
                description=form.cleaned_data["description"],
                base_version=base,
                groups=groups.groups(),
                user=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return False
        self.message_user(
            request,
            gettext(
                "%(version)s is ready: choose it on the classify page or in the API (model=%(id)s)."
            )
            % {"version": created, "id": created.pk},
        )
        return True


def _formset(*, extra: int):
    return forms.formset_factory(
        GroupForm, formset=_GroupFormSet, extra=extra, min_num=0, max_num=100
    )


def _base_versions() -> list[ModelVersion]:
    """Ready versions whose classes can be grouped (not groupings themselves)."""
    return [
        v
        for v in selectors.model_version_list().select_related("label_set")
        if v.label_set.grouping_of_id is None
    ]


def _chosen_base(request, base_versions, source) -> ModelVersion | None:
    """The version asked for, else the one the edited grouping was built on,
    else the one "default" answers with, else any."""
    wanted = request.POST.get("base_version") or request.GET.get("base") or ""
    base = next((v for v in base_versions if str(v.pk) == wanted), None)
    if base is None and source is not None:
        derived = source.model_versions.select_related("base_version").first()
        base = derived.base_version if derived else None
    if base is None:
        default = selectors.model_version_for_alias(alias=services.DEFAULT_ALIAS)
        base = default if default in base_versions else next(iter(base_versions), None)
    return base


def _initial_from(source) -> tuple[dict, list[dict]]:
    """A grouping's name and groups, to start its next version from."""
    if source is None:
        return {}, []
    initial = {
        "name": source.name,
        "name_es": source.translations.get("es", ""),
        "description": source.description,
    }
    groups = [
        {
            "name": group.name,
            "name_es": group.translations.get("es", ""),
            "key": group.key,
            "catch_all": group.catch_all,
            "members": [m.key for m in group.members.all()],
        }
        for group in source.labels.prefetch_related("members").order_by("index")
    ]
    return initial, groups
