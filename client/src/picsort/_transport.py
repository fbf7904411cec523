"""HTTP with the token, the API's errors as exceptions, and bounded retries on
429 and 503 that wait as long as the server's Retry-After says."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO, Any

import httpx

from picsort.errors import PicsortError

RETRY_STATUSES = (429, 503)
JSON = dict[str, Any]


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host}:{port}"


class Transport:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        language: str | None = None,
        timeout: float = 120.0,
        retries: int = 4,
        max_retry_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        base_url = base_url or os.environ.get("PICSORT_URL") or "http://127.0.0.1:8000"
        token = token or os.environ.get("PICSORT_TOKEN")
        headers = {"Accept": "application/json", "User-Agent": "picsort-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if language:
            headers["Accept-Language"] = language
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep
        self.http = http or httpx.Client(timeout=timeout)
        self.http.headers.update(headers)

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        """A path on the server, or an absolute URL the server gave (a page's
        ``next``); the token is never sent to another origin."""
        if not path.startswith(("http://", "https://")):
            return self.base_url + path
        if _origin(path) != _origin(self.base_url):
            raise PicsortError(
                f"Refusing to send the token to {_origin(path)}: not {self.base_url}.",
                code="foreign_url",
            )
        return path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: list[tuple[str, tuple[str, Any, str]]] | None = None,
        stream_to: IO[bytes] | None = None,
    ) -> httpx.Response:
        """One API call; 4xx/5xx raise :class:`PicsortError`. 429 and 503 are
        tried again (``retries`` times at most), after the server's Retry-After
        (never longer than ``max_retry_wait``), else after 1, 2, 4... seconds."""
        params = {k: v for k, v in (params or {}).items() if v is not None} or None
        data = {k: _form(v) for k, v in (data or {}).items() if v is not None} or None
        for attempt in range(self.retries + 1):
            for _field, (_name, content, _type) in files or []:
                if hasattr(content, "seek"):
                    content.seek(0)  # a retry sends the file again from its start
            try:
                request = self.http.build_request(
                    method, self.url(path), params=params, json=json, data=data, files=files
                )
                response = self.http.send(request, stream=stream_to is not None)
            except httpx.HTTPError as error:
                raise PicsortError(
                    f"Could not reach {self.base_url}: {error}", code="connection_failed"
                ) from error
            try:
                if response.status_code in RETRY_STATUSES and attempt < self.retries:
                    error = PicsortError.from_response(_read(response))
                    wait = error.retry_after if error.retry_after is not None else 2.0**attempt
                    self.sleep(min(wait, self.max_retry_wait))
                    continue
                if response.status_code >= 400:
                    raise PicsortError.from_response(_read(response))
                if stream_to is not None:
                    for chunk in response.iter_bytes():
                        stream_to.write(chunk)
                return response
            finally:
                response.close()
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.request("POST", path, json=body, **kwargs)
        return response.json() if response.content else None

    def list(self, path: str, *, limit: int | None = None, **params: Any) -> list[JSON]:
        """Every item of a list, following its pages (``limit``: at most that many)."""
        items: list[JSON] = []
        page: Any = self.get(path, **params)
        while True:
            if not isinstance(page, dict) or "results" not in page:
                items.extend(page if isinstance(page, list) else [page])
                break
            items.extend(page["results"])
            if not page.get("next") or (limit is not None and len(items) >= limit):
                break
            page = self.request("GET", page["next"]).json()
        return items[:limit] if limit is not None else items


def _form(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_form(v) for v in value]
    return str(value)


def _read(response: httpx.Response) -> httpx.Response:
    response.read()
    return response
