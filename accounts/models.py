import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.managers import UserManager
from core.models import TimeStampedModel


class User(AbstractUser):
    """A person using the site. Signs in with an email address."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    # New models are tried on recent kept photos before they go live (their
    # answers only; staff never see the photos). Off: never with mine.
    share_for_model_tests = models.BooleanField(
        _("try new models on my kept photos"),
        default=True,
        help_text=_(
            "Before a new model answers for everyone, it is tried on recent kept photos "
            "to see which answers would change. Staff see only the answers, never the photos."
        ),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@")[0]


class ApiToken(TimeStampedModel):
    """A personal token for the REST API. Only its SHA-256 digest is stored."""

    PREFIX = "pst_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # What it may do (accounts.scopes.Scope values); a list, so SQLite works too.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    # Limited to one of its owner's classifiers; deleting the classifier
    # revokes the token (it could do nothing else, and never more).
    classifier = models.ForeignKey(
        "training.Classifier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("classifier"),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def has_scope(self, scope: str) -> bool:
        # Staff scopes stop working when their owner stops being staff.
        from accounts.scopes import scopes_for_user

        return scope in self.scopes and scope in scopes_for_user(self.user)

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
