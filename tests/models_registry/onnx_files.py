"""Small real ONNX models, built with onnx's helpers (as a PyTorch export would
write them: NCHW, standard operators), and hostile variants of them."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def colour_means(
    *,
    size: int | None = 32,
    layout: str = "nchw",
    softmax: bool = False,
    opset: int = 17,
    confuse_green: bool = False,
) -> bytes:
    """Three outputs: the mean of each colour channel of the (normalised) input,
    so a red photo answers class 0, a green one 1, a blue one 2. With
    ``confuse_green`` a green photo answers blue (a worse model, for comparisons)."""
    shape = [None, 3, size, size] if layout == "nchw" else [None, size, size, 3]
    nodes = []
    source = "image"
    if layout == "nhwc":
        nodes.append(helper.make_node("Transpose", ["image"], ["chw"], perm=[0, 3, 1, 2]))
        source = "chw"
    nodes += [
        helper.make_node("GlobalAveragePool", [source], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["means"], axis=1),
    ]
    mixing = np.eye(3, dtype=np.float32)
    if confuse_green:
        mixing[1] = [0, 0.2, 1]  # green's evidence goes mostly to blue
    nodes.append(helper.make_node("MatMul", ["means", "mixing"], ["logits"]))
    output = "logits"
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        output = "probs"
    graph = helper.make_graph(
        nodes,
        "colour-means",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [None, 3])],
        initializer=[numpy_helper.from_array(mixing, "mixing")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def conv_net(*, classes: int = 3, size: int = 32, weights: float | None = None) -> bytes:
    """A convolution, a pooling and a dense layer: a small real network."""
    rng = np.random.default_rng(0)
    conv = rng.normal(0, 0.1, (4, 3, 3, 3)).astype(np.float32)
    dense = rng.normal(0, 0.1, (4, classes)).astype(np.float32)
    if weights is not None:
        dense[:] = weights
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "conv"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("GlobalAveragePool", ["r"], ["p"]),
            helper.make_node("Flatten", ["p"], ["f"], axis=1),
            helper.make_node("MatMul", ["f", "dense"], ["logits"]),
        ],
        "conv-net",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, classes])],
        initializer=[
            numpy_helper.from_array(conv, "conv"),
            numpy_helper.from_array(dense, "dense"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def with_custom_operator() -> bytes:
    model = onnx.load_model_from_string(colour_means())
    model.graph.node[0].domain = "com.example.evil"
    model.graph.node[0].op_type = "RunShell"
    model.opset_import.append(helper.make_opsetid("com.example.evil", 1))
    return model.SerializeToString()


def with_external_weights() -> bytes:
    """Weights said to live in another file (a path the loader would open)."""
    model = onnx.load_model_from_string(conv_net())
    tensor = model.graph.initializer[0]
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    return model.SerializeToString()
