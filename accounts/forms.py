from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.scopes import Scope, scopes_for_user
from training.selectors import classifier_list_for_user


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
    scopes = forms.MultipleChoiceField(
        label=_("It may"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing the token may do.")},
    )
    classifier = forms.ModelChoiceField(
        label=_("Only with the classifier"),
        queryset=None,
        required=False,
        empty_label=_("Any (not limited to one classifier)"),
        help_text=_(
            "Limited to one classifier, it classifies only with that classifier, manages "
            "only that one and reads only the history made with it."
        ),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. It stops working at the end of that day (UTC)."),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", "id_token_%s")
        kwargs.setdefault("initial", {"scopes": [Scope.CLASSIFY]})
        super().__init__(*args, **kwargs)
        # Staff scopes are offered to staff only; a forged one is an invalid choice.
        self.fields["scopes"].choices = [
            (scope.value, scope.label) for scope in Scope if scope in scopes_for_user(user)
        ]
        self.fields["classifier"].queryset = classifier_list_for_user(user=user)
        if not self.fields["classifier"].queryset.exists():
            del self.fields["classifier"]

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day < timezone.now().astimezone(UTC).date():
            raise forms.ValidationError(_("Choose an expiry date in the future."))
        return day

    @property
    def expires_at(self) -> datetime | None:
        """The end of the chosen day, UTC."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account and all my data will be deleted."),
        required=True,
    )
