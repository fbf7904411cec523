"""What can be sent as an image, and folders turned into zips."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import IO

from picsort.errors import PicsortError

# A path, the bytes of a file, an open binary file, or (name, bytes).
Image = str | os.PathLike | bytes | IO[bytes] | tuple[str, bytes]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
)
# A zip is built on disk past this size, in memory below it.
SPOOL_BYTES = 16 * 2**20


def upload(image: Image, index: int = 0) -> tuple[str, bytes]:
    """(file name, bytes) of one image, whatever form it was given in."""
    if isinstance(image, tuple):
        name, data = image
        return str(name), bytes(data)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"image-{index + 1}", bytes(image)
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if path.is_dir():
            raise PicsortError(f"{path} is a folder, not a file.", code="is_a_folder")
        try:
            return path.name, path.read_bytes()
        except OSError as error:
            raise PicsortError(
                f"Cannot read {path}: {error.strerror}", code="unreadable"
            ) from error
    data = image.read()
    return Path(str(getattr(image, "name", "") or f"image-{index + 1}")).name, data


def is_folder(image: object) -> bool:
    return isinstance(image, (str, os.PathLike)) and Path(image).is_dir()


def images_in(folder: str | os.PathLike) -> list[Path]:
    """The image files under ``folder`` (by their suffix), hidden ones skipped, sorted."""
    root = Path(folder)
    found = [
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]
    return sorted(found)


def zip_files(members: list[tuple[Path, str]]) -> IO[bytes]:
    """A zip of (file, name in the zip) in this order, rewound (photos are
    compressed already: stored as they are)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as archive:
        for path, name in members:
            archive.write(path, name)
    spool.seek(0)
    return spool


def class_folders(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """One class per subfolder of ``folder``, with the images inside it."""
    root = Path(folder)
    if not root.is_dir():
        raise PicsortError(f"{root} is not a folder.", code="not_a_folder")
    classes = {
        sub.name: images_in(sub)
        for sub in sorted(root.iterdir())
        if sub.is_dir() and not sub.name.startswith(".")
    }
    classes = {name: paths for name, paths in classes.items() if paths}
    if not classes:
        raise PicsortError(
            f"{root} has no subfolder with images: make one folder per class.", code="no_classes"
        )
    return classes


def class_zip(classes: dict[str, list[Path]], root: Path) -> IO[bytes]:
    """The examples zip the API imports: ``class/file`` (nested folders flattened)."""
    members = [
        (path, f"{name}/{'_'.join(path.relative_to(root / name).parts)}")
        for name, paths in classes.items()
        for path in paths
    ]
    return zip_files(members)
