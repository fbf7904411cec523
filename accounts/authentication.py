from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.token_cache import api_token_for_digest, api_token_remember


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` with a personal API token."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header. Use: Bearer <token>.")
            )
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc

        token = api_token_for_digest(digest=ApiToken.digest(key))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))

        now = timezone.now()
        if token.is_expired(now):
            raise exceptions.AuthenticationFailed(
                _("This token expired on %(date)s. Create a new one on your profile page.")
                % {"date": token.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")},
                code="token_expired",
            )
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            # Only a token that still exists for an owner who is still active
            # (and as staff as the copy says) is written back to the cache.
            still = ApiToken.objects.filter(
                pk=token.pk, user__is_active=True, user__is_staff=token.user.is_staff
            ).update(last_used_at=now)
            if not still:
                raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
            token.last_used_at = now
            api_token_remember(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
