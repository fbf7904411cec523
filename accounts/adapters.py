from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings


@dataclass(frozen=True)
class EmailSite:
    """What allauth's emails call ``current_site``."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    def send_mail(self, template_prefix: str, email: str, context_: dict) -> None:
        # Without django.contrib.sites allauth names the site after the
        # request's host ("Hello from 127.0.0.1:8000!"); every email says Picsort.
        request = context.request
        site = EmailSite(name=settings.SITE_NAME, domain=request.get_host() if request else "")
        super().send_mail(template_prefix, email, {"current_site": site, **context_})


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        if not user.name:
            full = data.get("name") or " ".join(
                part for part in (data.get("first_name"), data.get("last_name")) if part
            )
            user.name = (full or "")[:150]
        return user
