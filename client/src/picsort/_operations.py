"""One method per API operation, answering the API's JSON. Extra keyword
arguments go through as they are (query parameters for reads, body fields for
writes), so fields the API adds later work before this client knows them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from picsort._transport import JSON, Transport

API = "/api/v1"
Download = str | os.PathLike | IO[bytes]


class Operations:
    transport: Transport

    # Who am I
    def me(self) -> JSON:
        return self.transport.get(f"{API}/me/")

    # History
    def history(self, *, limit: int | None = None, **filters: Any) -> list[JSON]:
        """Your classifications, newest first (``label=``, ``file=``, ``since=``,
        ``until=``, ``model_version=``...), every page up to ``limit``."""
        return self.transport.list(f"{API}/classifications/", limit=limit, **filters)

    def classification(self, classification_id: int) -> JSON:
        return self.transport.get(f"{API}/classifications/{classification_id}/")

    def classification_delete(self, classification_id: int) -> None:
        self.transport.request("DELETE", f"{API}/classifications/{classification_id}/")

    def feedback_send(self, classification_id: int, **fields: Any) -> JSON:
        """Wrong? ``correct=`` the right class (key or name); ``consent=True`` on shared models."""
        return self.transport.post(f"{API}/classifications/{classification_id}/feedback/", fields)

    # Batches
    def batches(self, *, limit: int | None = None, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/batches/", limit=limit, **params)

    def batch(self, batch_id: int) -> JSON:
        return self.transport.get(f"{API}/batches/{batch_id}/")

    def batch_results(self, batch_id: int, **params: Any) -> list[JSON]:
        """Every item of a batch, in upload order, with its classes or error."""
        return self.transport.list(f"{API}/batches/{batch_id}/results/", **params)

    def batch_sorted_zip(self, batch_id: int, to: Download) -> None:
        """A finished batch's photos in a folder per class, and results.csv."""
        self._download(f"{API}/batches/{batch_id}/sorted.zip", to)

    # Classifiers
    def classifiers(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/classifiers/", **params)

    def classifier(self, classifier_id: int) -> JSON:
        return self.transport.get(f"{API}/classifiers/{classifier_id}/")

    def classifier_create(self, name: str, classes: list[str], **fields: Any) -> JSON:
        return self.transport.post(
            f"{API}/classifiers/", {"name": name, "classes": classes, **fields}
        )

    def classifier_update(self, classifier_id: int, **fields: Any) -> JSON:
        """``name=``, ``active_version=`` (a version's model id), ``confidence_threshold=``..."""
        return self.transport.request(
            "PATCH", f"{API}/classifiers/{classifier_id}/", json=fields
        ).json()

    def classifier_delete(self, classifier_id: int) -> None:
        self.transport.request("DELETE", f"{API}/classifiers/{classifier_id}/")

    def classifier_versions(self, classifier_id: int) -> list[JSON]:
        return self.transport.list(f"{API}/classifiers/{classifier_id}/versions/")

    def classifier_checks(self, classifier_id: int, *, look: bool = False) -> JSON:
        """The checks on a classifier's examples (the same photo in two classes
        or twice in one, outliers, classes alike, how many are still pending);
        ``look=True`` first looks at up to 32 pending examples."""
        url = f"{API}/classifiers/{classifier_id}/checks/"
        return self.transport.request("POST" if look else "GET", url).json()

    def example_import(self, classifier_id: int, import_id: int) -> JSON:
        return self.transport.get(f"{API}/classifiers/{classifier_id}/imports/{import_id}/")

    def training_run(self, run_id: int) -> JSON:
        return self.transport.get(f"{API}/training-runs/{run_id}/")

    def training_run_cancel(self, run_id: int) -> JSON:
        return self.transport.post(f"{API}/training-runs/{run_id}/cancel/")

    def model_download(self, model_id: int, to: Download, *, kind: str = "zip") -> None:
        """One of your trained models: ``keras``, ``onnx``, ``labels`` or ``zip`` (all three)."""
        self._download(f"{API}/models/{model_id}/download/{kind}/", to)

    # The model registry (writes: staff)
    def models(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/models/", **params)

    def model(self, model_id: int) -> JSON:
        return self.transport.get(f"{API}/models/{model_id}/")

    def model_upload(
        self, name: str, label_set: int, file: str | os.PathLike, **fields: Any
    ) -> JSON:
        """A .keras or .onnx file; validated by a worker (poll :meth:`model`)."""
        return self._upload(f"{API}/models/", file, name=name, label_set=label_set, **fields)

    def model_label_diff(self, model_id: int, other: int) -> JSON:
        """The classes ``other`` adds, removes and renames compared with ``model_id``."""
        return self.transport.get(f"{API}/models/{model_id}/label-diff/{other}/")

    def aliases(self) -> list[JSON]:
        return self.transport.list(f"{API}/aliases/")

    def alias(self, name: str) -> JSON:
        return self.transport.get(f"{API}/aliases/{name}/")

    def alias_activate(self, name: str, version: int, **fields: Any) -> JSON:
        return self.transport.post(
            f"{API}/aliases/{name}/activate/", {"version": version, **fields}
        )

    def alias_rollback(self, name: str) -> JSON:
        return self.transport.post(f"{API}/aliases/{name}/rollback/")

    def label_sets(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/label-sets/", **params)

    def label_set(self, label_set_id: int) -> JSON:
        return self.transport.get(f"{API}/label-sets/{label_set_id}/")

    def labels(self, label_set_id: int, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/label-sets/{label_set_id}/labels/", **params)

    def label_set_create(self, name: str, file: str | os.PathLike, **fields: Any) -> JSON:
        """A CSV or JSON file of classes (staff)."""
        return self._upload(f"{API}/label-sets/", file, name=name, **fields)

    # Evaluation (staff)
    def evaluation_sets(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/evaluation-sets/", **params)

    def evaluation_set(self, set_id: int) -> JSON:
        return self.transport.get(f"{API}/evaluation-sets/{set_id}/")

    def evaluation_set_create(self, archive: str | os.PathLike, **fields: Any) -> JSON:
        """A zip with a folder per class (``name=``, ``label_set=``...); a worker imports it."""
        return self._upload(f"{API}/evaluation-sets/", archive, field="archive", **fields)

    def evaluation_set_delete(self, set_id: int) -> None:
        self.transport.request("DELETE", f"{API}/evaluation-sets/{set_id}/")

    def evaluations(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/evaluations/", **params)

    def evaluation(self, evaluation_id: int) -> JSON:
        return self.transport.get(f"{API}/evaluations/{evaluation_id}/")

    def evaluation_create(self, **fields: Any) -> JSON:
        return self.transport.post(f"{API}/evaluations/", fields)

    def evaluation_compare(self, **params: Any) -> JSON:
        return self.transport.get(f"{API}/evaluations/compare/", **params)

    def replays(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/replays/", **params)

    def replay(self, replay_id: int) -> JSON:
        return self.transport.get(f"{API}/replays/{replay_id}/")

    def replay_create(self, **fields: Any) -> JSON:
        return self.transport.post(f"{API}/replays/", fields)

    def replay_approve(self, replay_id: int) -> JSON:
        return self.transport.post(f"{API}/replays/{replay_id}/approve/")

    def replay_cancel(self, replay_id: int) -> JSON:
        return self.transport.post(f"{API}/replays/{replay_id}/cancel/")

    def feedback_inbox(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/feedback/", **params)

    def feedback_disagreement(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/feedback/disagreement/", **params)

    # Webhooks: batch.finished, training.finished... POSTed to your https address
    def webhooks(self, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/webhooks/", **params)

    def webhook(self, webhook_id: int) -> JSON:
        return self.transport.get(f"{API}/webhooks/{webhook_id}/")

    def webhook_create(self, url: str, events: list[str], **fields: Any) -> JSON:
        """The answer holds the signing ``secret``, shown this once."""
        return self.transport.post(f"{API}/webhooks/", {"url": url, "events": events, **fields})

    def webhook_update(self, webhook_id: int, **fields: Any) -> JSON:
        return self.transport.request("PATCH", f"{API}/webhooks/{webhook_id}/", json=fields).json()

    def webhook_delete(self, webhook_id: int) -> None:
        self.transport.request("DELETE", f"{API}/webhooks/{webhook_id}/")

    def webhook_deliveries(self, webhook_id: int, **params: Any) -> list[JSON]:
        return self.transport.list(f"{API}/webhooks/{webhook_id}/deliveries/", **params)

    def webhook_test(self, webhook_id: int) -> JSON:
        """Send a test event to the endpoint."""
        return self.transport.post(f"{API}/webhooks/{webhook_id}/test/")

    # Helpers
    def _upload(
        self, path: str, file: str | os.PathLike, *, field: str = "file", **fields: Any
    ) -> JSON:
        source = Path(file)
        with source.open("rb") as handle:
            files = [(field, (source.name, handle, "application/octet-stream"))]
            return self.transport.request("POST", path, data=fields, files=files).json()

    def _download(self, path: str, to: Download) -> None:
        if isinstance(to, (str, os.PathLike)):
            target = Path(to)
            partial = target.with_name(target.name + ".part")
            try:
                with partial.open("wb") as handle:
                    self.transport.request("GET", path, stream_to=handle)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
        else:
            self.transport.request("GET", path, stream_to=to)
