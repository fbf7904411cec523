"""What happens to API tokens when a password changes (allauth's signals).

- Reset of a forgotten password: the old one may be known to someone else,
  so every token is revoked and the user is told (email and page message).
- Change while signed in: the user proved they know the password; tokens keep
  working, and the message points to "Revoke all tokens" on the profile.
"""

from allauth.account.signals import password_changed, password_reset
from django.contrib import messages
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors, services


@receiver(password_reset)
def revoke_tokens_after_password_reset(sender, request, user, **kwargs) -> None:
    count = services.api_tokens_revoke_after_password_reset(
        user=user, profile_url=request.build_absolute_uri(reverse("accounts:profile"))
    )
    if count:
        messages.warning(
            request,
            ngettext(
                "%(count)d API token was revoked for safety; we sent you an email about it.",
                "%(count)d API tokens were revoked for safety; we sent you an email about it.",
                count,
            )
            % {"count": count},
        )


@receiver(password_changed)
def offer_to_revoke_tokens_after_password_change(sender, request, user, **kwargs) -> None:
    if selectors.api_token_list_for_user(user=user).exists():
        messages.info(
            request,
            _(
                "Your API tokens still work. If someone else may know your old password, "
                "revoke them all on your profile."
            ),
        )
