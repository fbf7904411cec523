"""The labelled photos an int8 variant is checked on: the newest ready
evaluation set of the version's label set (registered with
``models_registry.int8`` from ``EvaluationConfig.ready``)."""

import numpy as np

from core.images import Preprocessing, open_image, to_tensor
from evaluation.models import EvaluationSet
from evaluation.services.runs import right_answers
from models_registry.int8 import LabelledPhotos
from models_registry.models import ModelVersion

MAX_PHOTOS = 1000


def evaluation_photos_for_int8(version: ModelVersion) -> LabelledPhotos | None:
    """Up to MAX_PHOTOS photos of the set whose classes the version knows,
    with the output index that counts as right for each; None without a set.
    Shared versions use staff sets; a user's classifier, its owner's."""
    evaluation_set = (
        EvaluationSet.objects.filter(
            label_set=version.label_set,
            owner_id=version.owner_id,
            status=EvaluationSet.Status.SUCCEEDED,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if evaluation_set is None:
        return None
    answers = right_answers(version)
    photos = evaluation_set.photos.filter(label_key__in=list(answers)).order_by("pk")
    spec = Preprocessing.from_spec(version.preprocessing, size=version.input_size)
    tensors, labels = [], []
    for photo in photos[:MAX_PHOTOS]:
        with photo.file.open("rb") as handle:
            tensors.append(to_tensor(open_image(handle.read(), draft_size=spec.resize), spec))
        labels.append(answers[photo.label_key])
    if not tensors:
        return None
    return LabelledPhotos(
        tensors=np.concatenate(tensors),
        labels=np.asarray(labels, dtype=np.int64),
        measured_on="evaluation_set",
        name=str(evaluation_set),
    )
