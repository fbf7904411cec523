"""A trained version as files to download: Keras, ONNX, and the labels with the
preprocessing both expect (and how "none of these" and calibration were set)."""

import io
import json
import zipfile

from django.http import HttpResponse
from django.utils.text import slugify

EXPORT_KINDS = {"keras", "onnx", "labels", "zip"}


def export_files(run) -> dict[str, bytes]:
    """The trained model as files: Keras, ONNX, and the labels with the
    preprocessing both expect."""
    version = run.model_version
    labels = [
        {"index": label.index, "key": label.key, "name": label.name}
        for label in version.label_set.labels.order_by("index")
    ]
    spec = {
        "classifier": run.classifier.name,
        "version": run.number,
        "labels": labels,
        "input_size": version.input_size,
        "preprocessing": version.preprocessing,
        "input": "float32 (batch, size, size, 3) RGB, (pixel - mean) / std",
        "output": "probabilities, one per label, in label order",
        "confidence_threshold": version.confidence_threshold,
        # The ONNX file's second output: cosine distance to the nearest class's examples.
        "distance_output": "distance",
        "distance_threshold": version.distance_threshold,
        "temperature": run.metrics.get("temperature", {}).get("temperature"),
    }
    with version.file.open("rb") as handle:
        keras_bytes = handle.read()
    with version.onnx_file.open("rb") as handle:
        onnx_bytes = handle.read()
    return {
        "model.keras": keras_bytes,
        "model.onnx": onnx_bytes,
        "labels.json": json.dumps(spec, ensure_ascii=False, indent=1).encode(),
    }


def export_response(run, kind: str) -> HttpResponse:
    base = slugify(run.classifier.name) or "classifier"
    stem = f"{base}-v{run.number}"
    files = export_files(run)
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(f"{stem}/{name}", data)
        body, filename, content_type = buffer.getvalue(), f"{stem}.zip", "application/zip"
    else:
        name = {"keras": "model.keras", "onnx": "model.onnx", "labels": "labels.json"}[kind]
        body, filename = files[name], f"{stem}-{name}"
        content_type = "application/json" if kind == "labels" else "application/octet-stream"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
