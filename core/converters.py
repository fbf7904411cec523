class IdConverter:
    """A database id in a URL: at most 18 digits, so it always fits a bigint.
    Longer numbers are a 404 like any other id that does not exist."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
