"""Evaluation sets: a zip with one folder per class, each folder named by a
class of the chosen label set (its key, its English name or a translation).
The request checks the zip's directory and stores it; a batch worker adds the
photos (``core.photo_imports``). The same name again makes the next version."""

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.photo_imports import photo_import_run
from core.storage import storage_errors
from core.uploads import pending_uploads_check
from core.zips import zip_members, zip_open
from evaluation.models import EvaluationPhoto, EvaluationSet
from models_registry.models import LabelSet

MAX_PHOTOS = 20_000


def class_reference(label_set: LabelSet, label) -> str:
    """How a set's photo names its class: the key for shared label sets; the
    class name for a user's own classifier, whose keys ("class-0", ...) follow
    the order of a training run and may change with the next one."""
    return label.name if label_set.owner_id else label.key


def _key_by_folder(label_set: LabelSet) -> dict[str, str]:
    """Every way a folder may name a class: key, name, translations (any case)."""
    names: dict[str, str] = {}
    for label in label_set.labels.all():
        reference = class_reference(label_set, label)
        for name in (label.key, label.name, *label.translations.values()):
            names.setdefault(" ".join(str(name).split()).casefold(), reference)
    return names


def _members_by_class(label_set: LabelSet, archive) -> list[list[str]]:
    keys = _key_by_folder(label_set)
    matched, unknown = [], []
    for member in zip_members(zip_open(archive), max_files=MAX_PHOTOS):
        if not member.folder:
            raise ApplicationError(
                _("“%(name)s” is not inside a folder; put each class in its own folder.")
                % {"name": member.name},
                code="zip_needs_folders",
            )
        key = keys.get(" ".join(member.folder.split()).casefold())
        if key is None:
            if member.folder not in unknown:
                unknown.append(member.folder)
            continue
        matched.append([member.info.filename, key])
    if unknown:
        raise ApplicationError(
            _("These folders match no class of “%(set)s”: %(folders)s.")
            % {"set": label_set.name, "folders": ", ".join(unknown[:10])},
            code="unknown_class",
        )
    return matched


def next_version(*, name: str, owner: User | None) -> int:
    same_name = EvaluationSet.objects.filter(name=name, owner=owner)
    return (same_name.aggregate(n=Max("version"))["n"] or 0) + 1


@storage_errors()
def evaluation_set_start(
    *,
    name: str,
    label_set: LabelSet,
    archive,
    user: User,
    owner: User | None = None,
    description: str = "",
) -> EvaluationSet:
    """Checks the zip's directory and queues the import (the set is ready when
    it ends). ``owner``: a private set for that user's own classifiers."""
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(_("Give the evaluation set a name."), code="name_required")
    if label_set.owner_id not in (None, getattr(owner, "pk", None)):
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    members = _members_by_class(label_set, archive)
    archive.seek(0, 2)
    size = archive.tell()
    archive.seek(0)
    job = EvaluationSet(
        name=name,
        description=description,
        label_set=label_set,
        owner=owner,
        user=user,
        language=translation.get_language() or "en",
        members=members,
        total=len(members),
        archive_bytes=size,
    )
    job.archive.save("evaluation.zip", File(archive), save=False)
    try:
        with transaction.atomic():
            pending_uploads_check(user=user, adding=size)
            job.version = next_version(name=name, owner=owner)
            job.save()
    except BaseException:
        job.archive.delete(save=False)
        raise
    transaction.on_commit(job.enqueue, robust=True)
    return job


def evaluation_photo_store(
    *, evaluation_set: EvaluationSet, label_key: str, name: str, jpeg: bytes, sha256: str
) -> str:
    """One photo of the set (inside the import's transaction). The same picture
    under two classes would make the set contradict itself: refused."""
    existing = evaluation_set.photos.filter(sha256=sha256).first()
    if existing is not None:
        if existing.label_key != label_key:
            raise ApplicationError(
                _("The same photo is also in the folder of “%(key)s”.")
                % {"key": existing.label_key},
                code="ambiguous_photo",
            )
        return "duplicate"
    photo = EvaluationPhoto(
        evaluation_set=evaluation_set, original_name=name[:255], label_key=label_key, sha256=sha256
    )
    photo.file.save("photo.jpg", ContentFile(jpeg), save=False)
    try:
        with transaction.atomic():
            photo.save()
    except IntegrityError:
        photo.file.delete(save=False)
        return "duplicate"
    except BaseException:
        photo.file.delete(save=False)
        raise
    return "added"


def evaluation_set_import_run(*, set_id: int, worker: str | None = None) -> EvaluationSet | None:
    return photo_import_run(job_class=EvaluationSet, job_id=set_id, worker=worker)


def evaluation_set_delete(*, evaluation_set: EvaluationSet) -> None:
    evaluation_set.delete()  # photos' files leave with their rows (signals)
