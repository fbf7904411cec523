"""The numeric side of training, for the worker: embed, fit a head, measure, export.

The backbone is a ready pretrained model: its ONNX graph up to the input of
the last dense layer gives each image a feature vector (run once per example,
with ONNX Runtime, exactly as it will run when classifying). A softmax head is
trained on those vectors with Keras; the exported model is the same backbone
with the head in place of the last layer, as one ``.keras`` and one ``.onnx``
file. TensorFlow is imported here only, inside functions.
"""

import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.scores import classification_scores

VALIDATION_FRACTION = 0.2


class Cancelled(Exception):
    """The user cancelled the run (checked between batches and epochs)."""


# The backbone's graph
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tail:
    matmul: object  # the onnx NodeProto of the last dense layer's MatMul
    bias_add: object | None
    features: str  # the tensor name of the dense layer's input


def _last_dense(graph) -> _Tail:
    """The last MatMul (+ Add with a constant) before the graph's output."""
    initializers = {init.name for init in graph.initializer}
    producers = {out: node for node in graph.node for out in node.output}
    node = producers.get(graph.output[0].name)
    bias_add = None
    if node is not None and node.op_type == "Add":
        bias_add = node
        node = next((producers.get(i) for i in node.input if i not in initializers), None)
    if node is None or node.op_type != "MatMul" or node.input[1] not in initializers:
        raise ValueError("the backbone does not end in a dense layer")
    return _Tail(matmul=node, bias_add=bias_add, features=node.input[0])


def feature_model(onnx_bytes: bytes) -> bytes:
    """The backbone's ONNX graph answering with the last dense layer's input."""
    import onnx
    from onnx import helper

    model = onnx.load_from_string(onnx_bytes)
    tail = _last_dense(model.graph)
    width = _initializer(model.graph, tail.matmul.input[1]).shape[0]
    del model.graph.output[:]
    model.graph.output.append(
        helper.make_tensor_value_info(tail.features, onnx.TensorProto.FLOAT, [None, width])
    )
    return model.SerializeToString()


def _initializer(graph, name: str) -> np.ndarray:
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    raise KeyError(name)


def _replace_initializer(graph, name: str, array: np.ndarray) -> None:
    from onnx import numpy_helper

    for index, init in enumerate(graph.initializer):
        if init.name == name:
            graph.initializer[index].CopyFrom(numpy_helper.from_array(array, name))
            return
    raise KeyError(name)


DISTANCE_OUTPUT = "distance"


def _distance_nodes(graph, features: str, centroids: np.ndarray) -> None:
    """A second output: each photo's cosine distance to the nearest class
    centroid (0: like the examples; 1 and more: unlike them), computed from the
    same features the head reads, so "none of these" costs no second pass."""
    import onnx
    from onnx import helper, numpy_helper

    unit = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
    graph.initializer.extend(
        [
            numpy_helper.from_array(unit.T.astype(np.float32), "novelty_centroids"),
            numpy_helper.from_array(np.array(1.0, dtype=np.float32), "novelty_one"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("LpNormalization", [features], ["novelty_unit"], axis=1, p=2),
            helper.make_node("MatMul", ["novelty_unit", "novelty_centroids"], ["novelty_sims"]),
            helper.make_node("ReduceMax", ["novelty_sims"], ["novelty_best"], axes=[1], keepdims=0),
            helper.make_node("Sub", ["novelty_one", "novelty_best"], [DISTANCE_OUTPUT]),
        ]
    )
    graph.output.append(
        helper.make_tensor_value_info(DISTANCE_OUTPUT, onnx.TensorProto.FLOAT, [None])
    )


def classifier_onnx(
    onnx_bytes: bytes, kernel: np.ndarray, bias: np.ndarray, centroids: np.ndarray | None = None
) -> bytes:
    """The backbone with the trained head in place of its last dense layer, and a
    softmax: the first output is probabilities over the user's classes. With
    ``centroids`` (one feature vector per class), a second output ``distance``
    tells how unlike the examples each photo is."""
    import onnx
    from onnx import helper

    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    tail = _last_dense(graph)
    _replace_initializer(graph, tail.matmul.input[1], kernel.astype(np.float32))
    if tail.bias_add is not None:
        bias_name = next(i for i in tail.bias_add.input if i != tail.matmul.output[0])
        _replace_initializer(graph, bias_name, bias.astype(np.float32))
        logits = tail.bias_add.output[0]
    else:
        raise ValueError("the backbone's last dense layer has no bias")
    output_name = graph.output[0].name
    # Rename the logits tensor and add Softmax producing the old output name.
    renamed = logits + "_logits"
    for node in graph.node:
        node.output[:] = [renamed if o == logits else o for o in node.output]
        node.input[:] = [renamed if i == logits else i for i in node.input]
    graph.node.append(helper.make_node("Softmax", [renamed], [output_name], axis=-1))
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info(output_name, onnx.TensorProto.FLOAT, [None, len(bias)])
    )
    if centroids is not None:
        _distance_nodes(graph, tail.features, centroids)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model.SerializeToString()


# Embedding
# ------------------------------------------------------------------------------


class Embedder:
    """Feature vectors (and those of the mirrored image) with ONNX Runtime."""

    def __init__(self, onnx_bytes: bytes, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            feature_model(onnx_bytes), options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) -> (N, 2, width): the image, then its mirror image."""
        both = np.concatenate([batch, batch[:, :, ::-1, :]])
        features = self.session.run(None, {self.input_name: np.ascontiguousarray(both)})[0]
        n = len(batch)
        return np.stack([features[:n], features[n:]], axis=1).astype(np.float32)


# Splitting and training
# ------------------------------------------------------------------------------


def stratified_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): about a fifth of every class, at least one, is
    held out; each class keeps at least one example to learn from."""
    rng = np.random.default_rng(seed)
    train, validation = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        held = min(len(members) - 1, max(1, round(len(members) * VALIDATION_FRACTION)))
        validation += list(members[:held])
        train += list(members[held:])
    return np.array(sorted(train)), np.array(sorted(validation))


@dataclass
class HeadResult:
    kernel: np.ndarray
    bias: np.ndarray
    epochs: int
    history: dict = field(default_factory=dict)


def train_head(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    num_classes: int,
    max_epochs: int,
    seed: int = 0,
    patience: int = 20,
    batch_size: int = 32,
    on_epoch=lambda epoch, logs: None,
) -> HeadResult:
    """A dense softmax layer on the features, trained with Keras layers and a
    compiled TensorFlow step (Keras' ``fit`` costs ~0.1 s per epoch here; this
    loop a few milliseconds). Light augmentation: mirrored copies (already in
    ``x_train``), dropout and a little noise on the features. Early stopping on
    the validation loss keeps the best epoch's weights."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    width = x_train.shape[1]
    head = keras.Sequential(
        [
            keras.Input((width,)),
            keras.layers.GaussianNoise(0.1),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(
                num_classes,
                activation="softmax",
                kernel_regularizer=keras.regularizers.L2(1e-4),
                name="classifier",
            ),
        ]
    )
    optimizer = keras.optimizers.Adam(3e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(reduce_retracing=True)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, head(x, training=True)) + tf.add_n(head.losses)
        variables = head.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    @tf.function(reduce_retracing=True)
    def evaluate_step(x, y):
        probabilities = head(x, training=False)
        correct = tf.cast(tf.equal(tf.argmax(probabilities, 1), tf.cast(y, tf.int64)), tf.float32)
        return loss_fn(y, probabilities), tf.reduce_mean(correct)

    rng = np.random.default_rng(seed)
    x_val_t, y_val_t = tf.constant(x_val), tf.constant(y_val)
    best_loss, best_weights, best_epoch, epoch = np.inf, None, 0, 0
    history: dict[str, list] = {"loss": [], "val_loss": [], "val_accuracy": []}
    for epoch in range(max_epochs):
        order = rng.permutation(len(x_train))
        losses = [
            float(train_step(x_train[batch], y_train[batch]))
            for batch in np.array_split(order, max(1, len(order) // batch_size))
        ]
        val_loss, val_accuracy = (float(v) for v in evaluate_step(x_val_t, y_val_t))
        history["loss"].append(round(float(np.mean(losses)), 4))
        history["val_loss"].append(round(val_loss, 4))
        history["val_accuracy"].append(round(val_accuracy, 4))
        on_epoch(epoch, {"loss": history["loss"][-1], "val_loss": val_loss})
        if val_loss < best_loss - 1e-4:
            best_loss, best_epoch = val_loss, epoch
            best_weights = [w.copy() for w in head.get_layer("classifier").get_weights()]
        elif epoch - best_epoch >= patience:
            break
    kernel, bias = best_weights
    return HeadResult(kernel=kernel, bias=bias, epochs=epoch + 1, history=history)


def predict(features: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    logits = features @ kernel + bias
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


# Measuring
# ------------------------------------------------------------------------------


def evaluate(probabilities: np.ndarray, truth: np.ndarray, num_classes: int) -> dict:
    """Accuracy, per-class precision/recall/F1, the confusion matrix (rows: true
    class, columns: predicted), the effect of a confidence threshold, and
    calibration (``core.scores``)."""
    return classification_scores(probabilities, truth, num_classes)


# Exporting
# ------------------------------------------------------------------------------


def classifier_keras(keras_bytes: bytes, kernel: np.ndarray, bias: np.ndarray) -> bytes:
    """The backbone's Keras model with a softmax head in place of its last layer."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    with tempfile.TemporaryDirectory(prefix="classifier-") as workdir:
        source = Path(workdir) / "backbone.keras"
        source.write_bytes(keras_bytes)
        backbone = keras.models.load_model(source, compile=False, safe_mode=True)
        last = backbone.layers[-1]
        if not isinstance(last, keras.layers.Dense):
            raise ValueError("the backbone does not end in a dense layer")
        head = keras.layers.Dense(len(bias), activation="softmax", name="classifier")
        outputs = head(last.input)
        model = keras.Model(backbone.inputs, outputs, name="classifier")
        head.set_weights([kernel, bias])
        target = Path(workdir) / "classifier.keras"
        model.save(target)
        return target.read_bytes()


def max_difference(
    onnx_bytes: bytes, batch: np.ndarray, expected: np.ndarray, distances: np.ndarray | None = None
) -> float:
    """How far the exported ONNX model's answers (and distances) are from the
    head's own."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: batch})
    difference = float(np.max(np.abs(outputs[0] - expected)))
    if distances is not None:
        got = outputs[1] if len(outputs) > 1 else np.full_like(distances, np.inf)
        difference = max(difference, float(np.max(np.abs(got - distances))))
    return difference


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = time.monotonic()

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._start, 2)
        self._start = now


def to_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array.astype(np.float32), allow_pickle=False)
    return buffer.getvalue()


def from_bytes(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
