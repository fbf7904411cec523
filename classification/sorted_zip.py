"""A batch's "sort my photos" download: a zip with one folder per predicted
class (or group, for a grouping) named in the viewer's language, an
``unsure`` folder for answers below the classifier's confidence threshold
("none of these"), and a ``results.csv`` that lists every file of the batch
with its folder, class and confidence, failed ones with their reason. Failed
files get no folder: their photos were never kept, there is nothing to put
in one.

The photos are the copies kept in the history (``store=true``: re-encoded
JPEG, without metadata). A batch that kept none has nothing to sort; it
offers its CSV and JSON only.

The zip is streamed: written as it is sent, one chunk of one stored image at
a time (stored, not deflated: JPEGs do not compress), so a batch of 1000
photos takes no more memory than one chunk and the list of results.
"""

import os
import unicodedata
import zipfile
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classification import selectors
from classification.models import BatchItem, BatchJob, Prediction
from core.csv_export import csv_stream
from core.exceptions import ApplicationError
from models_registry.selectors import label_names_for_set

CHUNK_BYTES = 256 * 1024
NAME_MAX = 100  # characters of one folder or file name: far below any file system's limit
# Characters no folder or file name may hold on Windows, macOS or Linux.
FORBIDDEN = frozenset('<>:"/\\|?*')
WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{n}" for n in range(1, 10)]
    + [f"lpt{n}" for n in range(1, 10)]
)
JPEG_SUFFIXES = (".jpg", ".jpeg")
# Like the other CSV exports: stable column names, values in the viewer's language.
MANIFEST_HEADER = ["file", "original_name", "status", "key", "class", "confidence", "error"]


def safe_name(name: str, *, fallback: str) -> str:
    """``name`` made into one harmless folder or file name: no separators
    ("../x" becomes "_x"), no control or invisible characters, no leading
    dots (hidden files, "..") or trailing ones, no Windows device names."""
    name = unicodedata.normalize("NFC", name)
    cleaned = "".join("_" if ch in FORBIDDEN or not ch.isprintable() else ch for ch in name).strip(
        " ."
    )
    cleaned = cleaned[:NAME_MAX].rstrip(" .")
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].casefold() in WINDOWS_DEVICES:
        cleaned = f"_{cleaned}"
    return cleaned


class _Names:
    """Names in one folder, unique the way case-insensitive file systems
    compare them ("Cat" and "cat" are one folder on a Mac)."""

    def __init__(self, reserved: tuple[str, ...] = ()):
        self.taken = {name.casefold() for name in reserved}

    def claim(self, stem: str, suffix: str = "", *, alternative: str = "") -> str:
        candidates = [stem]
        if alternative:
            candidates.append(f"{stem} ({alternative})")
        candidates += (f"{stem} ({n})" for n in range(2, len(self.taken) + 3))
        for candidate in candidates:
            if (candidate + suffix).casefold() not in self.taken:
                self.taken.add((candidate + suffix).casefold())
                return candidate + suffix
        raise AssertionError("unreachable: one more name than taken ones is always free")


class _Sink:
    """Where the zip writer writes; the generator hands on what arrived.
    Neither seekable nor tellable: zipfile then streams (data descriptors)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def batch_sorted_zip_check(*, job: BatchJob) -> None:
    if not job.is_finished:
        raise ApplicationError(
            _("The batch is not finished yet; try again when it is."),
            code="job_not_finished",
            status=409,
        )
    if not job.store_images:
        raise ApplicationError(
            _(
                "The photos of this batch were not kept, so they cannot be sorted into "
                "folders. Download the results as CSV or JSON instead."
            ),
            code="images_not_kept",
            status=409,
        )


def batch_sorted_zip_response(*, job: BatchJob, language: str) -> StreamingHttpResponse:
    """The zip, streamed; ApplicationError (409) when there is nothing to sort."""
    batch_sorted_zip_check(job=job)
    response = StreamingHttpResponse(
        batch_sorted_zip_stream(job=job, language=language), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="batch-{job.pk}-sorted.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


def _file_name(item: BatchItem) -> tuple[str, str]:
    """(stem, suffix) for a kept photo: the uploaded name, with a JPEG suffix
    since that is what a kept photo is."""
    stem, suffix = os.path.splitext(item.original_name)
    if suffix.lower() not in JPEG_SUFFIXES:
        stem, suffix = item.original_name, ".jpg"
    return safe_name(stem, fallback=_("photo")), suffix


def _prediction(item: BatchItem) -> Prediction | None:
    return getattr(item, "prediction", None)


class _Layout:
    """Decides each kept photo's path in the zip, in the viewer's language."""

    def __init__(self, *, language: str):
        self.language = language
        self.unsure = safe_name(_("unsure"), fallback="unsure")
        self.manifest = safe_name(_("results"), fallback="results") + ".csv"
        self.root = _Names(reserved=(self.unsure, self.manifest))
        self.folders: dict[tuple[int, str], str] = {}
        self.files: dict[str, _Names] = {}
        self.names: dict[int, dict[str, str]] = {}

    def class_name(self, prediction: Prediction) -> str:
        names = self.names.get(prediction.label_set_id)
        if names is None:
            pairs = label_names_for_set(label_set=prediction.label_set, language=self.language)
            names = self.names[prediction.label_set_id] = dict(pairs)
        return names.get(prediction.top_key, prediction.top_key)

    def folder(self, prediction: Prediction) -> str:
        if prediction.none_of_these:
            return self.unsure
        key = (prediction.label_set_id, prediction.top_key)
        if key not in self.folders:
            alternative = safe_name(prediction.top_key, fallback="")
            wanted = safe_name(self.class_name(prediction), fallback=alternative or "_")
            self.folders[key] = self.root.claim(wanted, alternative=alternative)
        return self.folders[key]

    def path(self, item: BatchItem, prediction: Prediction) -> str:
        folder = self.folder(prediction)
        stem, suffix = _file_name(item)
        return f"{folder}/{self.files.setdefault(folder, _Names()).claim(stem, suffix)}"


def _zip_info(path: str, prediction: Prediction) -> zipfile.ZipInfo:
    when = timezone.localtime(prediction.created_at)
    info = zipfile.ZipInfo(path, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def batch_sorted_zip_stream(*, job: BatchJob, language: str) -> Iterator[bytes]:
    """The zip's bytes, a chunk at a time (see the module's docstring)."""
    with translation.override(language):
        layout = _Layout(language=language)
    rows = []
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in selectors.batch_items_for_job(job=job).iterator(chunk_size=200):
            prediction = _prediction(item)
            source = _kept_photo(prediction)
            path = ""
            if source is not None:
                path = layout.path(item, prediction)
                with source, archive.open(_zip_info(path, prediction), "w") as target:
                    while chunk := source.read(CHUNK_BYTES):
                        target.write(chunk)
                        yield sink.take()
            rows.append(_manifest_row(item, prediction, path, layout))
        manifest = "".join(csv_stream(MANIFEST_HEADER, rows)).encode("utf-8")
        archive.writestr(layout.manifest, manifest, compress_type=zipfile.ZIP_DEFLATED)
    yield sink.take()


def _kept_photo(prediction: Prediction | None):
    """The kept photo, opened; None when there is none (not kept, deleted
    since from the history, or gone from storage)."""
    if prediction is None or prediction.image is None:
        return None
    try:
        return prediction.image.file.open("rb")
    except OSError:
        return None


def _manifest_row(item: BatchItem, prediction: Prediction | None, path: str, layout) -> list:
    if prediction is None:
        return [path, item.original_name, item.status, "", "", "", item.error_message]
    return [
        path,
        item.original_name,
        item.status,
        prediction.top_key,
        layout.class_name(prediction),
        f"{prediction.top_probability:.4f}",
        item.error_message,
    ]
