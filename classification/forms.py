from django import forms
from django.utils.translation import gettext_lazy as _

from classification.selectors import classifier_choices


class ClassifierChoiceForm(forms.Form):
    model = forms.ChoiceField(label=_("Classifier"))
    store = forms.BooleanField(
        label=_("Keep my images in my history"),
        required=False,
        initial=True,
        help_text=_("Untick to classify and discard the images, keeping only the results."),
    )

    def __init__(self, *args, user, initial_model: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        wanted = str(self.data.get("model") or initial_model or "")
        self.fields["model"].choices = _one_entry_per_model(
            classifier_choices(user=user), user, wanted
        )
        self.fields["model"].initial = initial_model or "default"


def _one_entry_per_model(choices: list, user, wanted: str) -> list:
    """One entry per model: a shared version an alias points at is listed once,
    as the alias (which follows it when it moves); each of the user's
    classifiers once, as the version in use (versions are switched on the
    classifier's page). ``wanted``, another of the user's versions asked for by
    a link or a form, is kept so it can be chosen."""
    from models_registry.selectors import model_alias_list
    from training.selectors import classifier_list_for_user

    aliased = {str(alias.version_id) for alias in model_alias_list()}
    shared = [(value, label) for value, label in choices if not isinstance(label, list | tuple)]
    shared = [(value, label) for value, label in shared if value not in aliased or value == wanted]
    own_versions = dict(
        next((group for _label, group in choices if isinstance(group, list | tuple)), [])
    )
    own = [
        (str(c.active_version_id), c.name)
        for c in classifier_list_for_user(user=user)
        if str(c.active_version_id) in own_versions
    ]
    if wanted in own_versions and wanted not in dict(own):
        own.append((wanted, own_versions[wanted]))
    return shared + ([(_("My classifiers"), own)] if own else [])
