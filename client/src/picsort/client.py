"""``Client``: the API's operations plus the steps people chain together:
classify anything (a folder becomes a batch), wait for jobs with a progress
bar, build and train a classifier from a folder of class folders."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from picsort._operations import API, Operations
from picsort._transport import JSON, Transport
from picsort.errors import JobFailedError, PicsortError
from picsort.files import Image, class_folders, class_zip, images_in, is_folder, upload, zip_files
from picsort.progress import Progress
from picsort.results import Result

ACTIVE = ("queued", "running")
# Files per classify request (the server's default limit; a batch takes 1000).
CLASSIFY_CHUNK = 20


# what POST /api/v1/batches/ takes besides model, top_k and store
BATCH_FIELDS: frozenset[str] = frozenset()


class Client(Operations):
    """``Client(base_url, token)``; both default to $PICSORT_URL and $PICSORT_TOKEN.

    Errors raise :class:`picsort.PicsortError` with the API's code and message;
    429 and 503 are retried after their Retry-After (``retries`` times at most).
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        language: str | None = None,
        timeout: float = 120.0,
        retries: int = 4,
        max_retry_wait: float = 120.0,
        progress: bool = True,
        poll_interval: float = 1.0,
        wait_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        self.transport = Transport(
            base_url,
            token,
            language=language,
            timeout=timeout,
            retries=retries,
            max_retry_wait=max_retry_wait,
            sleep=sleep,
            http=http,
        )
        self.progress = progress
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout  # seconds a wait_* call gives a job (None: no limit)
        self.sleep = sleep

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Classify
    # --------------------------------------------------------------------------
    def classify(
        self,
        *images: Image,
        model: str | int = "default",
        top_k: int = 5,
        store: bool = True,
        **fields: Any,
    ) -> list[Result]:
        """Classify files, bytes, paths or (name, bytes); one folder becomes a
        batch (its images, subfolders too), waited for. Every image gets a
        :class:`Result`, classified or with its reason, in the order given."""
        if len(images) == 1 and is_folder(images[0]):
            ignored = sorted(set(fields) - BATCH_FIELDS)
            if ignored:  # a batch would answer without them: say so instead
                raise PicsortError(
                    f"A folder is sent as a batch, which does not take {', '.join(ignored)}.",
                    code="not_for_batches",
                )
            return self.classify_folder(images[0], model=model, top_k=top_k, store=store, **fields)  # type: ignore[arg-type]
        sources = [Path(i) if isinstance(i, (str, os.PathLike)) else None for i in images]
        uploads = [upload(image, index) for index, image in enumerate(images)]
        results: list[Result] = []
        for start in range(0, len(uploads), CLASSIFY_CHUNK):
            chunk = uploads[start : start + CLASSIFY_CHUNK]
            options = {"model": model, "top_k": top_k, "store": store, **fields}
            body = _each_file(lambda: self.classify_raw(*chunk, **options))  # noqa: B023
            results += _results(body, offset=start, sources=sources)
        return sorted(results, key=lambda r: r.index)

    def classify_urls(
        self,
        *urls: str,
        model: str | int = "default",
        top_k: int = 5,
        store: bool = True,
        **fields: Any,
    ) -> list[Result]:
        """Images the server fetches from public https addresses: a :class:`Result` each."""
        payload = {"urls": list(urls), "model": model, "top_k": top_k, "store": store, **fields}
        body = _each_file(lambda: self.transport.post(f"{API}/classifications/", payload))
        return sorted(_results(body, offset=0, sources=[None] * len(urls)), key=lambda r: r.index)

    def classify_raw(self, *images: Image, **fields: Any) -> JSON:
        """POST /classifications/ as it is: ``{"results": [...], "errors": [...]}``."""
        return self._multipart("classifications/", images, **fields)

    def preview(self, *images: Image, **fields: Any) -> JSON:
        """Classify without keeping anything (not in your history, no id)."""
        return self._multipart("classifications/preview/", images, **fields)

    def batch_create(
        self, *images: Image, archive: str | os.PathLike | IO[bytes] | None = None, **fields: Any
    ) -> JSON:
        """Start a batch (202): image files, or a zip as ``archive``. ``model=``,
        ``top_k=``, ``store=``. Follow it with :meth:`wait_batch`."""
        files: list[tuple[str, tuple[str, Any, str]]] = []
        if archive is not None:
            handle = open(archive, "rb") if isinstance(archive, (str, os.PathLike)) else archive  # noqa: SIM115
            files.append(("archive", ("images.zip", handle, "application/zip")))
        files += [
            ("file", (n, d, "application/octet-stream"))
            for n, d in map(upload, images, range(len(images)))
        ]
        try:
            return self.transport.request(
                "POST", f"{API}/batches/", data=fields, files=files
            ).json()
        finally:
            if archive is not None and isinstance(archive, (str, os.PathLike)):
                files[0][1][1].close()

    def classify_folder(self, folder: str | os.PathLike, **fields: Any) -> list[Result]:
        """Every image under ``folder`` as one batch; waits for it and answers
        each image's :class:`Result` (``source`` is the local file)."""
        root = Path(folder)
        paths = images_in(root)
        if not paths:
            raise PicsortError(f"{root} has no images.", code="no_images")
        with zip_files([(p, p.relative_to(root).as_posix()) for p in paths]) as archive:
            batch = self.batch_create(archive=archive, **fields)
        batch = self.wait_batch(batch)
        items = self.batch_results(batch["id"])
        return [
            Result.batch_item(
                item, source=paths[item["index"]] if item["index"] < len(paths) else None
            )
            for item in items
        ]

    # Jobs
    # --------------------------------------------------------------------------
    def wait_batch(self, batch: JSON | int, *, timeout: float | None = None) -> JSON:
        """Polls a batch until it ends; raises :class:`JobFailedError` unless it succeeded."""
        return self._wait(self.batch, batch, label="batch", timeout=timeout)

    def wait_training(self, run: JSON | int, *, timeout: float | None = None) -> JSON:
        return self._wait(self.training_run, run, label="training", timeout=timeout)

    def wait_import(self, job: JSON, *, timeout: float | None = None) -> JSON:
        fetch = lambda pk: self.example_import(job["classifier"], pk)  # noqa: E731
        return self._wait(fetch, job, label="examples", timeout=timeout)

    def _wait(
        self, fetch: Callable[[int], JSON], job: JSON | int, *, label: str, timeout: float | None
    ) -> JSON:
        job = fetch(job) if isinstance(job, int) else job
        timeout = self.wait_timeout if timeout is None else timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = Progress(f"{label} {job['id']}", enabled=self.progress)
        try:
            while True:
                bar.update(job.get("percent") or 0, _status(job))
                if job["status"] not in ACTIVE:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise PicsortError(
                        f"The {label} is still {job['status']}.", code="timeout", body=job
                    )
                self.sleep(self.poll_interval)
                job = fetch(job["id"])
        finally:
            bar.close()
        if job["status"] != "succeeded":
            raise JobFailedError(
                f"The {label} {job['status']}: {job.get('error') or ''}".strip(), job=job
            )
        return job

    # Your classifiers
    # --------------------------------------------------------------------------
    def examples_add(self, classifier_id: int, class_name: str, *images: Image) -> JSON:
        """A few examples of one class, added at once (201)."""
        files = [
            ("file", (n, d, "application/octet-stream"))
            for n, d in map(upload, images, range(len(images)))
        ]
        path = f"{API}/classifiers/{classifier_id}/examples/"
        return self.transport.request(
            "POST", path, data={"class_name": class_name}, files=files
        ).json()

    def examples_import(
        self, classifier_id: int, archive: str | os.PathLike | IO[bytes], *, wait: bool = True
    ) -> JSON:
        """A zip with a folder per class, added by a worker; waited for (or not)."""
        path = f"{API}/classifiers/{classifier_id}/examples/"
        opened = isinstance(archive, (str, os.PathLike))
        handle = open(archive, "rb") if opened else archive  # type: ignore[arg-type]  # noqa: SIM115
        try:
            job = self.transport.request(
                "POST", path, files=[("archive", ("examples.zip", handle, "application/zip"))]
            ).json()
        finally:
            if opened:
                handle.close()
        return self.wait_import(job) if wait else job

    def classifier_from_folder(self, folder: str | os.PathLike, name: str, **fields: Any) -> JSON:
        """A classifier named ``name`` with one class per subfolder of ``folder``
        and their images as examples (imported by a worker, waited for)."""
        root = Path(folder)
        classes = class_folders(root)
        classifier = self.classifier_create(name, list(classes), **fields)
        with class_zip(classes, root) as archive:
            self.examples_import(classifier["id"], archive)
        return self.classifier(classifier["id"])

    def train(self, classifier_id: int, *, wait: bool = True) -> JSON:
        """Start training (or answer the run already going) and wait for it;
        the answer's ``model`` is the new version's id to classify with."""
        run = self.transport.post(f"{API}/classifiers/{classifier_id}/train/")
        return self.wait_training(run) if wait else run

    def _multipart(self, path: str, images: Sequence[Image], **fields: Any) -> JSON:
        files = [
            ("file", (n, d, "application/octet-stream"))
            for n, d in map(upload, images, range(len(images)))
        ]
        return self.transport.request("POST", f"{API}/{path}", data=fields, files=files).json()


def _each_file(call: Callable[[], JSON]) -> JSON:
    """The answer of a classify request; when no file could be classified (400
    with every file's reason), those reasons as the answer's errors."""
    try:
        return call()
    except PicsortError as error:
        refused = error.details.get("errors") if isinstance(error.details, dict) else None
        if error.status != 400 or not refused:
            raise
        return {"results": [], "errors": refused}


def _results(body: JSON, *, offset: int, sources: list[Path | None]) -> list[Result]:
    classified = [
        Result.classified(item, offset=offset, source=sources[offset + item["index"]])
        for item in body["results"]
    ]
    refused = [
        Result.refused(item, offset=offset, source=sources[offset + item["index"]])
        for item in body["errors"]
    ]
    return classified + refused


def _status(job: JSON) -> str:
    return str(job.get("phase_display") or job.get("status_display") or job.get("status", ""))
