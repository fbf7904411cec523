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
        self.fields["model"].choices = classifier_choices(user=user)
        self.fields["model"].initial = initial_model or "default"


class HistoryFilterForm(forms.Form):
    model = forms.TypedChoiceField(label=_("Model"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All models"))] + [(v.pk, str(v)) for v in versions]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "model_version_id": data.get("model"),
            "since": data.get("since"),
            "until": data.get("until"),
        }
