from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    share_for_model_tests = forms.BooleanField(
        label=capfirst(User._meta.get_field("share_for_model_tests").verbose_name),
        help_text=User._meta.get_field("share_for_model_tests").help_text,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        # The profile page holds two forms with a "name" field: own ids, so
        # each label focuses its own field (id_profile_name, id_token_name).
        kwargs.setdefault("auto_id", "id_profile_%s")
        super().__init__(*args, **kwargs)


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("For example the script or machine that will use it."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_token_%s")
        super().__init__(*args, **kwargs)


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account and all my data will be deleted."),
        required=True,
    )
