"""gunicorn settings for every place the web role runs (image, compose,
Kubernetes, ``make prod-local``): ``gunicorn -c config/gunicorn.py``.

Environment variables override each value (``GUNICORN_*``), so an operator
tunes a deployment without rebuilding the image.

MEASUREMENTS_PLACEHOLDER
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
# A worker accepts a connection only when one of its threads is free, so a
# probe waits in the kernel's queue for the first free thread of any worker
# rather than behind a busy worker's own queue.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", str(threads)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
wsgi_app = "config.wsgi:application"


# Prometheus multiprocess mode (core/metrics.py)
# ------------------------------------------------------------------------------
# Every worker writes its request metrics into PROMETHEUS_MULTIPROC_DIR and
# whichever worker answers /metrics sums them all. prometheus_client reads the
# variable when it is first imported, so it is set here in the master before
# any worker is forked (keep preload_app off). The directory starts empty at
# every start: a fresh temporary one, removed at exit, or the operator's own,
# emptied of a previous run's files.
_PROMETHEUS_OWNER = "PICSORT_PROMETHEUS_DIR_OWNER"


def on_starting(server):
    import tempfile

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and not os.environ.get(_PROMETHEUS_OWNER):
        os.makedirs(path, exist_ok=True)
        for entry in os.scandir(path):
            if entry.is_file() and entry.name.endswith(".db"):
                os.unlink(entry.path)
    else:  # none set, or inherited from the master this one replaces (USR2)
        path = tempfile.mkdtemp(prefix="picsort-prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        os.environ[_PROMETHEUS_OWNER] = str(os.getpid())
    server.log.info("Prometheus multiprocess directory: %s", path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    import shutil

    if os.environ.get(_PROMETHEUS_OWNER) == str(os.getpid()):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
