"""Small real .keras files for validation tests, and helpers that edit their
configs into hostile ones."""

import copy
import io
import json
import zipfile
from pathlib import Path

import pytest

from models_registry.keras_scan import scan_config
from models_registry.sandbox_child import Refused


def tiny_model(path: Path, *, classes: int = 3, size: int = 32, extra_layer=None) -> Path:
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    if extra_layer is not None:
        x = extra_layer(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes)(x)
    model = keras.Model(inputs, outputs)
    model.save(path)
    return path


def nested_model(path: Path, *, classes: int = 3, size: int = 32) -> Path:
    """A Functional model whose middle is a Sequential block: layers inside layers."""
    import keras
    from keras import layers

    block = keras.Sequential(
        [keras.Input((size, size, 4)), layers.Conv2D(4, 3, padding="same"), layers.ReLU()],
        name="block",
    )
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = block(x)
    outputs = layers.Dense(classes)(layers.GlobalAveragePooling2D()(x))
    keras.Model(inputs, outputs).save(path)
    return path


def kitchen_sink_model(path: Path, *, classes: int = 3, size: int = 32) -> Path:
    """Many allowlisted layers, initializers, regularizers and constraints, saved
    the ordinary way and compiled: the scan must accept every one of them."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = layers.RandomFlip("horizontal")(x)
    x = layers.RandomRotation(0.1)(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Conv2D(
        8,
        3,
        kernel_initializer="he_normal",
        kernel_regularizer="l2",
        kernel_constraint=keras.constraints.MaxNorm(3),
        activation="relu6",
    )(x)
    x = layers.BatchNormalization()(x)
    y = layers.DepthwiseConv2D(3, padding="same", depthwise_initializer="glorot_uniform")(x)
    y = layers.PReLU()(y)
    z = layers.SeparableConv2D(8, 3, padding="same", activation="swish")(x)
    x = layers.Add()([y, z])
    x = layers.Concatenate()([x, layers.MaxPooling2D(1)(x)])
    x = layers.LayerNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(16, activation="gelu", bias_initializer=keras.initializers.Constant(0.1))(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(path)
    return path


def read_config(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def rewrite(source: Path, target: Path, *, config=None, extra: dict | None = None) -> Path:
    """Copies a .keras archive, replacing config.json and adding members."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json" and config is not None:
                data = json.dumps(config(json.loads(data))).encode()
            dst.writestr(item, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return target


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def find_object(config, class_name):
    """The first object dict with this class_name, anywhere in the config."""
    stack = [config]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if item.get("class_name") == class_name:
                return item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise LookupError(class_name)


def edited(config, target="Conv2D", *, config_changes=None, **changes):
    """A copy of ``config`` with the first ``target`` object changed."""
    config = copy.deepcopy(config)
    layer = find_object(config, target)
    layer.update(changes)
    layer["config"].update(config_changes or {})
    return config


def refusal(config) -> str:
    """The scan's refusal of ``config``, in English."""
    with pytest.raises(Refused) as caught:
        scan_config(config)
    return str(caught.value)
