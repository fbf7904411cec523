"""Upload limits enforced while the request body is read, not after.

``SizeLimitUploadHandler`` stops reading a multipart body as soon as one file
passes ``UPLOAD_MAX_FILE_BYTES`` (a zip, in the ``archive`` field:
``UPLOAD_MAX_ARCHIVE_BYTES``) or the files together pass
``UPLOAD_MAX_REQUEST_BYTES``; the view then answers 413 with a clear message.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.images import PixelBudget, open_image

LIMIT_ATTRIBUTE = "upload_limit_exceeded"


ARCHIVE_FIELD = "archive"  # the form field that carries a zip of many images


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.file_bytes = 0
        self.total_bytes = 0

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data, start):
        self.file_bytes += len(raw_data)
        self.total_bytes += len(raw_data)
        archive = self.field_name == ARCHIVE_FIELD
        limit = settings.UPLOAD_MAX_ARCHIVE_BYTES if archive else settings.UPLOAD_MAX_FILE_BYTES
        if self.file_bytes > limit:
            setattr(self.request, LIMIT_ATTRIBUTE, "archive" if archive else "file")
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
    if exceeded == "archive":
        raise ApplicationError(
            _("The zip is larger than %(size)d MB.")
            % {"size": settings.UPLOAD_MAX_ARCHIVE_BYTES // 2**20},
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


# Uploaded files
# ------------------------------------------------------------------------------


class Upload:
    """One uploaded file: its name, and its bytes, read only when asked for
    (``data``), so a request holding many files keeps one in memory at a time."""

    __slots__ = ("_data", "_read", "folder", "name")

    def __init__(
        self,
        name: str,
        data: bytes | None = None,
        *,
        read: Callable[[], bytes] | None = None,
        folder: str = "",
    ) -> None:
        self.name, self.folder = name, folder  # folder: inside a zip, the one it was in
        self._data, self._read = data, read

    @classmethod
    def from_file(cls, file) -> "Upload":
        """A file of the request (``request.FILES``; its size was limited while
        the body was read), read when needed."""

        def read() -> bytes:
            file.seek(0)
            return file.read()

        return cls(file.name or "image", read=read)

    @property
    def data(self) -> bytes:
        if self._data is not None:
            return self._data
        return self._read() if self._read is not None else b""


def uploads_from_files(files) -> list[Upload]:
    return [Upload.from_file(file) for file in files]


def clean_name(name: str) -> str:
    """The file's own name, without any folder part, for display only."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:255]


def bounded_read(handle, limit: int) -> bytes | None:
    """Reads at most ``limit`` bytes; None if there is more (checked while reading)."""
    data = handle.read(limit + 1)
    return None if len(data) > limit else data


def pending_uploads_check(*, user, adding: int) -> None:
    """A user's uploads waiting for a worker (the archives of their unfinished
    jobs) may take at most UPLOAD_MAX_PENDING_BYTES on disk. Call it inside the
    transaction that creates the job: it locks the user's row, so two requests
    at once cannot both squeeze in."""
    from django.contrib.auth import get_user_model
    from django.db.models import Sum

    from core.jobs import leased_job_models
    from core.models import UploadedArchive

    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    held = 0
    for model in leased_job_models():
        if issubclass(model, UploadedArchive):
            waiting = model.objects.filter(user=user, status__in=model.ACTIVE)
            held += waiting.aggregate(n=Sum("archive_bytes"))["n"] or 0
    if held + adding > settings.UPLOAD_MAX_PENDING_BYTES:
        raise ApplicationError(
            _(
                "Your uploads waiting to be processed would take more than %(size)d MB; "
                "wait until your running jobs finish."
            )
            % {"size": settings.UPLOAD_MAX_PENDING_BYTES // 2**20},
            code="upload_quota",
            status=413,
        )


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


def open_upload(
    upload: Upload, *, draft_size: int, data: bytes | None = None, budget: PixelBudget | None = None
):
    """The upload as a decoded Pillow image, or an ApplicationError naming the
    file: too large (413), or not a usable image (the decoder's reason)."""
    data = upload.data if data is None else data
    if len(data) > settings.UPLOAD_MAX_FILE_BYTES:
        raise ApplicationError(
            _("“%(name)s” is larger than %(size)d MB.")
            % {"name": clean_name(upload.name), "size": settings.UPLOAD_MAX_FILE_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    try:
        return open_image(data, draft_size=draft_size, budget=budget)
    except ApplicationError as error:
        raise ApplicationError(
            _("%(name)s: %(reason)s")
            % {"name": clean_name(upload.name) or _("Image"), "reason": error.message},
            code=error.code,
            status=error.status,
            extra={**error.extra, "file": clean_name(upload.name), "reason": str(error.message)},
        ) from error
