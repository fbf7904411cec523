"""Graceful stop for long jobs running inside ``manage.py db_worker``.

The worker finishes its current task on SIGTERM; a batch is one long task, so
it also needs to know: ``stop_requested()`` turns true on SIGTERM/SIGINT while
``watch_for_stop()`` is active, and the worker's own handler still runs.
"""

import signal
import threading
from contextlib import contextmanager

_stop = threading.Event()


def stop_requested() -> bool:
    return _stop.is_set()


@contextmanager
def watch_for_stop():
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum, frame):
        _stop.set()
        earlier = previous.get(signum)
        if callable(earlier):
            earlier(signum, frame)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, earlier in previous.items():
            signal.signal(sig, earlier)
