"""Small real .keras files for validation tests, hostile ones included."""

import io
import json
import zipfile
from pathlib import Path


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
