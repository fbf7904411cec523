"""Why a batch item failed: stored as a code and its numbers, written in the
language of whoever reads it (the page, the API, the exports), not in the
language of the request that started the job.

Each code has its message here, without the file's name (the name is shown
next to it). A code that is not listed keeps the text written when it failed.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from core.exceptions import ApplicationError

# Per code, its messages: the first whose placeholders the stored numbers fill.
MESSAGES: dict[str, tuple[str, ...]] = {
    "input_missing": (gettext_noop("The uploaded file is missing."),),
    "worker_stopped": (gettext_noop("This file stopped the worker repeatedly."),),
    "job_ended": (gettext_noop("The job ended before this file was classified."),),
    "empty_file": (gettext_noop("The file is empty."),),
    "unsupported_format": (
        gettext_noop("This image format is not supported. Use JPEG, PNG, GIF, WebP, BMP or TIFF."),
    ),
    "not_an_image": (gettext_noop("The file is not an image, or its format is not supported."),),
    "corrupt_image": (gettext_noop("The image is damaged or incomplete and cannot be read."),),
    "image_too_large": (
        gettext_noop("The image is too large (%(width)d × %(height)d pixels)."),
        gettext_noop("The image is too large to open safely."),
    ),
    "file_too_large": (gettext_noop("The file is larger than %(size)d MB."),),
    "bad_zip": (gettext_noop("The file cannot be read from the zip."),),
    "storage_full": (
        gettext_noop(
            "The server had no room to store files, so this photo was not classified. "
            "Please try again later."
        ),
    ),
    "storage_unavailable": (
        gettext_noop(
            "Files could not be stored, so this photo was not classified. Please try again later."
        ),
    ),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


@dataclass(frozen=True)
class ItemError:
    code: str
    params: dict = field(default_factory=dict)
    text: str = ""  # written when it failed: shown only for a code not listed above

    @classmethod
    def of(cls, error: ApplicationError) -> "ItemError":
        """What to store for ``error``: its code and the numbers its message needs."""
        found = {"size": settings.UPLOAD_MAX_FILE_BYTES // 2**20, **error.extra}
        wanted = {name for text in MESSAGES.get(error.code, ()) for name in _names(text)}
        params = {name: found[name] for name in sorted(wanted) if isinstance(found.get(name), int)}
        text = error.extra.get("reason", error.message)
        return cls(code=error.code, params=params, text=str(text))


def _names(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def item_error_message(*, code: str, params: dict, text: str) -> str:
    """The reason in the active language; the stored text for an unknown code."""
    for message in MESSAGES.get(code, ()):
        if _names(message) <= set(params):
            return gettext(message) % {name: params[name] for name in _names(message)}
    return text
