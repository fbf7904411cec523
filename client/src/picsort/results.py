"""A classified (or refused) image, the same whether it came from a classify
request or from a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Score:
    key: str
    name: str
    probability: float


@dataclass(frozen=True)
class Result:
    """One image: its ``classes`` best first, or ``error_code`` and ``error``
    (in the request's language) when it could not be classified."""

    name: str
    index: int
    classes: list[Score] = field(default_factory=list)
    none_of_these: bool = False
    error_code: str = ""
    error: str = ""
    id: int | None = None
    source: Path | None = None  # the local file it was read from, when there was one
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.error_code

    @property
    def top(self) -> Score | None:
        return self.classes[0] if self.classes else None

    @classmethod
    def classified(cls, body: dict[str, Any], *, offset: int = 0, source: Path | None = None):
        return cls(
            name=body.get("original_name", ""),
            index=offset + body.get("index", 0),
            classes=_scores(body),
            none_of_these=bool(body.get("none_of_these", False)),
            id=body.get("id"),
            source=source,
            raw=body,
        )

    @classmethod
    def refused(cls, body: dict[str, Any], *, offset: int = 0, source: Path | None = None):
        return cls(
            name=body.get("file", ""),
            index=offset + body.get("index", 0),
            error_code=body.get("code", "error"),
            error=body.get("message", ""),
            source=source,
            raw=body,
        )

    @classmethod
    def batch_item(cls, body: dict[str, Any], *, source: Path | None = None):
        url = body.get("prediction_url") or ""
        return cls(
            name=body.get("original_name", ""),
            index=body.get("index", 0),
            classes=_scores(body),
            none_of_these=bool(body.get("none_of_these", False)),
            error_code=body.get("error_code", "") or ("failed" if body.get("error") else ""),
            error=body.get("error", "") or "",
            id=int(url.rstrip("/").rsplit("/", 1)[-1]) if url else None,
            source=source,
            raw=body,
        )


def _scores(body: dict[str, Any]) -> list[Score]:
    return [
        Score(key=c.get("key", ""), name=c.get("name", ""), probability=c.get("probability", 0.0))
        for c in body.get("classes", [])
    ]
