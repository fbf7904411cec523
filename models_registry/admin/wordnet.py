"""The admin page that makes a grouping from WordNet's hierarchy: a level of
the tree ("WordNet: level 3", 10 groups) or chosen synsets (dog, cat, bird...)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from models_registry import hierarchy
from models_registry.wordnet_groupings import MAX_GROUPS, grouping_create_from_wordnet


class WordNetGroupingForm(forms.Form):
    name = forms.CharField(label=_("Name (English)"), max_length=100)
    name_es = forms.CharField(label=_("Name (Spanish)"), max_length=100, required=False)
    level = forms.TypedChoiceField(
        label=_("A level of the tree"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Every class goes under its hypernym at that level."),
    )
    synsets = forms.MultipleChoiceField(
        label=_("Or these synsets"),
        required=False,
        help_text=_(
            "One group each; a class goes under the most specific one above it, and the "
            "classes none holds go to “Other”."
        ),
    )

    def __init__(self, *args, keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.admin.widgets import FilteredSelectMultiple

        tree = hierarchy.wordnet()
        language = (get_language() or "en").split("-")[0]

        def name(synset: str) -> str:
            node = tree.synsets[synset]
            return node.translations.get(language) or node.name

        self.fields["level"].choices = [("", "—")] + [
            (
                level,
                gettext("Level %(level)d: %(count)d groups (%(examples)s …)")
                % {
                    "level": level,
                    "count": count,
                    "examples": ", ".join(
                        name(g.key) for g in hierarchy.groups_at_level(keys, level)[:4]
                    ),
                },
            )
            for level, count in hierarchy.level_sizes(keys)
            if count <= MAX_GROUPS
        ]
        choices = [
            (synset, f"{name(synset)} ({count}, {synset})")
            for synset, _name, count in hierarchy.synset_choices(keys)
        ]
        self.fields["synsets"].choices = choices
        self.fields["synsets"].widget = FilteredSelectMultiple(_("synsets"), is_stacked=False)
        self.fields["synsets"].widget.choices = choices

    def clean(self):
        data = super().clean()
        if data.get("level") is None and not data.get("synsets"):
            raise forms.ValidationError(gettext("Choose a level or some synsets."))
        return data


def wordnet_grouping_view(model_admin, request, base_versions, base):
    keys = list(base.label_set.labels.values_list("key", flat=True))
    if not hierarchy.covers(keys):
        model_admin.message_user(
            request, gettext("This model's classes are not WordNet synsets."), messages.ERROR
        )
        return HttpResponseRedirect(reverse("admin:models_registry_grouping_changelist"))
    form = WordNetGroupingForm(request.POST or None, keys=keys)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            es = data["name_es"].strip()
            created = grouping_create_from_wordnet(
                name=data["name"],
                translations={"es": es} if es else {},
                base_version=base,
                level=None if data["synsets"] else data["level"],
                synsets=data["synsets"] or None,
                user=request.user,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            model_admin.message_user(
                request,
                gettext(
                    "%(version)s is ready: choose it on the classify page or in the API "
                    "(model=%(id)s)."
                )
                % {"version": created, "id": created.pk},
            )
            return HttpResponseRedirect(reverse("admin:models_registry_grouping_changelist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Build a grouping from WordNet"),
        "form": form,
        "media": model_admin.media + form.media,
        "base": base,
        "base_versions": base_versions,
    }
    return TemplateResponse(request, "admin/models_registry/grouping/wordnet.html", context)
