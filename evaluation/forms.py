from django import forms
from django.utils.translation import gettext_lazy as _

from models_registry.models import LabelSet, ModelVersion


class EvaluationSetForm(forms.Form):
    """A new evaluation set: users name one of their classifiers (a private
    set); staff may instead name a shared label set."""

    name = forms.CharField(label=_("Name"), max_length=100)
    classifier = forms.ModelChoiceField(
        label=_("For my classifier"), queryset=None, required=False, empty_label=_("—")
    )
    label_set = forms.ModelChoiceField(
        label=_("Or, for shared models, the label set"),
        queryset=LabelSet.objects.filter(owner__isnull=True),
        required=False,
        empty_label=_("—"),
    )
    archive = forms.FileField(
        label=_("A zip with one folder per class"),
        help_text=_("Folders named like the classes, e.g. cat/1.jpg, dog/2.jpg."),
    )

    def __init__(self, *args, user, **kwargs):
        from training.selectors import classifier_list_for_user

        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["classifier"].queryset = classifier_list_for_user(user=user).filter(
            active_version__isnull=False
        )
        if not user.is_staff:
            del self.fields["label_set"]

    def clean(self):
        data = super().clean()
        if not data.get("classifier") and not data.get("label_set"):
            raise forms.ValidationError(_("Choose your classifier (or a label set)."))
        return data

    def chosen_label_set(self) -> LabelSet:
        classifier = self.cleaned_data.get("classifier")
        if classifier is not None:
            return classifier.active_version.label_set
        return self.cleaned_data["label_set"]

    def owner(self):
        return self.user if self.cleaned_data.get("classifier") is not None else None


class EvaluationStartForm(forms.Form):
    model = forms.ModelChoiceField(label=_("Model"), queryset=None, empty_label=None)

    def __init__(self, *args, user, evaluation_set, **kwargs):
        super().__init__(*args, **kwargs)
        ready = ModelVersion.objects.filter(status=ModelVersion.Status.READY)
        if evaluation_set.owner_id is None:
            versions = ready.filter(owner__isnull=True)
        else:
            versions = ready.filter(owner=user)
        self.fields["model"].queryset = versions.select_related("label_set").order_by(
            "name", "-version"
        )
