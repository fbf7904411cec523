from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import Event


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_("A public https address that accepts POST requests."),
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/picsort-hook"}),
    )
    description = forms.CharField(label=_("Description (optional)"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=Event.choices,
        initial=list(Event.values),
        widget=forms.CheckboxSelectMultiple,
    )
