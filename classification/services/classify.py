"""Classifying images now, in the request: choosing the model, decoding each
upload once and within budget, storing what is kept.

Three ways in: ``classify_uploads`` (all or nothing; batch items),
``classify_uploads_each`` (every file answered on its own: the classify page
and API) and ``classify_preview`` (nothing written: the live camera)."""

import contextlib
import hashlib
import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from classification import hedging, inference
from classification.models import BatchItem, BatchJob, Image, NoneOfTheseReason, Prediction
from core.exceptions import ApplicationError
from core.images import PixelBudget, encode_jpeg, jpeg_without_metadata
from core.storage import storage_errors
from core.uploads import Upload, clean_name, open_upload
from models_registry.models import ModelVersion
from models_registry.selectors import model_version_for_alias_cached

logger = logging.getLogger(__name__)

STORED_RESULTS = 10  # classes kept per prediction (top_k asks for up to this many)


# Choosing a model
# ------------------------------------------------------------------------------


def alias_of(model: str | int | None) -> str:
    """The alias a classification was asked through ("" for a version id):
    recorded on it, so a replay can run an alias's recent answers again."""
    model = str(model).strip() if model not in (None, "") else "default"
    return "" if model.isdigit() else model[:50]


def model_version_resolve(*, user: User, model: str | int | None) -> ModelVersion:
    """``model`` is an alias name (default: ``default``) or a version id."""
    model = str(model).strip() if model not in (None, "") else "default"
    if model.isdigit() and len(model) <= 18:
        version = (
            ModelVersion.objects.select_related("label_set")
            .filter(pk=int(model), status=ModelVersion.Status.READY)
            .first()
        )
    else:
        version = model_version_for_alias_cached(alias=model)
    if version is not None and not version.usable_by(user):
        version = None  # someone else's classifier: as if it did not exist
    if version is None:
        raise ApplicationError(
            _("There is no ready classifier called “%(model)s”.") % {"model": model},
            code="unknown_model",
        )
    if version.status != ModelVersion.Status.READY:
        raise inference.model_not_ready()
    return version


# Single images
# ------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """One decoded upload, reduced to what is kept: the model's input and, when
    the image is stored, its re-encoded JPEGs (the decoded picture is gone)."""

    index: int  # its place in the request
    name: str
    tensor: np.ndarray
    width: int = 0
    height: int = 0
    sha256: str = ""
    full: bytes = b""
    thumb: bytes = b""
    distance: float | None = None  # to a trained classifier's examples


@dataclass(frozen=True)
class FileError:
    """A file of the request that was not classified, and why."""

    upload_index: int  # its place in the request, from 0
    file: str
    code: str
    message: str  # the reason, in the active language, without the file's name

    def as_dict(self) -> dict:
        return {
            "index": self.upload_index,
            "file": self.file,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class ClassifyOutcome:
    """Every file of a request answered on its own: ``predictions`` for the
    classified ones (each carries its place in the request as ``upload_index``)
    and ``errors`` for the others, both in upload order."""

    predictions: list[Prediction]
    errors: list[FileError]

    def in_upload_order(self) -> list["Prediction | FileError"]:
        return sorted([*self.predictions, *self.errors], key=lambda item: item.upload_index)


def _prepare(
    upload: Upload, *, index: int, version: ModelVersion, store: bool, budget: PixelBudget
) -> _Prepared:
    data = upload.data
    keep = settings.STORED_IMAGE_MAX_SIDE
    draft = max(inference.preprocessing_for(version).resize, keep if store else 0)
    image = open_upload(upload, data=data, draft_size=draft, budget=budget)
    tensor = inference.tensor(image, version)
    prepared = _Prepared(index=index, name=clean_name(upload.name), tensor=tensor)
    if store:
        prepared.width, prepared.height = image.size
        prepared.sha256 = hashlib.sha256(data).hexdigest()
        # A plain JPEG small enough is kept as it came, minus its metadata:
        # only the thumbnail is encoded.
        prepared.full = jpeg_without_metadata(data, max_side=keep) or encode_jpeg(image, keep)
        prepared.thumb = encode_jpeg(image, settings.THUMBNAIL_SIDE)
    return prepared


def _prepare_each(
    uploads: list[Upload], *, version: ModelVersion, store: bool, each: bool
) -> tuple[list[_Prepared], list[FileError]]:
    """Decodes the uploads one at a time within the request's pixel budget.
    With ``each``, a bad file is set aside with its reason; without, it fails
    the call. The request's own limits (413: too large, too many pixels in
    all) fail the call either way."""
    if not uploads:
        raise ApplicationError(_("Choose at least one image."), code="no_images")
    if len(uploads) > settings.CLASSIFY_MAX_FILES:
        raise ApplicationError(
            _("At most %(max)d images per request; use a batch for more.")
            % {"max": settings.CLASSIFY_MAX_FILES},
            code="too_many_images",
        )
    budget = PixelBudget()
    prepared, errors = [], []
    for index, upload in enumerate(uploads):
        try:
            prepared.append(
                _prepare(upload, index=index, version=version, store=store, budget=budget)
            )
        except ApplicationError as error:
            if not each or error.status == 413:
                raise
            reason = error.extra.get("reason", error.message)
            errors.append(FileError(index, clean_name(upload.name), error.code, str(reason)))
    return prepared, errors


def _nothing_classified(errors: list[FileError]) -> ApplicationError:
    """No file of the request could be classified: one error, every file's reason."""
    details = {"errors": [error.as_dict() for error in errors]}
    if len(errors) == 1:
        (error,) = errors
        return ApplicationError(
            _("%(name)s: %(reason)s") % {"name": error.file or _("Image"), "reason": error.message},
            code=error.code,
            extra=details,
        )
    return ApplicationError(
        _("None of the files could be classified."), code="no_image_classified", extra=details
    )


def _store_image(*, user: User, prepared: _Prepared) -> Image:
    image = Image(
        user=user,
        original_name=prepared.name,
        width=prepared.width,
        height=prepared.height,
        sha256=prepared.sha256,
    )
    image.file.save("image.jpg", ContentFile(prepared.full), save=False)
    image.thumbnail.save("thumb.jpg", ContentFile(prepared.thumb), save=False)
    image.save()
    return image


def _results(probabilities, version: ModelVersion) -> list[dict]:
    ranked = inference.rank(probabilities, version, top_k=STORED_RESULTS, language="en")
    return [
        {"index": label.index, "key": label.key, "probability": round(label.probability, 6)}
        for label in ranked
    ]


def _none_of_these(version: ModelVersion, confidence: float, distance: float | None) -> dict:
    """A photo unlike a trained classifier's examples is "none of these" however
    confident the answer; otherwise a confidence below the owner's threshold."""
    far = version.distance_threshold
    if distance is not None and far is not None and distance > far:
        reason = NoneOfTheseReason.UNLIKE_EXAMPLES
    elif version.confidence_threshold is not None and confidence < version.confidence_threshold:
        reason = NoneOfTheseReason.LOW_CONFIDENCE
    else:
        reason = ""
    return {"none_of_these": bool(reason), "none_of_these_reason": reason}


def _prediction(
    *,
    user: User,
    item: _Prepared,
    row,
    version: ModelVersion,
    image,
    batch_item,
    alias: str = "",
    hedge_at: float | None = None,
    api_token=None,
):
    results = _results(row, version)
    hedged = None if hedge_at is None else hedging.hedge(row, version, threshold=hedge_at)
    prediction = Prediction(
        user=user,
        image=image,
        model_version=version,
        label_set=version.label_set,
        precision=inference.precision(version),
        original_name=item.name,
        results=results,
        top_key=results[0]["key"],
        top_probability=results[0]["probability"],
        **_none_of_these(version, results[0]["probability"], item.distance),
        batch_item=batch_item,
        alias=alias,
        hedged=hedged,
        api_token=api_token,
    )
    prediction.upload_index = item.index
    return prediction


class _AlreadyDone(Exception):
    """Another worker classified this batch item meanwhile: keep theirs."""


def _predict(
    *,
    user: User,
    prepared: list[_Prepared],
    version: ModelVersion,
    store: bool,
    save: bool = True,
    batch_item: "BatchItem | None" = None,
    alias: str = "",
    hedge_at: float | None = None,
    api_token=None,
) -> list[Prediction]:
    """Runs the model once over the prepared images; with ``save``, writes the
    predictions (and the images, with ``store``) in one transaction. Below
    ``hedge_at`` (None: never) an answer is hedged to a broader class."""
    probabilities, distances = inference.run_with_distances(
        version, [item.tensor for item in prepared]
    )
    if distances is not None:
        for item, distance in zip(prepared, distances, strict=True):
            item.distance = float(distance)
    if not save:
        return [
            _prediction(
                user=user,
                item=item,
                row=row,
                version=version,
                image=None,
                batch_item=None,
                hedge_at=hedge_at,
            )
            for item, row in zip(prepared, probabilities, strict=True)
        ]
    stored_files: list = []
    # Results alone are one INSERT, atomic by itself: no transaction around it.
    together = store or batch_item is not None
    try:
        with transaction.atomic() if together else contextlib.nullcontext():
            if batch_item is not None and not _batch_item_mark_done(batch_item):
                raise _AlreadyDone()
            predictions = []
            for item, row in zip(prepared, probabilities, strict=True):
                image = _store_image(user=user, prepared=item) if store else None
                if image is not None:
                    stored_files += [image.file, image.thumbnail]
                prediction = _prediction(
                    user=user,
                    item=item,
                    row=row,
                    version=version,
                    image=image,
                    batch_item=batch_item,
                    alias=alias,
                    hedge_at=hedge_at,
                    api_token=api_token,
                )
                predictions.append(prediction)
            Prediction.objects.bulk_create(predictions)
    except BaseException:
        for stored in stored_files:  # no orphan files when the rows are rolled back
            stored.delete(save=False)
        raise
    return predictions


@storage_errors()
def classify_uploads(
    *,
    user: User,
    uploads: list[Upload],
    version: ModelVersion,
    store: bool = True,
    batch_item: "BatchItem | None" = None,
) -> list[Prediction]:
    """Classifies several images at once, all or nothing: one bad file fails
    the call with its name, and nothing is stored. Images are decoded one at a
    time and reduced at once (one full-size picture in memory at most), within
    the request's pixel budget. With ``batch_item``, the prediction and the
    item's new status are written in one transaction."""
    prepared, _errors = _prepare_each(uploads, version=version, store=store, each=False)
    return _predict(
        user=user, prepared=prepared, version=version, store=store, batch_item=batch_item
    )


@storage_errors()
def classify_uploads_each(
    *,
    user: User,
    uploads: list[Upload],
    version: ModelVersion,
    store: bool = True,
    alias: str = "",
    hedge_at: float | None = None,
    api_token=None,
) -> ClassifyOutcome:
    """Every file answered on its own: the good ones are classified and stored
    (in one transaction), the bad ones come back with their reason. The
    request's limits (number of files, 413 sizes and pixel budget) still fail
    the whole call; so does a request in which no file could be classified
    (its error lists every file's reason in ``extra["errors"]``). ``alias``:
    the alias it was asked through (``alias_of``), recorded on each answer.
    ``hedge_at``: the confidence asked for (``hedging.hedge_threshold``).
    ``api_token``: the token that asked (recorded on each answer), if any."""
    prepared, errors = _prepare_each(uploads, version=version, store=store, each=True)
    if not prepared:
        raise _nothing_classified(errors)
    predictions = _predict(
        user=user,
        prepared=prepared,
        version=version,
        store=store,
        alias=alias,
        hedge_at=hedge_at,
        api_token=api_token,
    )
    return ClassifyOutcome(predictions=predictions, errors=errors)


def classify_preview(
    *, user: User, uploads: list[Upload], version: ModelVersion, hedge_at: float | None = None
) -> ClassifyOutcome:
    """Like ``classify_uploads_each``, but nothing is written, not even the
    result (a live camera preview): the predictions are unsaved objects."""
    prepared, errors = _prepare_each(uploads, version=version, store=False, each=True)
    if not prepared:
        raise _nothing_classified(errors)
    predictions = _predict(
        user=user, prepared=prepared, version=version, store=False, save=False, hedge_at=hedge_at
    )
    return ClassifyOutcome(predictions=predictions, errors=errors)


def prediction_delete(*, user: User, prediction_id: int) -> None:
    prediction = (
        Prediction.objects.filter(user=user, pk=prediction_id).select_related("image").first()
    )
    if prediction is None:
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    with transaction.atomic():
        if prediction.image is not None:
            prediction.image.delete()
        prediction.delete()


def prediction_delete_all(*, user: User) -> int:
    with transaction.atomic():
        count = Prediction.objects.filter(user=user).count()
        Image.objects.filter(user=user).delete()
        Prediction.objects.filter(user=user).delete()
    return count


def _batch_item_mark_done(item: BatchItem) -> bool:
    """Inside the prediction's transaction: the item is done, once."""
    updated = BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
        status=BatchItem.Status.DONE
    )
    if updated:
        BatchJob.objects.filter(pk=item.job_id).update(done=F("done") + 1)
    return bool(updated)
