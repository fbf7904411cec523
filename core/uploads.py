"""Upload limits enforced while the request body is read, not after.

``SizeLimitUploadHandler`` stops reading a multipart body as soon as one file
passes ``UPLOAD_MAX_FILE_BYTES`` or the files together pass
``UPLOAD_MAX_REQUEST_BYTES``; the view then answers 413 with a clear message.
"""

import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.images import open_image

LIMIT_ATTRIBUTE = "upload_limit_exceeded"


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.file_bytes = 0
        self.total_bytes = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data, start):
        self.file_bytes += len(raw_data)
        self.total_bytes += len(raw_data)
        if self.file_bytes > settings.UPLOAD_MAX_FILE_BYTES:
            setattr(self.request, LIMIT_ATTRIBUTE, "file")
            raise StopUpload(connection_reset=False)
        if self.total_bytes > settings.UPLOAD_MAX_REQUEST_BYTES:
            setattr(self.request, LIMIT_ATTRIBUTE, "request")
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def raise_if_upload_too_large(request) -> None:
    """Call after touching request.FILES / request.data."""
    exceeded = getattr(request, LIMIT_ATTRIBUTE, None) or getattr(
        getattr(request, "_request", None), LIMIT_ATTRIBUTE, None
    )
    if exceeded == "file":
        raise ApplicationError(
            _("A file is larger than %(size)d MB.")
            % {"size": settings.UPLOAD_MAX_FILE_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    if exceeded == "request":
        raise ApplicationError(
            _("The upload is larger than %(size)d MB in total.")
            % {"size": settings.UPLOAD_MAX_REQUEST_BYTES // 2**20},
            code="request_too_large",
            status=413,
        )


def limit_uploads(request) -> None:
    """Puts the size limits in front of this request's upload handlers.
    Call before the body is parsed (before request.FILES or request.data).
    A body that announces itself as too big is refused without reading it."""
    django_request = getattr(request, "_request", request)
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.UPLOAD_MAX_REQUEST_BYTES + 64 * 1024:  # + room for form fields
        setattr(django_request, LIMIT_ATTRIBUTE, "request")
        raise_if_upload_too_large(django_request)
    django_request.upload_handlers.insert(0, SizeLimitUploadHandler(django_request))


def with_upload_limits(view):
    """For HTML views that take uploads. The CSRF check reads the body, so it
    must run after the limits are in place: exempt first, protect inside."""
    from contextlib import suppress
    from functools import wraps

    from django.views.decorators.csrf import csrf_exempt, csrf_protect

    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            with suppress(ApplicationError):  # the view reports it, after the CSRF check
                limit_uploads(request)
        return protected(request, *args, **kwargs)

    return wrapper


# Uploaded files and zips of them
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    folder: str = ""  # inside a zip: the folder the file was in


def clean_name(name: str) -> str:
    """The file's own name, without any folder part, for display only."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255]


def _bounded_read(handle, limit: int) -> bytes | None:
    """Reads at most ``limit`` bytes; None if there is more (checked while reading)."""
    data = handle.read(limit + 1)
    return None if len(data) > limit else data


def uploads_from_zip(data: bytes, *, max_files: int | None = None) -> list[Upload]:
    """The images inside a zip. Members are read into memory one by one with
    every limit checked as they are read; nothing is extracted by its path."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ApplicationError(_("The file is not a valid zip archive."), code="bad_zip") from error
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not clean_name(info.filename).startswith(".")
        and "__MACOSX/" not in info.filename
    ]
    max_files = max_files or settings.BATCH_MAX_FILES
    if len(members) > max_files:
        raise ApplicationError(
            _("The zip holds %(count)d files; at most %(max)d are allowed.")
            % {"count": len(members), "max": max_files},
            code="too_many_files",
        )
    uploads, total = [], 0
    for info in members:
        if info.flag_bits & 0x1:
            raise ApplicationError(
                _("Encrypted zip files are not supported."), code="encrypted_zip"
            )
        if info.file_size > settings.UPLOAD_MAX_FILE_BYTES:
            raise ApplicationError(
                _("“%(name)s” in the zip is larger than %(size)d MB.")
                % {
                    "name": clean_name(info.filename),
                    "size": settings.UPLOAD_MAX_FILE_BYTES // 2**20,
                },
                code="file_too_large",
                status=413,
            )
        if (
            info.compress_size
            and info.file_size / info.compress_size > settings.BATCH_MAX_COMPRESSION_RATIO
        ):
            raise ApplicationError(
                _("“%(name)s” is compressed suspiciously well (a zip bomb?).")
                % {"name": clean_name(info.filename)},
                code="zip_bomb",
            )
        remaining = settings.BATCH_MAX_UNCOMPRESSED_BYTES - total
        # Declared sizes can lie: the reads themselves are bounded too.
        try:
            with archive.open(info) as handle:
                content = _bounded_read(handle, min(settings.UPLOAD_MAX_FILE_BYTES, remaining))
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
            raise ApplicationError(
                _("“%(name)s” in the zip cannot be read.") % {"name": clean_name(info.filename)},
                code="bad_zip",
            ) from error
        if content is None:
            raise ApplicationError(
                _("The zip unpacks to more than the allowed size."),
                code="zip_too_large",
                status=413,
            )
        total += len(content)
        parts = info.filename.replace("\\", "/").split("/")
        folder = clean_name(parts[-2]) if len(parts) > 1 else ""
        uploads.append(Upload(name=clean_name(info.filename), data=content, folder=folder))
    if not uploads:
        raise ApplicationError(_("The zip holds no files."), code="no_images")
    return uploads


def read_data_within_limits(request):
    """A DRF ``request.data`` read with the upload limits applied as it is read."""
    from django.core.exceptions import RequestDataTooBig

    limit_uploads(request)
    try:
        data = request.data
    except RequestDataTooBig as error:
        raise ApplicationError(
            _("The request body is too large."), code="request_too_large", status=413
        ) from error
    raise_if_upload_too_large(request)
    return data


def open_upload(upload: Upload, *, draft_size: int):
    """The upload as a decoded Pillow image, or an ApplicationError naming the
    file: too large (413), or not a usable image (the decoder's reason)."""
    if len(upload.data) > settings.UPLOAD_MAX_FILE_BYTES:
        raise ApplicationError(
            _("“%(name)s” is larger than %(size)d MB.")
            % {"name": clean_name(upload.name), "size": settings.UPLOAD_MAX_FILE_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    try:
        return open_image(upload.data, draft_size=draft_size)
    except ApplicationError as error:
        raise ApplicationError(
            f"{clean_name(upload.name) or _('Image')}: {error.message}",
            code=error.code,
            status=error.status,
            extra={"file": clean_name(upload.name)},
        ) from error
