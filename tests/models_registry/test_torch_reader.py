"""The legacy PyTorch reader: right numbers from hand-made files, and refusal
of anything that is not a plain state dict (no code runs while reading)."""

import collections
import io
import pickle
import struct
import sys
import types

import numpy as np
import pytest

from models_registry.pretrained.torch_legacy import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    WeightsFileError,
    read_state_dict,
)


class _FakeTorch:
    """Just enough of ``torch`` in sys.modules for pickle to name its globals."""

    def __enter__(self):
        self.torch = types.ModuleType("torch")
        self.utils = types.ModuleType("torch._utils")

        class FloatStorage:
            pass

        FloatStorage.__module__ = "torch"
        FloatStorage.__qualname__ = "FloatStorage"

        def _rebuild_tensor_v2(*args):  # pragma: no cover - never called here
            raise AssertionError

        _rebuild_tensor_v2.__module__ = "torch._utils"
        _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
        self.torch.FloatStorage = FloatStorage
        self.utils._rebuild_tensor_v2 = _rebuild_tensor_v2
        self.saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
        sys.modules.update({"torch": self.torch, "torch._utils": self.utils})
        return self

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


class _Tensor:
    def __init__(self, fake, key, offset, size, stride):
        self.args = (("storage-ref", key), offset, size, stride, False, collections.OrderedDict())
        self.fake = fake

    def __reduce__(self):
        return (self.fake.utils._rebuild_tensor_v2, self.args)


def write_legacy(tensors: dict, storages: dict[str, np.ndarray], *, extra=None) -> bytes:
    """tensors: name -> (storage key, offset, size, stride)."""
    out = io.BytesIO()
    with _FakeTorch() as fake:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(header, out, protocol=2)

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, tuple) and obj and obj[0] == "storage-ref":
                    key = obj[1]
                    return ("storage", fake.torch.FloatStorage, key, "cpu", storages[key].size)
                return None

        state = collections.OrderedDict(
            (name, _Tensor(fake, *spec)) for name, spec in tensors.items()
        )
        if extra is not None:
            state["extra"] = extra
        Pickler(out, protocol=2).dump(state)
        pickle.dump(list(storages), out, protocol=2)
        for array in storages.values():
            out.write(struct.pack("<q", array.size))
            out.write(array.astype("<f4").tobytes())
    return out.getvalue()


def test_reads_contiguous_and_strided_tensors():
    data = np.arange(12, dtype=np.float32)
    blob = write_legacy(
        {
            "w": ("0", 0, (3, 4), (4, 1)),
            "w_t": ("0", 0, (4, 3), (1, 4)),  # a transposed view of the same storage
            "tail": ("0", 8, (4,), (1,)),
        },
        {"0": data},
    )
    state = read_state_dict(blob)
    assert np.array_equal(state["w"], data.reshape(3, 4))
    assert np.array_equal(state["w_t"], data.reshape(3, 4).T)
    assert np.array_equal(state["tail"], [8, 9, 10, 11])
    state["w"][0, 0] = 99  # arrays are independent copies
    assert state["w_t"][0, 0] == 0


def test_refuses_code_in_the_pickle(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    blob = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {}):
        pickle.dump(header, blob, protocol=2)
    pickle.dump({"x": Evil()}, blob, protocol=2)
    with pytest.raises(WeightsFileError, match="refusing to load"):
        read_state_dict(blob.getvalue())
    assert not marker.exists()


def test_refuses_non_tensor_values():
    blob = write_legacy({"w": ("0", 0, (2,), (1,))}, {"0": np.ones(2)}, extra=[1, 2])
    with pytest.raises(WeightsFileError, match="is not a tensor"):
        read_state_dict(blob)


def test_refuses_views_past_the_storage():
    blob = write_legacy({"w": ("0", 2, (4,), (1,))}, {"0": np.ones(4)})
    with pytest.raises(WeightsFileError, match="past its storage"):
        read_state_dict(blob)


@pytest.mark.parametrize("cut", [10, 200, -3])
def test_truncated_files(cut):
    blob = write_legacy({"w": ("0", 0, (4,), (1,))}, {"0": np.ones(4)})
    with pytest.raises(WeightsFileError):
        read_state_dict(blob[:cut])


def test_wrong_magic_and_garbage():
    with pytest.raises(WeightsFileError, match="magic"):
        read_state_dict(pickle.dumps(12345))
    with pytest.raises(WeightsFileError):
        read_state_dict(b"PK\x03\x04 a zip-format checkpoint")
    with pytest.raises(WeightsFileError):
        read_state_dict(b"")
