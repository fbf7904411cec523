"""A zip of example photos, one folder per class, added by a worker.

The request only reads the zip's directory (folders must match classes; counts
and sizes within limits) and stores the zip as it is; a batch worker decodes,
checks and adds each photo (``core.photo_imports``). Photos that cannot be
used are listed with their reason; the others are added.
"""

import logging

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.photo_imports import photo_import_run
from core.storage import storage_errors
from core.uploads import pending_uploads_check
from core.zips import zip_members, zip_open
from training.models import Classifier, ExampleImport
from training.services.examples import (
    class_is_full,
    examples_add,
    zip_classes,
)

logger = logging.getLogger(__name__)


def examples_receive(
    *, classifier: Classifier, user: User, archive=None, class_name: str = "", uploads=()
) -> ExampleImport | dict[str, int]:
    """What one upload request brings: a zip with a folder per class, added by
    a worker (returns the import to follow), or a few photos of one class,
    added at once (returns the counts added). Not both at once."""
    if archive is not None and uploads:
        raise ApplicationError(
            _("Send either a zip or photos, not both at once."), code="zip_and_files"
        )
    if archive is not None:
        return example_import_start(classifier=classifier, user=user, archive=archive)
    return examples_add(classifier=classifier, uploads_by_class={class_name: list(uploads)})


@storage_errors()
def example_import_start(*, classifier: Classifier, user: User, archive) -> ExampleImport:
    """Checks the zip's directory and queues the import; returns the job (202)."""
    max_files = settings.TRAINING_MAX_CLASSES * settings.TRAINING_MAX_EXAMPLES_PER_CLASS
    members = zip_classes(
        classifier=classifier, members=zip_members(zip_open(archive), max_files=max_files)
    )
    counts = dict(classifier.classes.annotate(n=Count("examples")).values_list("pk", "n"))
    for _member, cls in members:
        counts[cls.pk] = counts.get(cls.pk, 0) + 1
        if error := class_is_full(count=counts[cls.pk], cls=cls):
            raise error
    archive.seek(0, 2)
    size = archive.tell()
    archive.seek(0)
    job = ExampleImport(
        classifier=classifier,
        user=user,
        language=translation.get_language() or "en",
        members=[[member.info.filename, cls.pk] for member, cls in members],
        total=len(members),
        archive_bytes=size,
    )
    job.archive.save("examples.zip", File(archive), save=False)
    try:
        with transaction.atomic():
            pending_uploads_check(user=user, adding=size)
            job.save()
    except BaseException:
        job.archive.delete(save=False)
        raise
    # A lost message is not a lost job: the sweep sends queued jobs again.
    transaction.on_commit(job.enqueue, robust=True)
    return job


def example_import_run(*, import_id: int, worker: str | None = None) -> ExampleImport | None:
    """The worker's job (``core.photo_imports``)."""
    return photo_import_run(job_class=ExampleImport, job_id=import_id, worker=worker)
