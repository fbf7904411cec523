"""What an uploaded .keras file may contain: an explicit allowlist of built-in
Keras classes and functions, by canonical Keras API name (or ``module.attribute``
for a class Keras does not export). ``keras_scan`` resolves every reference in a
config to an object and accepts it only if it is one of these.

Widening the list is a security decision: a layer that reads files
(``IntegerLookup``, ``StringLookup``, ``TextVectorization``), loads other
models (``TFSMLayer``), runs code (``Lambda``) or wraps arbitrary layers stays
off it.
"""

import sys

# Canonical Keras API names (or module.attribute for unexported classes).
ALLOWED_MODELS = (
    "keras.Model",
    "keras.Sequential",
    "keras.src.models.functional.Functional",
)
ALLOWED_LAYERS = tuple(
    f"keras.layers.{name}"
    for name in (
        "InputLayer",
        # convolution and pooling
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "SeparableConv1D",
        "SeparableConv2D",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "Conv2DTranspose",
        "MaxPooling1D",
        "MaxPooling2D",
        "AveragePooling1D",
        "AveragePooling2D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "ZeroPadding2D",
        "Cropping2D",
        "UpSampling2D",
        # core and normalisation
        "Dense",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "Flatten",
        "Reshape",
        "Permute",
        "RepeatVector",
        "Identity",
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
        "Rescaling",
        "Normalization",
        "Resizing",
        "CenterCrop",
        # training-time augmentation (inactive at inference)
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
        "RandomBrightness",
        "RandomCrop",
    )
)
ALLOWED_PARTS = (
    "keras.DTypePolicy",
    *(
        f"keras.initializers.{name}"
        for name in (
            "Constant",
            "GlorotNormal",
            "GlorotUniform",
            "HeNormal",
            "HeUniform",
            "Identity",
            "LecunNormal",
            "LecunUniform",
            "Ones",
            "Orthogonal",
            "RandomNormal",
            "RandomUniform",
            "TruncatedNormal",
            "VarianceScaling",
            "Zeros",
        )
    ),
    *(f"keras.regularizers.{name}" for name in ("L1", "L1L2", "L2", "OrthogonalRegularizer")),
    *(f"keras.constraints.{name}" for name in ("MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm")),
    *(
        f"keras.activations.{name}"
        for name in (
            "celu",
            "elu",
            "exponential",
            "gelu",
            "hard_sigmoid",
            "hard_silu",
            "leaky_relu",
            "linear",
            "log_sigmoid",
            "log_softmax",
            "mish",
            "relu",
            "relu6",
            "selu",
            "sigmoid",
            "silu",
            "softmax",
            "softplus",
            "softsign",
            "tanh",
        )
    ),
)
ALLOWED = (*ALLOWED_MODELS, *ALLOWED_LAYERS, *ALLOWED_PARTS)


def allowed_objects() -> dict:
    """{object: allowlisted name}; a name that no longer resolves is a bug."""
    from keras.src import api_export

    found = {}
    for name in ALLOWED:
        obj = api_export.get_symbol_from_name(name)
        if obj is None:
            module, _dot, attr = name.rpartition(".")
            obj = vars(sys.modules[module]).get(attr) if module in sys.modules else None
        if obj is None:
            raise RuntimeError(f"allowlisted Keras object {name} does not exist")
        found[obj] = name
    return found
