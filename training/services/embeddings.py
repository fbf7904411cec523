"""The backbone's feature vectors of examples, computed once per example and
backbone and cached on the example: the training job reads them, and so do the
checks on the classifier's page (which embed a few missing ones at a time).
ONNX Runtime only: no TensorFlow."""

from collections.abc import Callable, Iterable

from models_registry.models import ModelVersion
from training.models import Example

BATCH = 16


def cached_embedding(example: Example, backbone: ModelVersion):
    """The example's (2, width) vectors (the image, its mirror), or None."""
    from training import engine

    if example.embedding and example.embedding_backbone == backbone.onnx_sha256:
        return engine.from_bytes(example.embedding)
    return None


def examples_embed(
    *,
    examples: Iterable[Example],
    backbone: ModelVersion,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[int, object]:
    """Vectors per example id; the missing ones are computed and stored."""
    import numpy as np

    from core.images import Preprocessing, image_to_tensor
    from training import engine

    features, todo = {}, []
    for example in examples:
        vector = cached_embedding(example, backbone)
        if vector is None:
            todo.append(example)
        else:
            features[example.pk] = vector
    if not todo:
        return features
    with backbone.onnx_file.open("rb") as handle:
        embedder = engine.Embedder(handle.read())
    spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        tensors = []
        for example in chunk:
            with example.file.open("rb") as handle:
                tensors.append(image_to_tensor(handle.read(), spec))
        vectors = embedder(np.concatenate(tensors))
        for example, vector in zip(chunk, vectors, strict=True):
            features[example.pk] = vector
            Example.objects.filter(pk=example.pk).update(
                embedding=engine.to_bytes(vector), embedding_backbone=backbone.onnx_sha256
            )
        on_progress(start + len(chunk), len(todo))
    return features


LOOK_PER_REQUEST = 32  # examples embedded in one request (~10 ms each): bounded time


def examples_look(*, classifier) -> int:
    """Embeds up to LOOK_PER_REQUEST of the classifier's examples that have no
    vector for the current backbone yet, so the checks can see them; returns
    how many are still waiting. Training embeds the rest anyway."""
    from django.utils.translation import gettext as _

    from core.exceptions import ApplicationError
    from models_registry.selectors import training_backbone

    backbone = training_backbone()
    if backbone is None:
        raise ApplicationError(
            _("No pretrained model is installed to train on; ask an administrator."),
            code="no_backbone",
            status=503,
        )
    waiting = Example.objects.filter(classifier_class__classifier=classifier).exclude(
        embedding_backbone=backbone.onnx_sha256
    )
    examples_embed(examples=list(waiting.order_by("id")[:LOOK_PER_REQUEST]), backbone=backbone)
    return waiting.count()
