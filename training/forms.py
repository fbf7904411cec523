from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ClassifierCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    classes = forms.CharField(
        label=_("Classes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One class per line, in any language (2 to %(max)d).")
        % {"max": settings.TRAINING_MAX_CLASSES},
    )

    def class_names(self) -> list[str]:
        return [line for line in self.cleaned_data["classes"].splitlines() if line.strip()]


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)


class ClassAddForm(forms.Form):
    name = forms.CharField(label=_("New class"), max_length=100)


class ThresholdForm(forms.Form):
    threshold = forms.FloatField(
        label=_("Answer “none of these” below"),
        required=False,
        min_value=0.0,
        max_value=0.99,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text=_("A confidence between 0 and 1; empty: always answer."),
    )


class DistanceForm(forms.Form):
    distance = forms.FloatField(
        label=_("Answer “none of these” for photos farther than"),
        required=False,
        min_value=0.0,
        max_value=2.0,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text=_(
            "A distance to your examples between 0 (the same) and 2; empty: never for this reason."
        ),
    )
