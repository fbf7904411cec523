"""What an uploaded model file must declare before it is stored: its format
(from the name) and, for ONNX models, how photos become its input.

A ``.keras`` model takes the pretrained models' convention (NHWC, (x - 127) /
128, resize to size / 0.875 and centre crop). An ``.onnx`` model, usually
exported from PyTorch, says what it expects: the layout (``nchw`` by default,
as PyTorch exports), the per-channel mean and standard deviation in pixel
units (0-255; default torchvision's ImageNet values, 255 x [0.485, 0.456,
0.406] and 255 x [0.229, 0.224, 0.225]), optionally the input size (when the
file leaves it free) and the size the shorter side is resized to before the
centre crop. The inference engine applies exactly this.
"""

from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

KERAS_PREPROCESSING = {
    "crop_fraction": 0.875,
    "mean": [127.0, 127.0, 127.0],
    "std": [128.0, 128.0, 128.0],
    "layout": "nhwc",
    "output": "logits",
}
ONNX_PREPROCESSING = {
    "crop_fraction": 0.875,
    "mean": [123.675, 116.28, 103.53],
    "std": [58.395, 57.12, 57.375],
    "layout": "nchw",
    "output": "logits",
}
LAYOUTS = ("nchw", "nhwc")


def model_format_of(filename: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".onnx"):
        return "onnx"
    raise ApplicationError(
        _("Upload a .keras file (Keras 3) or an .onnx file (ONNX, e.g. exported from PyTorch)."),
        code="not_a_model",
    )


def _three_numbers(value, *, what: str, positive: bool) -> list[float]:
    try:
        numbers = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) != 3 or not all(0 <= n <= 255 for n in numbers):
        raise ApplicationError(
            _("Give the %(what)s as three numbers between 0 and 255 (red, green, blue).")
            % {"what": what},
            code="bad_preprocessing",
        )
    if positive and not all(n > 0 for n in numbers):
        raise ApplicationError(
            _("The standard deviations must be above 0."), code="bad_preprocessing"
        )
    return numbers


def _size(value, *, what: str) -> int | None:
    if value in (None, "", 0):
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if not 32 <= size <= 2048:
        raise ApplicationError(
            _("The %(what)s must be a whole number of pixels from 32 to 2048.") % {"what": what},
            code="bad_preprocessing",
        )
    return size


def preprocessing_declared(*, model_format: str, declared: dict | None) -> dict:
    """The preprocessing stored with a new version: the format's defaults with
    what the uploader declared, checked. Keras models take the convention."""
    declared = {key: value for key, value in (declared or {}).items() if value not in (None, "")}
    if model_format == "keras":
        return dict(KERAS_PREPROCESSING)
    spec = dict(ONNX_PREPROCESSING)
    layout = str(declared.get("layout", spec["layout"])).lower()
    if layout not in LAYOUTS:
        raise ApplicationError(_("The layout must be NCHW or NHWC."), code="bad_preprocessing")
    spec["layout"] = layout
    if "mean" in declared:
        spec["mean"] = _three_numbers(declared["mean"], what=_("means"), positive=False)
    if "std" in declared:
        spec["std"] = _three_numbers(declared["std"], what=_("standard deviations"), positive=True)
    if (size := _size(declared.get("size"), what=_("input size"))) is not None:
        spec["size"] = size
    if (resize := _size(declared.get("resize"), what=_("resize size"))) is not None:
        spec["resize"] = resize
        spec.pop("crop_fraction")
    return spec
