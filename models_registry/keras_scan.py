"""The static scan of a ``.keras`` file's ``config.json``, run before Keras loads it.

Every object reference in the config is resolved the way Keras 3's deserializer
(``keras.src.saving.serialization_lib``) would resolve it -- custom objects
first, then the public API name ``<module>.<name>``, then an attribute of an
already imported Keras module -- whatever mix of ``module``, ``class_name`` and
``registered_name`` spells it. The resolved object must be on the explicit
allowlist of built-in classes and functions (``keras_allowlist``); anything
else is refused with a message that names it. So ``{"module": "keras",
"class_name": "layers.TFSMLayer"}`` is refused as ``keras.layers.TFSMLayer``,
and ``{"module": "keras.src.layers.core.dense", "class_name": "Dense"}`` is
accepted as ``keras.layers.Dense``.

Dictionaries that Keras resolves by name inside a category (initializers,
regularizers, constraints, dtype policies...) are resolved both ways, and every
result must be allowed. Strings that layers resolve (``"activation": "relu"``,
``"kernel_initializer": "glorot_uniform"``...) are checked too. A reference
Keras could only reach by importing a module not yet imported is refused,
never imported. The top-level ``compile_config`` is skipped because the
sandbox loads with ``compile=False``, which makes Keras drop it.

Keras is imported inside the functions only: this module is safe to import
anywhere, and runs for real inside the validation sandbox.
"""

import json
import sys
import types
import zipfile
from pathlib import Path

from models_registry.keras_allowlist import ALLOWED_MODELS, allowed_objects
from models_registry.sandbox_child import Refused, gettext_noop

CONFIG_MAX_BYTES = 20 * 2**20
MAX_DEPTH = 200

# Plain data Keras rebuilds without looking anything up.
DATA_CLASS_NAMES = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
)
ARRAY_DTYPES = frozenset(
    {"bool", "float16", "bfloat16", "float32", "float64"}
    | {f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64)}
)
# Where Keras would import a module it has not imported yet (never done here).
KERAS_PACKAGES = frozenset({"keras", "keras_hub", "keras_cv", "keras_nlp"})
# Config keys whose string values a layer resolves, and the category it looks in.
STRING_KINDS = (
    ("activation", "activations"),
    ("initializer", "initializers"),
    ("regularizer", "regularizers"),
    ("constraint", "constraints"),
)

CODE = gettext_noop("The model contains serialised Python code (“%(name)s” at %(path)s).")
NOT_ALLOWED = gettext_noop(
    "The model uses “%(name)s” at %(path)s, which is not an allowed built-in Keras object."
)
CUSTOM = gettext_noop(
    "The model uses the custom object “%(name)s” at %(path)s; "
    "only built-in Keras objects are allowed."
)
UNKNOWN = gettext_noop(
    "The model refers to “%(name)s” at %(path)s, which is not a built-in Keras object."
)
NO_MODULE = gettext_noop(
    "The object “%(name)s” at %(path)s has no module; only files saved by Keras 3 are accepted."
)
MALFORMED = gettext_noop("The model's config has a malformed entry at %(path)s.")
NESTED_COMPILE = gettext_noop(
    "The model at %(path)s carries its own training configuration, which is not accepted."
)
TOO_DEEP = gettext_noop("The model's config is nested too deeply.")
NOT_A_MODEL = gettext_noop("The file does not hold a Keras model.")


def read_config(path: Path) -> dict:
    """``config.json`` from the archive, the member Keras itself would read."""
    with zipfile.ZipFile(path) as archive:
        names = [item.filename for item in archive.infolist()]
        if names.count("config.json") != 1:
            raise Refused(gettext_noop("The .keras file must hold exactly one config.json."))
        info = archive.getinfo("config.json")
        if info.file_size > CONFIG_MAX_BYTES:
            raise Refused(gettext_noop("The model's config.json is unreasonably large."))
        try:
            config = json.loads(archive.read(info))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise Refused(gettext_noop("The model's config.json is not valid JSON.")) from error
    if not isinstance(config, dict):
        raise Refused(NOT_A_MODEL)
    return config


def scan_config(config: dict) -> None:
    """Raises ``Refused`` unless every reference in the config is allowed."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise Refused(NOT_A_MODEL)
    resolver = _Resolver()
    if resolver.resolve_object(config, "config") not in resolver.models:
        raise Refused(NOT_A_MODEL)
    # load_model(compile=False) replaces the top-level compile_config with None.
    stack = [(f"config.{key}", key, value, 1) for key, value in config.items()]
    stack = [item for item in stack if item[1] != "compile_config"]
    while stack:
        path, key, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refused(TOO_DEEP)
        if isinstance(value, list):
            stack.extend((f"{path}[{n}]", None, item, depth + 1) for n, item in enumerate(value))
        elif isinstance(value, dict):
            if "class_name" in value:
                resolver.resolve_object(value, path)
                if value.get("compile_config"):
                    raise Refused(NESTED_COMPILE, path=path)
            stack.extend((f"{path}.{k}", k, v, depth + 1) for k, v in value.items())
        elif isinstance(value, str) and isinstance(key, str):
            resolver.resolve_string(key, value, path)


class _Resolver:
    """Keras' own lookup tables, read without importing anything new."""

    def __init__(self):
        import keras  # noqa: F401 -- fills Keras' name tables
        from keras.src import (
            activations,
            api_export,
            constraints,
            dtype_policies,
            initializers,
            quantizers,
            regularizers,
        )
        from keras.src.backend.common import global_state
        from keras.src.saving import object_registration, serialization_lib
        from keras.src.saving.keras_saveable import KerasSaveable

        self.api = api_export
        self.lib = serialization_lib
        self.saveable = KerasSaveable
        self.scope = global_state.get_global_attribute("custom_objects_scope_dict", {}) or {}
        self.registered = object_registration.GLOBAL_CUSTOM_OBJECTS
        self.tables = {
            "activations": activations.ALL_OBJECTS_DICT,
            "initializers": initializers.ALL_OBJECTS_DICT,
            "regularizers": regularizers.ALL_OBJECTS_DICT,
            "constraints": constraints.ALL_OBJECTS_DICT,
            "dtype_policies": dtype_policies.ALL_OBJECTS_DICT,
            "quantizers": quantizers.ALL_OBJECTS_DICT,
        }
        self.allowed = allowed_objects()
        self.models = {obj for obj, name in self.allowed.items() if name in ALLOWED_MODELS}

    # -- dictionaries ---------------------------------------------------------
    def resolve_object(self, item: dict, path: str):
        """The object Keras would build from ``item`` (None for plain data)."""
        class_name = item["class_name"]
        module = item.get("module")
        registered = item.get("registered_name", class_name)
        if not all(isinstance(v, str) or v is None for v in (class_name, module, registered)):
            raise Refused(MALFORMED, path=path)
        if class_name in DATA_CLASS_NAMES:
            self._check_data(item, path)
            return None
        if class_name.startswith("__") or "lambda" in class_name.lower():
            raise Refused(CODE, name=_short(class_name), path=path)
        if "module" not in item:  # Functional and Sequential would use the legacy loader
            raise Refused(NO_MODULE, name=_short(class_name), path=path)
        general = self._general(item, class_name, module, registered)
        found = [obj for obj in (general, *self._by_category(item, module)) if obj is not None]
        if not found:
            raise Refused(UNKNOWN, name=_spelling(item), path=path)
        for obj in found:
            self._check_allowed(obj, item, path)
        return general if general is not None else found[0]

    def _general(self, item, class_name, module, registered):
        """deserialize_keras_object() for classes and functions."""
        if class_name == "function":
            name = item.get("config")
            if not isinstance(name, str):
                return None
            return self._retrieve(name, registered, module, "function", item)
        if not isinstance(item.get("config") or {}, dict):
            return None  # Keras refuses a non-dict config
        return self._retrieve(class_name, registered, module, "class", item)

    def _retrieve(self, name, registered, module, obj_type, item):
        """serialization_lib._retrieve_class_or_fn(), with lookups only."""
        custom = self._custom(name if obj_type == "function" else registered)
        if custom is not None:
            return custom
        if not module:
            return None
        if module == "keras" or module.startswith("keras."):
            api_name = f"{module}.{name}"
            if api_name in self.lib.NON_MODELING_APIS:
                return None
            obj = self.api.get_symbol_from_name(api_name)
            if obj is not None:
                return obj if _builtin_registered_name_ok(item, name) else None
        if obj_type == "function" and module == "builtins":
            for category in sorted(self.lib.BUILTIN_MODULES):
                obj = self.api.get_symbol_from_name(f"keras.{category}.{name}")
                if obj is not None:
                    return obj if _builtin_registered_name_ok(item, name) else None
            if ">" not in name:
                for key, obj in {**self.scope, **self.registered}.items():
                    if key.endswith(f">{name}"):
                        return obj
        if module.split(".", 1)[0] in KERAS_PACKAGES:
            loaded = sys.modules.get(module)  # Keras would import it; we never do
            obj = vars(loaded).get(name) if loaded is not None else None
            if isinstance(obj, type) and issubclass(obj, self.saveable):
                return obj
        return None

    def _by_category(self, item, module) -> list:
        """What initializers.get(), regularizers.get()... would make of ``item``:
        they look the name up in their own table and ignore the module."""
        class_name, inner = item["class_name"], item.get("config")
        keys = (class_name, item.get("registered_name"), inner if isinstance(inner, str) else None)
        custom = [self._custom(key) for key in keys if isinstance(key, str)]
        if any(obj is not None for obj in custom):
            return custom
        if class_name == "function":
            key = inner if module == "builtins" else item.get("registered_name")
        elif module is None:
            return []  # Keras refuses a class without a module
        else:
            key = class_name
        if not isinstance(key, str):
            return []
        found = []
        for table in self.tables.values():
            obj = table.get(key)
            if isinstance(obj, types.FunctionType):
                # Keras rebuilds a function from its public name, or under the
                # file's module when the entry is a "function".
                public = self.api.get_name_from_symbol(obj)
                where = module if class_name == "function" else None
                where = where or (public.rpartition(".")[0] if public else None)
                if where:
                    obj = self._retrieve(key, key, where, "function", {"registered_name": key})
            found.append(obj)
        return found

    def _custom(self, name):
        if not isinstance(name, str):
            return None
        found = self.scope.get(name)
        return found if found is not None else self.registered.get(name)

    def _check_allowed(self, obj, item, path) -> None:
        if obj in self.allowed:
            return
        if any(obj is custom for custom in (*self.scope.values(), *self.registered.values())):
            name = item.get("registered_name") or item["class_name"]
            raise Refused(CUSTOM, name=_short(str(name)), path=path)
        raise Refused(NOT_ALLOWED, name=_short(self.name_of(obj)), path=path)

    def _check_data(self, item, path) -> None:
        inner = item.get("config")
        if item["class_name"] in {"__numpy__", "__tensor__"}:
            dtype = inner.get("dtype") if isinstance(inner, dict) else None
            if dtype not in ARRAY_DTYPES:
                raise Refused(
                    NOT_ALLOWED, name=_short(f"{item['class_name']} ({dtype})"), path=path
                )

    # -- strings --------------------------------------------------------------
    def resolve_string(self, key: str, value: str, path: str) -> None:
        """``"activation": "relu"`` and the like: what the layer would look up."""
        for suffix, category in STRING_KINDS:
            if key == suffix or key.endswith(f"_{suffix}"):
                if category == "initializers" and self._custom(value) is not None:
                    raise Refused(CUSTOM, name=_short(value), path=path)
                obj = self.tables[category].get(value)
                if obj is None:
                    raise Refused(UNKNOWN, name=_short(value), path=path)
                if obj not in self.allowed:
                    raise Refused(NOT_ALLOWED, name=_short(self.name_of(obj)), path=path)
                return

    def name_of(self, obj) -> str:
        public = self.api.get_name_from_symbol(obj)
        if public:
            return public
        module = getattr(obj, "__module__", "?")
        return f"{module}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _builtin_registered_name_ok(item: dict, name: str) -> bool:
    """serialization_lib._assert_no_registered_name_for_builtin(), as a test."""
    explicit = item.get("registered_name")
    return not explicit or explicit in (name, item.get("class_name"))


def _spelling(item: dict) -> str:
    module, class_name = item.get("module"), item["class_name"]
    spelled = f"{module}.{class_name}" if module else class_name
    registered = item.get("registered_name")
    if registered and registered != class_name:
        spelled += f" ({registered})"
    return _short(spelled)


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."
