from django.utils.functional import Promise


class ApplicationError(Exception):
    """An expected failure with a message a person can read.

    Services raise it; the API turns it into the one JSON error shape and the
    pages show the message. ``status`` is the HTTP status it maps to.
    """

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str = "invalid",
        status: int = 400,
        extra: dict | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.status = status
        self.extra = extra or {}

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the answer (pages and API alike)."""
        if "retry_after" in self.extra:
            return {"Retry-After": str(self.extra["retry_after"])}
        return {}
