"""Zips of images (batches, example sets): judged by their directory before
anything is read or stored, then read one member at a time, never past the
size each member declares; nothing is ever extracted by its path."""

import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.uploads import bounded_read, clean_name

MEMBER_NAME_MAX = 1024  # what a batch item records of a member's name


@dataclass(frozen=True)
class ZipMember:
    info: zipfile.ZipInfo
    name: str  # the file's own name, for display
    folder: str  # the folder it is in (the class, for examples)


def zip_open(source) -> zipfile.ZipFile:
    """``source``: bytes, a path, or a file (an upload is read from its
    temporary file, not loaded into memory)."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ApplicationError(_("The file is not a valid zip archive."), code="bad_zip") from error


def zip_members(archive: zipfile.ZipFile, *, max_files: int | None = None) -> list[ZipMember]:
    """Checks a zip's directory before anything is read or stored: how many
    files, how large each and all of them are once unpacked, how well they
    compress (bombs), encryption, names listed twice. Folders and hidden files
    (``.DS_Store``, ``__MACOSX/``) are left out. Python's zip reader never
    unpacks more than a member's declared size, so these checks bound the
    reads that follow."""
    max_files = max_files or settings.BATCH_MAX_FILES
    members, seen, total = [], set(), 0
    for info in archive.infolist():
        name = clean_name(info.filename)
        if info.is_dir() or not name or name.startswith(".") or "__MACOSX/" in info.filename:
            continue
        if len(info.filename) > MEMBER_NAME_MAX:
            raise ApplicationError(
                _("A name in the zip is longer than %(max)d characters.")
                % {"max": MEMBER_NAME_MAX},
                code="bad_zip",
            )
        if info.filename in seen:
            raise ApplicationError(
                _("The zip lists “%(name)s” twice.") % {"name": name}, code="bad_zip"
            )
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise ApplicationError(
                _("Encrypted zip files are not supported."), code="encrypted_zip"
            )
        if info.file_size > settings.UPLOAD_MAX_FILE_BYTES:
            raise ApplicationError(
                _("“%(name)s” in the zip is larger than %(size)d MB.")
                % {"name": name, "size": settings.UPLOAD_MAX_FILE_BYTES // 2**20},
                code="file_too_large",
                status=413,
            )
        if info.file_size > max(1, info.compress_size) * settings.BATCH_MAX_COMPRESSION_RATIO:
            raise ApplicationError(
                _("“%(name)s” is compressed suspiciously well (a zip bomb?).") % {"name": name},
                code="zip_bomb",
            )
        total += info.file_size
        if total > settings.BATCH_MAX_UNCOMPRESSED_BYTES:
            raise ApplicationError(
                _("The zip unpacks to more than %(size)d MB.")
                % {"size": settings.BATCH_MAX_UNCOMPRESSED_BYTES // 2**20},
                code="zip_too_large",
                status=413,
            )
        parts = info.filename.replace("\\", "/").split("/")
        folder = clean_name(parts[-2]) if len(parts) > 1 else ""
        members.append(ZipMember(info=info, name=name, folder=folder))
        if len(members) > max_files:
            raise ApplicationError(
                _("The zip holds more than %(max)d files.") % {"max": max_files},
                code="too_many_files",
            )
    if not members:
        raise ApplicationError(_("The zip holds no files."), code="no_images")
    return members


def zip_member_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, never more than the limit for one file."""
    try:
        with archive.open(info) as handle:
            data = bounded_read(handle, min(info.file_size, settings.UPLOAD_MAX_FILE_BYTES))
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
        raise ApplicationError(
            _("“%(name)s” in the zip cannot be read.") % {"name": clean_name(info.filename)},
            code="bad_zip",
        ) from error
    if data is None:  # the reader stops at the declared size: only a member never checked
        raise ApplicationError(
            _("“%(name)s” in the zip is larger than %(size)d MB.")
            % {"name": clean_name(info.filename), "size": settings.UPLOAD_MAX_FILE_BYTES // 2**20},
            code="file_too_large",
            status=413,
        )
    return data
