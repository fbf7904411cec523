"""Classifications and batches written straight into the database: cheap
enough for a thousand batch items, and free to use class names no label file
would accept ("../x", "a/b")."""

import hashlib
import io

import numpy as np
from django.core.files.base import ContentFile
from PIL import Image as PILImage

from classification.models import BatchItem, BatchJob, Image, Prediction
from models_registry.models import Label, LabelSet, ModelVersion


def toy_version(*, name: str = "Toy", classes) -> ModelVersion:
    """A model version over ``classes``: (key, English name, Spanish name) triples."""
    label_set = LabelSet.objects.create(name=f"{name} labels")
    Label.objects.bulk_create(
        Label(label_set=label_set, index=i, key=key, name=en, translations={"es": es})
        for i, (key, en, es) in enumerate(classes)
    )
    return ModelVersion.objects.create(name=name, label_set=label_set, sha256="0" * 64)


def noisy_jpeg(*, side: int = 64, seed: int = 0) -> bytes:
    """A JPEG of noise: it hardly compresses, so its size is predictable."""
    pixels = np.random.default_rng(seed).integers(0, 255, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def kept_image(*, user, data: bytes, name: str = "photo.jpg") -> Image:
    image = Image(user=user, original_name=name, width=64, height=64)
    image.sha256 = hashlib.sha256(data).hexdigest()
    image.file.save("x.jpg", ContentFile(data), save=False)
    image.thumbnail.save("t.jpg", ContentFile(data), save=False)
    image.save()
    return image


def prediction(
    *,
    user,
    version: ModelVersion,
    key: str,
    name: str = "photo.jpg",
    probability: float = 0.9,
    none_of_these: bool = False,
    image: Image | None = None,
    batch_item: BatchItem | None = None,
) -> Prediction:
    index = version.label_set.labels.get(key=key).index
    return Prediction.objects.create(
        user=user,
        image=image,
        model_version=version,
        label_set=version.label_set,
        original_name=name,
        results=[{"key": key, "index": index, "probability": probability}],
        top_key=key,
        top_probability=probability,
        none_of_these=none_of_these,
        batch_item=batch_item,
    )


def finished_batch(*, user, version: ModelVersion, store: bool = True, total: int = 0) -> BatchJob:
    return BatchJob.objects.create(
        user=user,
        model_version=version,
        status=BatchJob.Status.SUCCEEDED,
        store_images=store,
        total=total,
    )


def batch_item(*, job: BatchJob, index: int, name: str, status=BatchItem.Status.DONE, error=""):
    return BatchItem.objects.create(
        job=job, index=index, original_name=name, status=status, error=error
    )
