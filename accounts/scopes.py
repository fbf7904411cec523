"""What a personal API token may do.

Every API view declares, in one attribute, the scope each of its methods
needs::

    required_scope = Scope.CLASSIFY                        # every method
    required_scope = {"GET": Scope.HISTORY_READ, "POST": Scope.CLASSIFY}
    required_scope = {"GET": (Scope.CLASSIFY, Scope.REGISTRY_ADMIN)}   # any of

``ANY_SCOPE`` says that any valid token will do (``/me/``). One permission
class, ``TokenHasScope`` (in REST_FRAMEWORK's defaults, and named first by
views that set their own permissions), refuses a token without the scope
with 403 ``missing_scope``. A view that declares nothing refuses every token:
the test suite walks every API route and fails on such a view. Browser
sessions are not tokens and are never limited by scopes.

A token may also be limited to one of its owner's classifiers: it then
classifies only with that classifier's versions, manages only that
classifier, and reads only the history made with it (see the README's REST
API section). The helpers below answer 403 ``classifier_not_allowed``.
"""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions


class Scope(models.TextChoices):
    CLASSIFY = "classify", _("Classify images and batches, and read the model registry")
    HISTORY_READ = "history:read", _("Read your history of classifications and batches")
    CLASSIFIERS_MANAGE = "classifiers:manage", _("Manage and train your classifiers")
    REGISTRY_ADMIN = "registry:admin", _("Administer the model registry (staff only)")


ANY_SCOPE = "any"
STAFF_SCOPES = frozenset({Scope.REGISTRY_ADMIN})


def scopes_for_user(user) -> list[str]:
    """Every scope a user of this kind may give a token."""
    return [s.value for s in Scope if user.is_staff or s not in STAFF_SCOPES]


def _refusal(scope: str) -> str:
    return {
        Scope.CLASSIFY: gettext("This token may not classify images or read the model registry."),
        Scope.HISTORY_READ: gettext("This token may not read your history."),
        Scope.CLASSIFIERS_MANAGE: gettext("This token may not manage your classifiers."),
        Scope.REGISTRY_ADMIN: gettext("This token may not administer the model registry."),
    }[scope]


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"

    def __init__(self, scope: str):
        message = gettext(
            "%(refusal)s It needs the scope “%(scope)s”: create a token with it on your "
            "profile page."
        ) % {"refusal": _refusal(scope), "scope": scope}
        super().__init__(message, code="missing_scope")
        # Shown beside code and message in the error (core.api).
        self.error_fields = {"scope": scope}


class UndeclaredScope(exceptions.PermissionDenied):
    default_code = "missing_scope"

    def __init__(self):
        super().__init__(
            gettext("This operation cannot be used with an API token."), code="missing_scope"
        )


def declared_scopes(view, method: str) -> tuple[str, ...] | None:
    """The scopes (any of them) a token needs for ``method`` on ``view``;
    ``None`` when the view declares nothing for it."""
    declared = getattr(view, "required_scope", None)
    if isinstance(declared, dict):
        method = method.upper()
        fallback = declared.get("GET") if method in ("HEAD", "OPTIONS") else None
        declared = declared.get(method, fallback)
    if declared is None:
        return None
    if isinstance(declared, str):
        return (declared,)
    return tuple(declared)


def request_token(request):
    """The ApiToken a request is authenticated with, or None (a session)."""
    from accounts.models import ApiToken

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


class TokenHasScope(permissions.BasePermission):
    """A token must hold one of the scopes the view declares for the method."""

    def has_permission(self, request, view) -> bool:
        token = request_token(request)
        if token is None:
            return True
        needed = declared_scopes(view, request.method)
        if needed is None:
            if not hasattr(view, request.method.lower()):
                return True  # answered 405 by the view
            raise UndeclaredScope()
        if ANY_SCOPE in needed or any(token.has_scope(scope) for scope in needed):
            return True
        raise MissingScope(needed[0])


# A token limited to one classifier
# ------------------------------------------------------------------------------


def token_classifier_id(request) -> int | None:
    token = request_token(request)
    return token.classifier_id if token is not None else None


def _classifier_refusal(request) -> exceptions.PermissionDenied:
    token = request_token(request)
    error = exceptions.PermissionDenied(
        gettext("This token may only be used with the classifier “%(name)s”.")
        % {"name": token.classifier.name},
        code="classifier_not_allowed",
    )
    error.error_fields = {"classifier": token.classifier_id}
    return error


def token_check_classifier(request, classifier_id: int | None) -> None:
    """403 when the request's token is limited to another classifier (or the
    request concerns no classifier at all)."""
    allowed = token_classifier_id(request)
    if allowed is not None and classifier_id != allowed:
        raise _classifier_refusal(request)


def version_classifier_id(version) -> int | None:
    """The classifier a model version was trained for; None for shared models."""
    run = getattr(version, "training_run", None)  # reverse one-to-one: absent raises
    return run.classifier_id if run is not None else None


def token_refuse_classifier_limited(request) -> None:
    """403 for a token limited to one classifier: the request concerns the
    whole account (webhooks hear of every batch and training run)."""
    if token_classifier_id(request) is not None:
        error = exceptions.PermissionDenied(
            gettext(
                "This token is limited to the classifier “%(name)s”: it cannot manage "
                "webhooks, which hear of every batch and training run of your account."
            )
            % {"name": request_token(request).classifier.name},
            code="classifier_not_allowed",
        )
        error.error_fields = {"classifier": token_classifier_id(request)}
        raise error


def token_check_version(request, version) -> None:
    """403 when a classifier-limited token asks for a version that is not one
    of that classifier's (shared models included)."""
    if token_classifier_id(request) is not None:
        token_check_classifier(request, version_classifier_id(version))


def token_limit_queryset(request, queryset, classifier_path: str):
    """Narrows a list to what a classifier-limited token may read."""
    allowed = token_classifier_id(request)
    if allowed is None:
        return queryset
    return queryset.filter(**{classifier_path: allowed})
