"""Writes for classification: single images now (``classify``), many in the
background (``batches``)."""

from core.uploads import Upload, clean_name, uploads_from_files

from .batches import (
    batch_item_claim,
    batch_job_create,
    batch_job_enqueue,
    batch_job_run,
    batch_runners_for,
)
from .classify import (
    STORED_RESULTS,
    ClassifyOutcome,
    FileError,
    alias_of,
    classify_preview,
    classify_uploads,
    classify_uploads_each,
    model_version_resolve,
    prediction_delete,
    prediction_delete_all,
)

__all__ = [
    "STORED_RESULTS",
    "ClassifyOutcome",
    "FileError",
    "Upload",
    "alias_of",
    "batch_item_claim",
    "batch_job_create",
    "batch_job_enqueue",
    "batch_job_run",
    "batch_runners_for",
    "classify_preview",
    "classify_uploads",
    "classify_uploads_each",
    "clean_name",
    "model_version_resolve",
    "prediction_delete",
    "prediction_delete_all",
    "uploads_from_files",
]
