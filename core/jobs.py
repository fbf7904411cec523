"""Apps register the sweeps that recover their jobs; ``jobs_sweep`` runs them all.

A sweep takes no arguments and returns counts (``{"requeued": 1, ...}``).
Registering from ``AppConfig.ready`` keeps ``core`` free of app imports.
"""

from collections.abc import Callable

_sweeps: dict[str, Callable[[], dict[str, int]]] = {}


def register_sweep(name: str, sweep: Callable[[], dict[str, int]]) -> None:
    _sweeps[name] = sweep


def sweep_all() -> dict[str, int]:
    counts = {}
    for name, sweep in _sweeps.items():
        counts.update({f"{name} {key}": value for key, value in sweep().items()})
    return counts
