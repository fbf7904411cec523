"""The API's one error shape, as an exception: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class PicsortError(Exception):
    """An answer the API refused (4xx or 5xx), or a server that could not be reached.

    ``status`` is the HTTP status (0 when no answer came), ``code`` the API's
    machine-readable code (such as ``not_an_image``), ``message`` its text in
    the request's language, ``details`` whatever the API added, and ``body``
    the whole error JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "error",
        details: Any = None,
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.body = body or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        return f"{prefix}{self.code}: {self.message}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> PicsortError:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(
                str(error.get("message", "")),
                status=response.status_code,
                code=str(error.get("code", f"http_{response.status_code}")),
                details=error.get("details"),
                body=body,
                retry_after=retry_after_seconds(response),
            )
        text = response.text[:200].strip() or response.reason_phrase
        return cls(
            text,
            status=response.status_code,
            code=f"http_{response.status_code}",
            retry_after=retry_after_seconds(response),
        )


class JobFailedError(PicsortError):
    """A batch, import or training run that ended failed or cancelled; ``job`` is its JSON."""

    def __init__(self, message: str, *, job: dict[str, Any]) -> None:
        super().__init__(message, code=f"job_{job.get('status', 'failed')}", body=job)
        self.job = job


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds (a number of seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
