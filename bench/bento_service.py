"""The dedicated model server to race against: BentoML serving the same ONNX
file with the same preprocessing as Picsort, adaptive batching on, no
database. Runs only in the bench virtualenv (.venv-bench, requirements/bench.txt):

    BENCH_ONNX=model.onnx .venv-bench/bin/bentoml serve bento_service:Classifier --port N

POST /classify with a multipart ``images`` field -> the top 5 (index, probability).
``BENCH_WORKERS`` worker processes (2), each with ``BENCH_ORT_THREADS`` ONNX
Runtime threads (1): the same budget as the API's web processes.
"""

import os

import bentoml
import numpy as np
from PIL import Image

SIZE, RESIZE = 224, 256  # EfficientNet-Lite0: crop 224 of the shorter side resized to 256


def to_tensor(image: Image.Image) -> np.ndarray:
    """The product's preprocessing (core/images.py): JPEG draft decoding, one
    bilinear resize of the central box, (x - 127) / 128 in place."""
    if image.format in ("JPEG", "MPO"):
        scale = RESIZE / min(image.size)
        image.draft("RGB", (int(image.size[0] * scale) + 1, int(image.size[1] * scale) + 1))
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height) * SIZE / RESIZE
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize(
        (SIZE, SIZE),
        Image.Resampling.BILINEAR,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
    array = np.asarray(image, dtype=np.float32)
    array *= 1 / 128.0
    array += -127.0 / 128.0
    return array


@bentoml.service(workers=int(os.environ.get("BENCH_WORKERS", "2")))
class Classifier:
    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("BENCH_ORT_THREADS", "1"))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            os.environ["BENCH_ONNX"], options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    # A generous latency budget: BentoML answers 503 to what it expects to miss it,
    # and a refusal is no answer (the API refuses nothing).
    @bentoml.api(batchable=True, max_batch_size=8, max_latency_ms=30_000)
    def classify(self, images: list[Image.Image]) -> list[dict]:
        batch = np.stack([to_tensor(image) for image in images])
        logits = self.session.run(None, {self.input_name: batch})[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        answers = []
        for row in probabilities:
            top = np.argsort(-row)[:5]
            answers.append({"top": [[int(i), float(row[i])] for i in top]})
        return answers
