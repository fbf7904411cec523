"""The static scan, continued: references Keras resolves by category (the way
initializers.get() and friends look names up), by string, by function name;
array data; the archive itself."""

import copy
import json
import zipfile

import pytest

from models_registry.keras_scan import read_config, scan_config
from models_registry.sandbox_child import Refused
from tests.models_registry import keras_files
from tests.models_registry.keras_files import edited, find_object, refusal, tiny_model

NOT_ALLOWED = "which is not an allowed built-in Keras object"
UNKNOWN = "which is not a built-in Keras object"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("scan") / "tiny.keras")


@pytest.fixture(scope="module")
def tiny_config(tiny):
    return keras_files.read_config(tiny)


def test_initializer_dicts_resolve_by_name_as_initializers_get_does(tiny_config):
    """initializers.get() ignores the module: this is an STFT initializer to Keras."""
    import keras

    stft = {"module": "evil", "class_name": "STFT", "config": {}, "registered_name": None}
    assert type(keras.initializers.get(copy.deepcopy(stft))).__name__ == "STFT"
    message = refusal(edited(tiny_config, config_changes={"kernel_initializer": stft}))
    assert "keras.initializers.STFT" in message
    # ...and a harmless one spelled the same way is what Keras builds, so it passes.
    glorot = {**stft, "class_name": "GlorotUniform"}
    scan_config(edited(tiny_config, config_changes={"kernel_initializer": glorot}))


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("activation", "no_such_activation", UNKNOWN),
        ("activation", "sparsemax", NOT_ALLOWED),
        ("kernel_initializer", "stft", "keras.initializers.STFT"),
        ("kernel_regularizer", "regularizer", NOT_ALLOWED),
        ("bias_constraint", "no_such_constraint", UNKNOWN),
    ],
)
def test_string_references_are_resolved_too(tiny_config, key, value, fragment):
    assert fragment in refusal(edited(tiny_config, config_changes={key: value}))


@pytest.mark.parametrize(
    "activation",
    [
        {
            "module": "keras.ops",
            "class_name": "function",
            "config": "exp",
            "registered_name": "exp",
        },
        {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": None},
        {"module": "os", "class_name": "function", "config": "system", "registered_name": None},
    ],
)
def test_function_references_must_resolve_to_an_allowed_function(tiny_config, activation):
    message = refusal(edited(tiny_config, config_changes={"activation": activation}))
    assert NOT_ALLOWED in message or UNKNOWN in message


def test_an_allowed_function_reference_passes(tiny_config):
    relu = {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": None,
    }
    scan_config(edited(tiny_config, config_changes={"activation": relu}))


def test_arrays_must_be_numeric(tiny_config):
    array = {"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}}
    assert NOT_ALLOWED in refusal(edited(tiny_config, config_changes={"extra": array}))
    array["config"]["dtype"] = "float32"
    scan_config(edited(tiny_config, config_changes={"extra": array}))


def test_deeply_nested_configs_are_refused(tiny_config):
    config = copy.deepcopy(tiny_config)
    deep = []
    for _ in range(300):
        deep = [deep]
    find_object(config, "Conv2D")["config"]["padding"] = deep
    assert "nested too deeply" in refusal(config)


def test_config_json_must_be_there_once_and_be_json(tiny, tmp_path):
    twice = tmp_path / "twice.keras"
    with zipfile.ZipFile(tiny) as src, zipfile.ZipFile(twice, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        with pytest.warns(UserWarning):
            dst.writestr("config.json", json.dumps({"class_name": "Sequential"}))
    with pytest.raises(Refused, match=r"exactly one config\.json"):
        read_config(twice)
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(tiny) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, b"{oops" if item.filename == "config.json" else src.read(item))
    with pytest.raises(Refused, match="not valid JSON"):
        read_config(broken)


def test_a_file_that_is_not_a_model_is_refused(tiny_config):
    dense = copy.deepcopy(find_object(tiny_config, "Dense"))
    assert "does not hold a Keras model" in refusal(dense)
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [1], "dtype": "float32"}}
    assert "does not hold a Keras model" in refusal(tensor)
