"""A zip of example photos, one folder per class, added by a worker.

The request only reads the zip's directory (folders must match classes; counts
and sizes within limits) and stores the zip as it is; a batch worker decodes,
checks and adds each photo. Photos that cannot be used are listed with their
reason; the others are added.
"""

import logging

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError
from core.jobs import job_claim, job_finish, job_heartbeat, job_release, worker_name
from core.shutdown import stop_requested, watch_for_stop
from core.storage import storage_errors
from core.uploads import Upload, pending_uploads_check
from core.zips import zip_member_read, zip_members, zip_open
from training.models import Classifier, ClassifierClass, Example, ExampleImport
from training.services.examples import (
    class_is_full,
    example_prepare,
    example_store,
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


PROBLEMS_LISTED = 200  # refused photos named one by one; ``failed`` counts them all


def _noted(problems: list, problem: dict) -> list:
    return problems if len(problems) >= PROBLEMS_LISTED else [*problems, problem]


def _add_one(job: ExampleImport, archive, position: int) -> None:
    """One photo, in one transaction with the job's position: added exactly once."""
    member, class_id = job.members[position]
    name = member.replace("\\", "/").rsplit("/", 1)[-1]
    outcome: dict = {}
    try:
        cls = ClassifierClass.objects.filter(pk=class_id).first()
        if cls is None:
            raise ApplicationError(_("Its class was deleted meanwhile."), code="unknown_class")
        data = zip_member_read(archive, archive.getinfo(member))
        jpeg, digest = example_prepare(Upload(name, data))
    except (ApplicationError, KeyError) as error:
        reason = error.message if isinstance(error, ApplicationError) else _("It is missing.")
        outcome = {"failed": F("failed") + 1, "problem": {"file": name, "error": str(reason)}}
    with transaction.atomic():
        current = ExampleImport.objects.select_for_update().filter(pk=job.pk).first()
        if current is None or current.position != position or current.worker != job.worker:
            return  # deleted (with its classifier), or another worker took over meanwhile
        fields: dict = {"position": position + 1}
        if "problem" in outcome:
            fields["failed"] = outcome["failed"]
            fields["problems"] = _noted(current.problems, outcome["problem"])
        elif Example.objects.filter(classifier_class=cls, sha256=digest).exists():
            fields["duplicates"] = F("duplicates") + 1
        elif error := class_is_full(count=cls.examples.count() + 1, cls=cls):
            fields["failed"] = F("failed") + 1
            fields["problems"] = _noted(current.problems, {"file": name, "error": error.message})
        else:
            try:
                with transaction.atomic():
                    example_store(cls=cls, name=name, jpeg=jpeg, sha256=digest)
            except IntegrityError:
                fields["duplicates"] = F("duplicates") + 1
            else:
                fields["added"] = F("added") + 1
        ExampleImport.objects.filter(pk=job.pk).update(**fields)


def example_import_run(*, import_id: int, worker: str | None = None) -> ExampleImport | None:
    """The worker's job: adds the photos from where the last worker stopped."""
    worker = worker or worker_name()
    job = ExampleImport.objects.filter(pk=import_id).first()
    if job is None or not job_claim(job=job, worker=worker):
        return None
    job.refresh_from_db()
    with watch_for_stop(), translation.override(job.language):
        try:
            with job.archive.open("rb") as handle:
                archive = zip_open(handle)
                for position in range(job.position, job.total):
                    if stop_requested():
                        job_release(job=job, worker=worker)
                        return job
                    _add_one(job, archive, position)
                    if not job_heartbeat(job=job, worker=worker):
                        return job  # the lease went to another worker
        except (ApplicationError, OSError) as error:
            message = getattr(error, "message", None) or _("The zip cannot be read.")
            job_finish(job=job, worker=worker, status=ExampleImport.Status.FAILED, error=message)
            return job
    Classifier.objects.filter(pk=job.classifier_id).update(updated_at=timezone.now())
    job_finish(job=job, worker=worker, status=ExampleImport.Status.SUCCEEDED)
    job.refresh_from_db()
    return job
