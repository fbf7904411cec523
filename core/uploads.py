"""Upload limits enforced while the request body is read, not after.

``SizeLimitUploadHandler`` stops reading a multipart body as soon as one file
passes ``UPLOAD_MAX_FILE_BYTES`` or the files together pass
``UPLOAD_MAX_REQUEST_BYTES``; the view then answers 413 with a clear message.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

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
