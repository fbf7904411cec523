"""The static scan of .keras configs: every spelling of an object is resolved
the way Keras' own deserializer resolves it, and only allowlisted built-ins pass.

Hostile configs are edits of real saved models; where it matters, the test
shows that Keras itself would build the refused object from the same config."""

import copy
import sys

import pytest

from models_registry import keras_allowlist, keras_scan
from models_registry.keras_scan import read_config, scan_config
from tests.models_registry import keras_files
from tests.models_registry.keras_files import (
    edited,
    find_object,
    kitchen_sink_model,
    nested_model,
    refusal,
    rewrite,
    tiny_model,
)

NOT_ALLOWED = "which is not an allowed built-in Keras object"
UNKNOWN = "which is not a built-in Keras object"
CODE = "serialised Python code"
CUSTOM = "custom object"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("scan")


@pytest.fixture(scope="module")
def tiny(model_dir):
    return tiny_model(model_dir / "tiny.keras")


@pytest.fixture(scope="module")
def tiny_config(tiny):
    return keras_files.read_config(tiny)


@pytest.fixture(scope="module")
def nested_config(model_dir):
    return keras_files.read_config(nested_model(model_dir / "nested.keras"))


@pytest.fixture
def registered():
    """A custom layer, initializer and activation registered in this process, as
    a plugin imported by the worker would register them; removed afterwards."""
    import keras
    from keras.src.saving import object_registration

    @keras.saving.register_keras_serializable(package="picsort_test")
    class Sneaky(keras.layers.Layer):
        pass

    @keras.saving.register_keras_serializable(package="picsort_test")
    class SneakyInit(keras.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return keras.ops.zeros(shape, dtype)

    @keras.saving.register_keras_serializable(package="picsort_test")
    def sneaky_act(x):
        return x

    yield Sneaky
    for name in ("picsort_test>Sneaky", "picsort_test>SneakyInit", "picsort_test>sneaky_act"):
        cls = object_registration.GLOBAL_CUSTOM_OBJECTS.pop(name)
        object_registration.GLOBAL_CUSTOM_NAMES.pop(cls)


# -- what is accepted -------------------------------------------------------------


def test_models_saved_the_ordinary_way_pass(tiny_config, nested_config, model_dir):
    scan_config(tiny_config)
    scan_config(nested_config)
    # compiled: the top-level compile_config (optimizer, loss, metrics) is what
    # load_model(compile=False) drops, so the scan skips it too
    scan_config(keras_files.read_config(kitchen_sink_model(model_dir / "sink.keras")))


def test_the_pretrained_model_passes(pretrained_artifacts, tmp_path):
    path = tmp_path / "pretrained.keras"
    path.write_bytes(pretrained_artifacts[0])
    scan_config(read_config(path))


def test_every_allowlisted_name_is_a_real_keras_object():
    assert len(keras_allowlist.allowed_objects()) == len(keras_allowlist.ALLOWED)


@pytest.mark.parametrize(
    ("module", "class_name"),
    [
        ("keras", "layers.Conv2D"),
        ("keras.src.layers", "Conv2D"),
        ("keras.src.layers.convolutional.conv2d", "Conv2D"),
    ],
)
def test_other_spellings_of_an_allowed_layer_pass_because_keras_builds_the_same(
    tiny_config, module, class_name
):
    import keras

    config = edited(tiny_config, module=module, class_name=class_name)
    scan_config(config)
    layer = copy.deepcopy(find_object(config, class_name))
    assert type(keras.saving.deserialize_keras_object(layer)) is keras.layers.Conv2D


# -- the bypasses from the hardening issue, and variants ----------------------------


@pytest.mark.parametrize(
    ("module", "class_name", "extra", "resolved"),
    [
        ("keras", "layers.ActivityRegularization", {}, "keras.layers.ActivityRegularization"),
        ("keras.layers", "ActivityRegularization", {}, "keras.layers.ActivityRegularization"),
        (
            "keras.src.layers.regularization.activity_regularization",
            "ActivityRegularization",
            {},
            "keras.layers.ActivityRegularization",
        ),
        ("keras", "layers.TFSMLayer", {"filepath": "/srv/saved"}, "keras.layers.TFSMLayer"),
        ("keras.layers", "TFSMLayer", {"filepath": "/srv/saved"}, "keras.layers.TFSMLayer"),
        (
            "keras.src.export.tfsm_layer",
            "TFSMLayer",
            {"filepath": "/srv/saved"},
            "keras.layers.TFSMLayer",
        ),
        ("keras", "layers.IntegerLookup", {"vocabulary": "/etc/passwd"}, "IntegerLookup"),
        ("keras.layers", "StringLookup", {"vocabulary": "/etc/passwd"}, "StringLookup"),
        ("keras", "layers.TextVectorization", {"vocabulary": "/etc/passwd"}, "TextVectorization"),
        ("keras", "layers.TimeDistributed", {}, "keras.layers.TimeDistributed"),
        ("keras", "layers.Bidirectional", {}, "keras.layers.Bidirectional"),
        ("keras.src.ops", "Operation", {}, "Operation"),
    ],
)
def test_disallowed_classes_are_refused_however_spelled(
    tiny_config, module, class_name, extra, resolved
):
    config = edited(
        tiny_config,
        module=module,
        class_name=class_name,
        registered_name=None,
        config_changes=extra,
    )
    message = refusal(config)
    assert resolved in message and NOT_ALLOWED in message
    assert "config.config.layers[1]" in message  # where it is


def test_keras_itself_would_build_the_refused_layer(model_dir, tmp_path):
    """The issue's first bypass: Keras loads it with safe_mode on; the scan refuses it."""
    import keras

    source = tiny_model(model_dir / "dropout.keras", extra_layer=keras.layers.Dropout(0.1))

    def swap(config):
        layer = find_object(config, "Dropout")
        layer.update(module="keras", class_name="layers.ActivityRegularization")
        layer["config"] = {"name": layer["config"]["name"], "l1": 0.0, "l2": 0.0}
        return config

    path = rewrite(source, tmp_path / "sneaky.keras", config=swap)
    model = keras.models.load_model(path, compile=False, safe_mode=True)
    assert any(type(layer).__name__ == "ActivityRegularization" for layer in model.layers)
    message = refusal(read_config(path))
    assert "keras.layers.ActivityRegularization" in message


@pytest.mark.parametrize(
    "class_name",
    [
        "D\u0435nse",  # Cyrillic ie for the e
        "Ｄense",  # full-width D
        "Dense\u200b",  # zero-width space
        "dense",
        "layers.Dense ",
        "src.layers.Dense",
    ],
)
def test_look_alike_names_are_unknown(tiny_config, class_name):
    message = refusal(edited(tiny_config, "Dense", class_name=class_name))
    assert UNKNOWN in message and class_name.strip() in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"module": "evil_package", "registered_name": "evil>Evil"}, UNKNOWN),
        ({"module": "keras_hub.layers"}, UNKNOWN),  # would be imported: never is
        ({"module": "keras.src.never_imported"}, UNKNOWN),
        ({"module": None}, UNKNOWN),
        ({"registered_name": "keras.layers.Conv2D"}, UNKNOWN),  # Keras refuses: no guess
        ({"registered_name": "evil>Conv2D"}, UNKNOWN),
        ({"module": "keras", "class_name": "saving.load_model"}, UNKNOWN),
        ({"module": "keras", "class_name": "utils.get_file"}, UNKNOWN),
        ({"module": "keras", "class_name": "ops.Operation"}, UNKNOWN),
        ({"class_name": ["Conv2D"]}, "malformed"),
        ({"registered_name": 7}, "malformed"),
    ],
)
def test_unresolvable_or_malformed_references_are_refused(tiny_config, changes, fragment):
    message = refusal(edited(tiny_config, **changes))
    assert fragment in message
    assert "keras_hub" not in sys.modules and "keras.src.never_imported" not in sys.modules


def test_a_registered_custom_object_is_refused_whatever_class_name_says(tiny_config, registered):
    import keras

    config = edited(tiny_config, module="keras.layers", registered_name="picsort_test>Sneaky")
    # Keras looks registered names up first, so this "Conv2D" would be a Sneaky.
    layer = copy.deepcopy(find_object(config, "Conv2D"))
    layer["config"] = {"name": "sneaky"}
    assert type(keras.saving.deserialize_keras_object(layer)) is registered
    assert CUSTOM in refusal(config) and "picsort_test>Sneaky" in refusal(config)
    # Without a registered_name, Keras looks the class_name up as one.
    bare = edited(tiny_config, class_name="picsort_test>Sneaky")
    del find_object(bare, "picsort_test>Sneaky")["registered_name"]
    assert CUSTOM in refusal(bare)
    initializer = edited(tiny_config, "GlorotUniform", registered_name="picsort_test>SneakyInit")
    assert CUSTOM in refusal(initializer)
    by_string = edited(
        tiny_config, config_changes={"kernel_initializer": "picsort_test>SneakyInit"}
    )
    assert CUSTOM in refusal(by_string)
    # A custom activation, as Keras serialises a registered function.
    act = keras.saving.serialize_keras_object(
        keras.saving.get_registered_object("picsort_test>sneaky_act")
    )
    assert keras.activations.get(copy.deepcopy(act)).__name__ == "sneaky_act"
    assert CUSTOM in refusal(edited(tiny_config, config_changes={"activation": act}))


@pytest.mark.parametrize(
    ("class_name", "module"),
    [
        ("Lambda", "keras.layers"),
        ("Lambda", "keras"),
        ("layers.Lambda", "keras"),
        ("__lambda__", None),
        ("__python_function__", "builtins"),
    ],
)
def test_serialised_code_is_refused(tiny_config, class_name, module):
    message = refusal(edited(tiny_config, class_name=class_name, module=module))
    assert CODE in message


def test_code_hidden_in_an_activation_is_refused(tiny_config):
    lam = {"class_name": "__lambda__", "config": {"value": "ZZZ", "closure": None}}
    assert CODE in refusal(edited(tiny_config, config_changes={"activation": lam}))


# -- nesting -------------------------------------------------------------------------


def test_a_layer_inside_a_nested_model_is_resolved_too(nested_config):
    config = copy.deepcopy(nested_config)
    block = find_object(config, "Sequential")
    inner = find_object(block["config"], "ReLU")
    inner.update(module="keras", class_name="layers.TFSMLayer")
    message = refusal(config)
    assert "keras.layers.TFSMLayer" in message
    assert message.count(".layers[") == 2  # the path goes through both models


def test_a_nested_model_cannot_carry_its_own_training_configuration(nested_config):
    config = copy.deepcopy(nested_config)
    find_object(config, "Sequential")["compile_config"] = {"optimizer": "adam", "loss": "mse"}
    assert "training configuration" in refusal(config)


def test_a_layer_without_module_would_take_the_legacy_loader_and_is_refused(tiny_config):
    config = copy.deepcopy(tiny_config)
    del find_object(config, "Conv2D")["module"]
    assert "has no module" in refusal(config)


def test_resolution_agrees_with_keras(tiny_config):
    """The resolver and Keras' own _retrieve_class_or_fn give the same object
    for every spelling that Keras can resolve without importing a module."""
    from keras.src.saving import serialization_lib

    resolver = keras_scan._Resolver()
    spellings = [
        ("keras.layers", "Dense", None),
        ("keras", "layers.Dense", None),
        ("keras.layers", "Dense", "Dense"),
        ("keras.layers", "Dense", "keras.layers.Dense"),
        ("keras.src.layers", "TFSMLayer", None),
        ("keras.src.export.tfsm_layer", "TFSMLayer", None),
        ("keras", "Functional", "Functional"),
        ("keras.src.models.functional", "Functional", "Functional"),
        ("keras", "Model", None),
        ("keras", "models.Model", None),
        ("keras", "DTypePolicy", None),
        ("keras.initializers", "GlorotUniform", None),
        ("keras", "saving.load_model", None),
        ("evil", "Dense", None),
        ("keras.layers", "D\u0435nse", None),
    ]
    for module, class_name, registered in spellings:
        item = {"module": module, "class_name": class_name, "config": {}}
        item["registered_name"] = registered
        try:
            expected = serialization_lib._retrieve_class_or_fn(
                class_name, registered, module, obj_type="class", full_config=item
            )
        except (TypeError, ValueError):
            expected = None
        assert resolver._general(item, class_name, module, registered) is expected, item
