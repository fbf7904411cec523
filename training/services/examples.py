"""Example images: checked, re-encoded and stored per class. A few files are
added in the request; a zip with one folder per class goes to a worker
(``imports.py``)."""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.images import PixelBudget
from core.photo_imports import photo_prepare
from core.storage import storage_errors
from core.uploads import Upload, clean_name
from training.models import Classifier, ClassifierClass, Example

logger = logging.getLogger(__name__)


# Examples
# ------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    """How a class is recognised by its name: case and spacing do not matter."""
    return " ".join(str(name).split()).casefold()


def _classes_by_key(classifier: Classifier) -> dict[str, ClassifierClass]:
    return {_name_key(cls.name): cls for cls in classifier.classes.all()}


def _class_by_name(classifier: Classifier, name: str) -> ClassifierClass:
    if (cls := _classes_by_key(classifier).get(_name_key(name))) is not None:
        return cls
    raise ApplicationError(
        _("The classifier has no class called “%(name)s”.") % {"name": name},
        code="unknown_class",
    )


def example_prepare(upload: Upload, *, budget: PixelBudget | None = None) -> tuple[bytes, str]:
    """Decodes and checks one photo: its stored JPEG (at most EXAMPLE_MAX_SIDE)
    and the SHA-256 of what was uploaded (the same picture twice is kept once)."""
    return photo_prepare(upload, max_side=settings.EXAMPLE_MAX_SIDE, budget=budget)


def example_store(*, cls: ClassifierClass, name: str, jpeg: bytes, sha256: str) -> Example:
    """Inside the caller's transaction; the file goes if the row cannot be saved
    (the caller removes it if the transaction fails later)."""
    example = Example(classifier_class=cls, original_name=clean_name(name), sha256=sha256)
    example.file.save("example.jpg", ContentFile(jpeg), save=False)
    try:
        example.save()
    except BaseException:
        example.file.delete(save=False)
        raise
    return example


def example_store_checked(*, class_id: int, name: str, jpeg: bytes, sha256: str) -> str:
    """One photo of a zip import (inside its transaction): "added", or
    "duplicate" when the class has that picture already; refused when the
    class is gone or full."""
    cls = ClassifierClass.objects.filter(pk=class_id).first()
    if cls is None:
        raise ApplicationError(_("Its class was deleted meanwhile."), code="unknown_class")
    if Example.objects.filter(classifier_class=cls, sha256=sha256).exists():
        return "duplicate"
    if error := class_is_full(count=cls.examples.count() + 1, cls=cls):
        raise error
    try:
        with transaction.atomic():
            example_store(cls=cls, name=name, jpeg=jpeg, sha256=sha256)
    except IntegrityError:  # the same picture, added at the same moment
        return "duplicate"
    return "added"


def class_is_full(*, count: int, cls: ClassifierClass) -> ApplicationError | None:
    if count <= settings.TRAINING_MAX_EXAMPLES_PER_CLASS:
        return None
    return ApplicationError(
        _("A class can have at most %(max)d examples (“%(name)s” would have more).")
        % {"max": settings.TRAINING_MAX_EXAMPLES_PER_CLASS, "name": cls.name},
        code="too_many_examples",
    )


@storage_errors()
def examples_add(*, classifier: Classifier, uploads_by_class: dict[str, list]) -> dict[str, int]:
    """Adds examples now: ``{class name: [Upload, ...]}``, at most
    EXAMPLES_MAX_FILES_PER_REQUEST photos within the request's pixel budget
    (a zip of many goes to a worker: ``example_import_start``). Every image is
    decoded and checked first; one bad file rejects the whole request and
    nothing is kept. Returns added counts."""
    if not any(uploads_by_class.values()):
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    count = sum(len(uploads) for uploads in uploads_by_class.values())
    if count > settings.EXAMPLES_MAX_FILES_PER_REQUEST:
        raise ApplicationError(
            _("At most %(max)d photos at a time; put more in a zip with a folder per class.")
            % {"max": settings.EXAMPLES_MAX_FILES_PER_REQUEST},
            code="too_many_files",
        )
    budget = PixelBudget()
    prepared: list[tuple[ClassifierClass, str, bytes, str]] = []
    counts = dict(classifier.classes.annotate(n=Count("examples")).values_list("pk", "n"))
    for class_name, uploads in uploads_by_class.items():
        cls = _class_by_name(classifier, class_name)
        for upload in uploads:
            jpeg, digest = example_prepare(upload, budget=budget)
            prepared.append((cls, upload.name, jpeg, digest))
            counts[cls.pk] = counts.get(cls.pk, 0) + 1
            if error := class_is_full(count=counts[cls.pk], cls=cls):
                raise error

    added: dict[str, int] = defaultdict(int)
    stored: list = []
    try:
        with transaction.atomic():
            existing = set(
                Example.objects.filter(classifier_class__classifier=classifier).values_list(
                    "classifier_class_id", "sha256"
                )
            )
            for cls, name, jpeg, digest in prepared:
                if (cls.pk, digest) in existing:
                    continue
                existing.add((cls.pk, digest))
                stored.append(example_store(cls=cls, name=name, jpeg=jpeg, sha256=digest).file)
                added[cls.name] += 1
            Classifier.objects.filter(pk=classifier.pk).update(updated_at=timezone.now())
    except Exception:
        for file in stored:
            file.delete(save=False)
        raise
    return dict(added)


def zip_classes(*, classifier: Classifier, members: list) -> list[tuple[object, ClassifierClass]]:
    """A zip with one folder per class (``cat/1.jpg``, ``dog/2.png``...): each
    member with its class. Folders that match no class are an error, so a typo
    never goes unnoticed."""
    classes = _classes_by_key(classifier)
    matched = []
    for member in members:
        if not member.folder:
            raise ApplicationError(
                _("“%(name)s” is not inside a folder; put each class in its own folder.")
                % {"name": member.name},
                code="zip_needs_folders",
            )
        cls = classes.get(_name_key(member.folder))
        if cls is None:
            raise ApplicationError(
                _("The folder “%(folder)s” matches no class of this classifier.")
                % {"folder": member.folder},
                code="unknown_class",
            )
        matched.append((member, cls))
    return matched


def example_delete(*, classifier: Classifier, example_id: int) -> None:
    example = Example.objects.filter(classifier_class__classifier=classifier, pk=example_id).first()
    if example is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    example.delete()
