"""Read a legacy (non-zip) PyTorch state-dict file with pickle and numpy only.

The format is five things in a row: four pickles (magic number, protocol
version, system info, the state dict whose tensors point at storages by
persistent id, the list of storage keys), then for each key in that order an
int64 element count and the raw little-endian data.

Only the handful of globals a plain state dict needs are allowed; anything else
in the pickle is refused, so a hostile file cannot run code.
"""

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class WeightsFileError(ValueError):
    """The file is not a plain legacy PyTorch state dict."""


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored):
    if not isinstance(storage, _StorageRef):
        raise WeightsFileError("tensor without a storage")
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise WeightsFileError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        # ("storage", type, key, location, numel[, view_metadata=None])
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise WeightsFileError("unexpected persistent id")
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsFileError("storage views are not supported")
        _typename, storage_type, key, _location, numel = pid[:5]
        if not isinstance(storage_type, _StorageType):
            raise WeightsFileError("unexpected storage type")
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(str(key), storage_type.dtype, int(numel))
        return ref


def _load_pickle(file: BinaryIO, unpickler_cls=_RestrictedUnpickler):
    unpickler = unpickler_cls(file)
    try:
        return unpickler.load(), unpickler
    except WeightsFileError:
        raise
    except Exception as error:  # truncated or garbled pickle
        raise WeightsFileError(f"not a legacy PyTorch file: {error}") from error


def read_state_dict(source: str | bytes | BinaryIO) -> dict[str, np.ndarray]:
    """Returns the state dict as ``{name: numpy array}`` in file order."""
    if isinstance(source, bytes):
        file: BinaryIO = io.BytesIO(source)
    elif isinstance(source, str):
        with open(source, "rb") as handle:
            return read_state_dict(handle.read())
    else:
        file = source

    magic, _ = _load_pickle(file)
    if magic != MAGIC_NUMBER:
        raise WeightsFileError("wrong magic number: not a legacy PyTorch file")
    protocol, _ = _load_pickle(file)
    if protocol != PROTOCOL_VERSION:
        raise WeightsFileError(f"unsupported protocol version {protocol}")
    _sys_info, _ = _load_pickle(file)
    state, unpickler = _load_pickle(file)
    keys, _ = _load_pickle(file)
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise WeightsFileError("the file does not hold a state dict")

    data: dict[str, np.ndarray] = {}
    for key in keys:
        ref = unpickler.storages.get(str(key))
        if ref is None:
            raise WeightsFileError(f"storage {key} is listed but never used")
        header = file.read(8)
        if len(header) != 8:
            raise WeightsFileError("file is truncated")
        (numel,) = struct.unpack("<q", header)
        if numel != ref.numel or numel < 0:
            raise WeightsFileError(f"storage {key} has {numel} elements, expected {ref.numel}")
        raw = file.read(numel * ref.dtype.itemsize)
        if len(raw) != numel * ref.dtype.itemsize:
            raise WeightsFileError("file is truncated")
        data[ref.key] = np.frombuffer(raw, dtype=ref.dtype)

    tensors: dict[str, np.ndarray] = {}
    for name, value in state.items():
        if not isinstance(value, _TensorRef):
            raise WeightsFileError(f"{name} is not a tensor")
        storage = data.get(value.storage.key)
        if storage is None:
            raise WeightsFileError(f"{name} points at a missing storage")
        count = int(np.prod(value.size)) if value.size else 1
        if count and value.offset + _span(value.size, value.stride) > storage.size:
            raise WeightsFileError(f"{name} reaches past its storage")
        itemsize = storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            storage[value.offset :],
            shape=value.size,
            strides=tuple(s * itemsize for s in value.stride),
            writeable=False,
        )
        tensors[name] = np.array(view, dtype=storage.dtype.newbyteorder("="))
    return tensors


def _span(size: tuple, stride: tuple) -> int:
    """How many elements past the offset the last element of a view lies, plus one."""
    return 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
