"""Example images: checked, re-encoded and stored per class, from files or a
zip with one folder per class."""

import hashlib
import logging
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.images import encode_jpeg
from core.storage import storage_errors
from core.uploads import clean_name, open_upload, uploads_from_zip
from training.models import Classifier, ClassifierClass, Example

logger = logging.getLogger(__name__)


# Examples
# ------------------------------------------------------------------------------


def _class_by_name(classifier: Classifier, name: str) -> ClassifierClass:
    wanted = " ".join(str(name).split()).casefold()
    for cls in classifier.classes.all():
        if cls.name.casefold() == wanted:
            return cls
    raise ApplicationError(
        _("The classifier has no class called “%(name)s”.") % {"name": name},
        code="unknown_class",
    )


@storage_errors()
def examples_add(*, classifier: Classifier, uploads_by_class: dict[str, list]) -> dict[str, int]:
    """Adds examples: ``{class name: [Upload, ...]}``. Every image is decoded and
    checked first; one bad file rejects the whole request and nothing is kept.
    The same picture twice in a class is kept once. Returns added counts."""
    if not any(uploads_by_class.values()):
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    prepared: list[tuple[ClassifierClass, object, bytes, str]] = []
    counts = dict(classifier.classes.annotate(n=Count("examples")).values_list("pk", "n"))
    for class_name, uploads in uploads_by_class.items():
        cls = _class_by_name(classifier, class_name)
        for upload in uploads:
            image = open_upload(upload, draft_size=settings.EXAMPLE_MAX_SIDE)
            data = encode_jpeg(image, settings.EXAMPLE_MAX_SIDE)
            prepared.append((cls, upload, data, hashlib.sha256(upload.data).hexdigest()))
            counts[cls.pk] = counts.get(cls.pk, 0) + 1
            if counts[cls.pk] > settings.TRAINING_MAX_EXAMPLES_PER_CLASS:
                raise ApplicationError(
                    _("A class can have at most %(max)d examples (“%(name)s” would have more).")
                    % {"max": settings.TRAINING_MAX_EXAMPLES_PER_CLASS, "name": cls.name},
                    code="too_many_examples",
                )

    added: dict[str, int] = defaultdict(int)
    stored: list = []
    try:
        with transaction.atomic():
            existing = set(
                Example.objects.filter(classifier_class__classifier=classifier).values_list(
                    "classifier_class_id", "sha256"
                )
            )
            for cls, upload, data, digest in prepared:
                if (cls.pk, digest) in existing:
                    continue
                existing.add((cls.pk, digest))
                example = Example(
                    classifier_class=cls, original_name=clean_name(upload.name), sha256=digest
                )
                example.file.save("example.jpg", ContentFile(data), save=False)
                stored.append(example.file)
                example.save()
                added[cls.name] += 1
            Classifier.objects.filter(pk=classifier.pk).update(updated_at=timezone.now())
    except Exception:
        for file in stored:
            file.delete(save=False)
        raise
    return dict(added)


def examples_from_zip(*, classifier: Classifier, data: bytes) -> dict[str, list]:
    """A zip with one folder per class (``cat/1.jpg``, ``dog/2.png``...). Folders
    that match no class are an error, so a typo never goes unnoticed."""
    by_class: dict[str, list] = defaultdict(list)
    names = {cls.name.casefold(): cls.name for cls in classifier.classes.all()}
    max_files = settings.TRAINING_MAX_CLASSES * settings.TRAINING_MAX_EXAMPLES_PER_CLASS
    for upload in uploads_from_zip(data, max_files=max_files):
        folder = upload.folder
        if not folder:
            raise ApplicationError(
                _("“%(name)s” is not inside a folder; put each class in its own folder.")
                % {"name": upload.name},
                code="zip_needs_folders",
            )
        name = names.get(" ".join(folder.split()).casefold())
        if name is None:
            raise ApplicationError(
                _("The folder “%(folder)s” matches no class of this classifier.")
                % {"folder": folder},
                code="unknown_class",
            )
        by_class[name].append(upload)
    return dict(by_class)


def examples_by_class(
    *,
    classifier: Classifier,
    archive: bytes | None = None,
    class_name: str = "",
    uploads: list | None = None,
) -> dict[str, list]:
    """What one upload request brings, by class: the folders of a zip, plus
    files that all belong to ``class_name``."""
    by_class = examples_from_zip(classifier=classifier, data=archive) if archive else {}
    if uploads:
        by_class.setdefault(class_name, [])
        by_class[class_name] += uploads
    return by_class


def example_delete(*, classifier: Classifier, example_id: int) -> None:
    example = Example.objects.filter(classifier_class__classifier=classifier, pk=example_id).first()
    if example is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    example.delete()
