"""The contract a client keeps with a model: ``expected_version`` on classify."""

from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from models_registry.models import ModelVersion


def model_version_expect(*, version: ModelVersion, model: str, expected: int | None) -> None:
    """412 when ``model`` (an alias or version id) now resolves to another
    version than the client built against: nothing is classified, and the
    answer names the version in use so the client can check what changed
    (``/models/<a>/label-diff/<b>/``) before it asks again."""
    if expected is None or expected == version.pk:
        return
    raise ApplicationError(
        _(
            "“%(model)s” is now model version %(current)d (%(name)s), not %(expected)d: "
            "nothing was classified. Check what changed, then send expected_version=%(current)d."
        )
        % {"model": model, "current": version.pk, "name": version, "expected": expected},
        code="version_changed",
        status=412,
        extra={"model": model, "expected_version": expected, "current_version": version.pk},
    )
