"""Inside the sandbox: validate an uploaded ``.onnx`` model (from PyTorch or
elsewhere) with the same gates as a ``.keras`` one.

The steps, each of which can refuse the file with a readable reason:

1. ``scan``: the file parses as an ONNX model; only the standard operator set
   (no custom domains, no functions), an opset between OPSET_MIN and
   OPSET_MAX, no weights stored in external files (they could name any path),
   and ONNX's own checker;
2. ``shape``: one image input in the declared layout (``nchw`` or ``nhwc``,
   3 channels, square or free spatial size), one output per label;
3. ``smoke``: ONNX Runtime loads it and a prediction on two images is finite;
   a final Softmax makes the output "probabilities", anything else "logits".

Run by ``models_registry.sandbox_child`` (never in a web or worker process):
file paths in, the validated copy and a small JSON result out.
"""

import time
from pathlib import Path

from models_registry.sandbox_child import Refused, gettext_noop

ENTRY = "models_registry.onnx_checks:validate_onnx"
OPSET_MIN, OPSET_MAX = 11, 21
STANDARD_DOMAINS = {"", "ai.onnx"}


def validate_onnx(args: dict, progress) -> dict:
    """``args``: ``model`` (the uploaded file), ``onnx`` (where the validated
    copy goes), ``num_labels``, ``layout`` and ``size`` (declared)."""
    started = time.monotonic()
    progress("scan")
    data = Path(args["model"]).read_bytes()
    model = _parse(data)
    _scan(model)

    progress("shape")
    layout, size = str(args.get("layout") or "nchw"), int(args.get("size") or 0)
    input_name, size = _check_shapes(model, int(args["num_labels"]), layout, size)

    progress("smoke")
    output = _smoke(data, input_name, layout, size)
    Path(args["onnx"]).write_bytes(data)
    return {
        "input_size": size,
        "output": output,
        "metrics": {
            "onnx_bytes": len(data),
            "opset": _opset(model),
            "validation_seconds": round(time.monotonic() - started, 2),
        },
    }


def _parse(data: bytes):
    import onnx

    try:
        return onnx.load_model_from_string(data)
    except Exception as error:
        raise Refused(gettext_noop("The file is not an ONNX model.")) from error


def _opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in STANDARD_DOMAINS:
            return int(entry.version)
    return 0


def _scan(model) -> None:
    import onnx

    for entry in model.opset_import:
        if entry.domain not in STANDARD_DOMAINS:
            raise Refused(
                gettext_noop("The model uses the custom operator domain “%(domain)s”."),
                domain=entry.domain[:100],
            )
    opset = _opset(model)
    if not OPSET_MIN <= opset <= OPSET_MAX:
        raise Refused(
            gettext_noop("The model's opset is %(opset)d; %(low)d to %(high)d are accepted."),
            opset=opset,
            low=OPSET_MIN,
            high=OPSET_MAX,
        )
    if len(model.functions):
        raise Refused(gettext_noop("The model defines functions of its own."))
    for node in _nodes(model.graph):
        if node.domain not in STANDARD_DOMAINS:
            raise Refused(
                gettext_noop("The model uses the custom operator “%(op)s”."),
                op=f"{node.domain}.{node.op_type}"[:100],
            )
    for tensor in _initializers(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise Refused(gettext_noop("The model keeps weights in other files; send one file."))
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:
        raise Refused(
            gettext_noop("ONNX's checker refuses the model: %(error)s"), error=str(error)[:300]
        ) from error


def _nodes(graph):
    """Every node, those of subgraphs (If, Loop, Scan) included."""
    import onnx

    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _nodes(attribute.g)
            for subgraph in attribute.graphs:
                yield from _nodes(subgraph)


def _initializers(graph):
    import onnx

    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                yield attribute.t
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _initializers(attribute.g)


def _dims(value) -> list:
    """A value's shape: ints, or None where the dimension is free."""
    shape = value.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]


def _check_shapes(model, num_labels: int, layout: str, declared: int) -> tuple[str, int]:
    import onnx

    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise Refused(gettext_noop("The model must have exactly one input and one output."))
    (image,) = inputs
    if image.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise Refused(gettext_noop("The model's input must be float32."))
    dims = _dims(image)
    if layout not in ("nchw", "nhwc") or len(dims) != 4:
        raise Refused(
            gettext_noop("The input must be a batch of images (4 dimensions); it is %(shape)s."),
            shape=str(dims),
        )
    if layout == "nchw":
        channels, height, width = dims[1], dims[2], dims[3]
    else:
        height, width, channels = dims[1], dims[2], dims[3]
    if channels != 3:
        raise Refused(
            gettext_noop(
                "In the declared layout (%(layout)s) the input has %(channels)s channels, not 3."
            ),
            layout=layout.upper(),
            channels=str(channels),
        )
    if height != width or (height is None and not declared):
        raise Refused(
            gettext_noop("The input must be square images of a fixed size, or declare the size.")
        )
    size = height or declared
    if declared and height and declared != height:
        raise Refused(
            gettext_noop("The model takes %(size)d pixels, not the declared %(declared)d."),
            size=height,
            declared=declared,
        )
    if not 32 <= size <= 1024:
        raise Refused(gettext_noop("The input size must be between 32 and 1024 pixels."))
    out = _dims(model.graph.output[0])
    if len(out) != 2 or out[1] != num_labels:
        raise Refused(
            gettext_noop(
                "The model has %(outputs)s outputs but the label set has %(labels)d labels."
            ),
            outputs=str(out[1:] if len(out) != 2 else out[1]),
            labels=num_labels,
        )
    return image.name, size


def _smoke(data: bytes, input_name: str, layout: str, size: int) -> str:
    import numpy as np
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        shape = (2, 3, size, size) if layout == "nchw" else (2, size, size, 3)
        probe = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        (answer,) = session.run(None, {input_name: probe})
    except Exception as error:
        raise Refused(
            gettext_noop("ONNX Runtime could not run the model: %(error)s"), error=str(error)[:300]
        ) from error
    if not np.all(np.isfinite(answer)):
        raise Refused(gettext_noop("The model's smoke prediction gave NaN or infinite values."))
    import onnx

    graph = onnx.load_model_from_string(data).graph
    produced = {node.output[0]: node.op_type for node in graph.node if node.output}
    return "probabilities" if produced.get(graph.output[0].name) == "Softmax" else "logits"
