"""Freed memory goes back to the system at once, in every long-running process.

glibc keeps large freed blocks in its heaps (one per thread, up to eight per
core) and raises its mmap threshold after each large free, so a web process
that once decoded a big picture kept hundreds of megabytes it no longer used.
A fixed 1 MiB threshold makes every large block (decoded images, tensors) an
mmap that is returned on free, and two arenas bound the per-thread heaps.
"""

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def return_freed_memory(*, threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """True when the C library took the settings (glibc); elsewhere a no-op."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(mallopt(M_ARENA_MAX, arenas))


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory now (Linux; this one by default), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None
