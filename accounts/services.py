import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
from accounts.scopes import scopes_for_user
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def user_update_profile(
    *, user: User, name: str, share_for_model_tests: bool | None = None
) -> User:
    user.name = name.strip()
    fields = ["name"]
    if share_for_model_tests is not None:
        user.share_for_model_tests = share_for_model_tests
        fields.append("share_for_model_tests")
    user.full_clean(exclude=["password"])
    user.save(update_fields=fields)
    return user


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    classifier=None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token and returns it with its key, which is never shown again.

    ``scopes`` default to every scope the user may give (as tokens made
    before scopes had); ``classifier`` limits it to one of the user's own."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the token a name."), code="token_name_required")
    scopes = _token_scopes_checked(user=user, scopes=scopes)
    if classifier is not None and classifier.owner_id != user.pk:
        raise ApplicationError(_("That classifier does not exist."), code="not_found", status=404)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(
            _("Choose an expiry date in the future."), code="token_expiry_in_the_past"
        )
    # Lock the user's row so two parallel requests cannot pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    limit = settings.API_TOKENS_PER_USER
    if user.api_tokens.count() >= limit:
        raise ApplicationError(
            _("You already have %(limit)d tokens. Revoke one first.") % {"limit": limit},
            code="token_limit_reached",
        )
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_prefix=key[: len(ApiToken.PREFIX) + 4],
        key_digest=ApiToken.digest(key),
        scopes=scopes,
        classifier=classifier,
        expires_at=expires_at,
    )
    return token, key


def _token_scopes_checked(*, user: User, scopes: list[str] | None) -> list[str]:
    allowed = scopes_for_user(user)
    if scopes is None:
        return allowed
    if not scopes:
        raise ApplicationError(
            _("Choose at least one thing the token may do."), code="token_scopes_required"
        )
    for scope in scopes:
        if scope not in allowed:
            raise ApplicationError(
                _("A token of yours cannot have the scope “%(scope)s”.") % {"scope": scope},
                code="scope_not_allowed",
                status=403,
            )
    # In the scopes' own order, each once.
    return [scope for scope in allowed if scope in scopes]


def api_token_revoke(*, user: User, token_id: int) -> None:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise ApplicationError(_("That token does not exist."), code="not_found", status=404)


def api_token_revoke_all(*, user: User) -> int:
    """Revokes every token of ``user``; returns how many there were."""
    _total, by_model = ApiToken.objects.filter(user=user).delete()
    return by_model.get(ApiToken._meta.label, 0)


def api_tokens_revoke_after_password_reset(*, user: User, profile_url: str) -> int:
    """A forgotten password was reset: whoever knew the old one may have made
    tokens with it, so every token goes, and the user is told by email (in the
    language of the request) when there were any."""
    count = api_token_revoke_all(user=user)
    if count:
        context = {"user": user, "count": count, "profile_url": profile_url}
        subject = render_to_string("accounts/email/api_tokens_revoked_subject.txt", context)
        body = render_to_string("accounts/email/api_tokens_revoked_message.txt", context)
        message = EmailMessage(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
            body.strip() + "\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        transaction.on_commit(lambda: _send_or_log(message), robust=True)
    return count


def _send_or_log(message) -> None:
    """The tokens are gone and the password changed whatever the mail server
    says; a failed notice is logged, not shown to the user as an error."""
    try:
        message.send()
    except Exception:
        logger.exception("could not send the token revocation notice to %s", message.to)


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Deletes the account and, through cascades, everything the user owns."""
    user.delete()
