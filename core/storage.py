"""Storage that fails cleanly: a full disk (or an unreachable bucket) becomes
a clear error for the person uploading, and no half-written file stays behind."""

import errno
import logging
import os
from contextlib import contextmanager

from django.core.files import storage
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


class FileSystemStorage(storage.FileSystemStorage):
    """Django's, except that a write failing halfway (ENOSPC, EIO...) removes
    the partial file it leaves."""

    def _save(self, name, content):
        path = self.path(name)
        existed = os.path.exists(path)
        try:
            return super()._save(name, content)
        except OSError:
            if not existed and os.path.exists(path):
                os.remove(path)
            raise


def _remote_storage_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore ships with the web image
        return ()
    return (BotoCoreError, ClientError)


@contextmanager
def storage_errors():
    """Turns a storage failure into an ApplicationError (507 when the disk is
    full, 503 otherwise). Callers clean up their own rows and files first."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            logger.error("storage is full: %s", error)
            raise ApplicationError(
                _(
                    "The server has no room to store files right now, so nothing was saved. "
                    "Please try again later."
                ),
                code="storage_full",
                status=507,
            ) from error
        logger.exception("storage failed")
        raise _unavailable() from error
    except _remote_storage_errors() as error:
        logger.exception("object storage failed")
        raise _unavailable() from error


def _unavailable() -> ApplicationError:
    return ApplicationError(
        _("Files cannot be stored right now, so nothing was saved. Please try again later."),
        code="storage_unavailable",
        status=503,
    )
