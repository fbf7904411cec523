"""EfficientNet-Lite built in Keras from a PyTorch state dict.

``describe`` reads the architecture off the tensor shapes (pure numpy), so the
same code serves Lite0, Lite1 and Lite2; ``build_keras`` makes the Keras model
and copies the weights in. TensorFlow is imported only inside ``build_keras``.
"""

from dataclasses import dataclass

import numpy as np

BN_EPSILON = 1e-3
# The first block of stages 2, 3, 4 and 6 (1-based) has stride 2.
STRIDE_TWO_STAGES = {2, 3, 4, 6}


@dataclass(frozen=True)
class BlockSpec:
    index: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    expanded_channels: int

    @property
    def has_expansion(self) -> bool:
        return self.expanded_channels != self.in_channels

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


@dataclass(frozen=True)
class NetworkSpec:
    stem_channels: int
    head_channels: int
    num_classes: int
    blocks: tuple[BlockSpec, ...]


def describe(state: dict[str, np.ndarray]) -> NetworkSpec:
    """The network's shape, read from the weights."""
    try:
        stem = state["_conv_stem.weight"]
        head = state["_conv_head.weight"]
        fc = state["_fc.weight"]
    except KeyError as error:
        raise ValueError(f"not an EfficientNet-Lite state dict: missing {error}") from None

    count = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("_blocks."))
    blocks = []
    stage = 0
    for i in range(count):
        prefix = f"_blocks.{i}."
        depthwise = state[prefix + "_depthwise_conv.weight"]  # (C, 1, k, k)
        project = state[prefix + "_project_conv.weight"]  # (out, C, 1, 1)
        expand = state.get(prefix + "_expand_conv.weight")  # (C, in, 1, 1)
        expanded = depthwise.shape[0]
        in_channels = expand.shape[1] if expand is not None else expanded
        out_channels = project.shape[0]
        # Within a stage input == output; a change of width starts a new stage.
        first_of_stage = in_channels != out_channels
        if first_of_stage:
            stage += 1
        stride = 2 if first_of_stage and stage in STRIDE_TWO_STAGES else 1
        blocks.append(
            BlockSpec(
                index=i,
                kernel=depthwise.shape[2],
                stride=stride,
                in_channels=in_channels,
                out_channels=out_channels,
                expanded_channels=expanded,
            )
        )
    if stage != 7:
        raise ValueError(f"expected 7 stages, found {stage}")
    return NetworkSpec(
        stem_channels=stem.shape[0],
        head_channels=head.shape[0],
        num_classes=fc.shape[0],
        blocks=tuple(blocks),
    )


def _conv(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0))  # (out, in, kh, kw) -> (kh, kw, in, out)


def _depthwise(w: np.ndarray) -> np.ndarray:
    return np.transpose(w, (2, 3, 0, 1))  # (C, 1, kh, kw) -> (kh, kw, C, 1)


def _bn(state: dict, prefix: str) -> list[np.ndarray]:
    return [state[f"{prefix}.{n}"] for n in ("weight", "bias", "running_mean", "running_var")]


def build_keras(state: dict[str, np.ndarray], *, input_size: int, name: str = "efficientnet_lite"):
    """The Keras model (NHWC float input, already normalised; logits out)."""
    import keras
    from keras import layers

    spec = describe(state)
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Conv2D(
        spec.stem_channels, 3, strides=2, padding="same", use_bias=False, name="stem_conv"
    )(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="stem_bn")(x)
    x = layers.ReLU(max_value=6.0, name="stem_relu")(x)

    for block in spec.blocks:
        p = f"block{block.index}_"
        shortcut = x
        if block.has_expansion:
            x = layers.Conv2D(
                block.expanded_channels, 1, padding="same", use_bias=False, name=p + "expand_conv"
            )(x)
            x = layers.BatchNormalization(epsilon=BN_EPSILON, name=p + "expand_bn")(x)
            x = layers.ReLU(max_value=6.0, name=p + "expand_relu")(x)
        x = layers.DepthwiseConv2D(
            block.kernel,
            strides=block.stride,
            padding="same",
            use_bias=False,
            name=p + "dwconv",
        )(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=p + "dw_bn")(x)
        x = layers.ReLU(max_value=6.0, name=p + "dw_relu")(x)
        x = layers.Conv2D(
            block.out_channels, 1, padding="same", use_bias=False, name=p + "project_conv"
        )(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=p + "project_bn")(x)
        if block.has_skip:
            x = layers.Add(name=p + "add")([shortcut, x])

    x = layers.Conv2D(spec.head_channels, 1, padding="same", use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="head_bn")(x)
    x = layers.ReLU(max_value=6.0, name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    outputs = layers.Dense(spec.num_classes, name="logits")(x)
    model = keras.Model(inputs, outputs, name=name)

    model.get_layer("stem_conv").set_weights([_conv(state["_conv_stem.weight"])])
    model.get_layer("stem_bn").set_weights(_bn(state, "_bn0"))
    for block in spec.blocks:
        p, s = f"block{block.index}_", f"_blocks.{block.index}."
        if block.has_expansion:
            model.get_layer(p + "expand_conv").set_weights(
                [_conv(state[s + "_expand_conv.weight"])]
            )
            model.get_layer(p + "expand_bn").set_weights(_bn(state, s + "_bn0"))
        model.get_layer(p + "dwconv").set_weights([_depthwise(state[s + "_depthwise_conv.weight"])])
        model.get_layer(p + "dw_bn").set_weights(_bn(state, s + "_bn1"))
        model.get_layer(p + "project_conv").set_weights([_conv(state[s + "_project_conv.weight"])])
        model.get_layer(p + "project_bn").set_weights(_bn(state, s + "_bn2"))
    model.get_layer("head_conv").set_weights([_conv(state["_conv_head.weight"])])
    model.get_layer("head_bn").set_weights(_bn(state, "_bn1"))
    model.get_layer("logits").set_weights([state["_fc.weight"].T, state["_fc.bias"]])
    return model
