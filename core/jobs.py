"""Apps register the sweeps that recover their jobs (``jobs_sweep`` runs them
all) and the metrics of their jobs (``/metrics`` reads them).

A sweep takes no arguments and returns counts (``{"requeued": 1, ...}``).
Registering from ``AppConfig.ready`` keeps ``core`` free of app imports.
"""

from collections.abc import Callable

from django.conf import settings

_sweeps: dict[str, Callable[[], dict[str, int]]] = {}
_metric_collectors: list = []


def register_sweep(name: str, sweep: Callable[[], dict[str, int]]) -> None:
    _sweeps[name] = sweep


def sweep_all() -> dict[str, int]:
    counts = {}
    for name, sweep in _sweeps.items():
        counts.update({f"{name} {key}": value for key, value in sweep().items()})
    return counts


def retry_delay(attempts: int) -> float:
    """Backoff before a job whose worker vanished runs again: 2, 4, 8... seconds,
    at most RETRY_MAX_DELAY, so a job that crashes workers cannot hammer them."""
    delay = settings.RETRY_BASE_DELAY * 2 ** max(0, attempts - 1)
    return float(min(delay, settings.RETRY_MAX_DELAY))


def enqueue_later(task, *args, delay: float = 0) -> None:
    """``task.enqueue(*args)``, not to run before ``delay`` seconds from now when
    the backend can defer (the database queue can; the inline test backend runs
    at once)."""
    if delay and task.get_backend().supports_defer:
        from datetime import timedelta

        from django.utils import timezone

        task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    task.enqueue(*args)


def register_metrics(collector) -> None:
    """A Prometheus collector (``collect()`` yielding metric families) that
    ``/metrics`` reads at every scrape, for jobs an app owns."""
    _metric_collectors.append(collector)


def metric_collectors() -> list:
    return list(_metric_collectors)
