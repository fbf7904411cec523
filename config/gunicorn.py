"""gunicorn settings for every place the web role runs (image, compose,
Kubernetes, ``make prod-local``): ``gunicorn -c config/gunicorn.py``.

Environment variables override each value (``GUNICORN_*``), so an operator
tunes a deployment without rebuilding the image.

How the defaults were chosen
----------------------------
``.venv/bin/python -P bench/web_workers.py`` (PostgreSQL, production settings,
one ONNX Runtime thread per process, the load generator on the same 2 shared
cores). Two runs on 2026-12-01, variants in opposite orders; per variant:
classify = 4 clients posting a 640x480 JPEG flat out; /healthz = a probe every
0.25 s (pod-IP Host) while 8 clients classify, then while 2 clients post
1000-image batches (a 19.9 MB zip of 320x240 photos each: the zip itself is
held to the 20 MB per-file limit; stored as one archive); memory = RSS of all
workers after warm-up.

Each cell: run 1, run 2.

                    classify   /healthz p50/max, ms                batch request   workers'
                    req/s      under load        during batches    p50/max, ms     memory
    sync 2          34   57    210/328 137/766   210/497  84/232   502/975 186/366   386 MB
    sync 4          33   35    144/278 165/775     7/28    3/18    524/936 377/777   763 MB
    gthread 2x2     18   35    289/479  91/210    10/212   4/42    552/1021 296/607  411 MB
    gthread 2x4 c4  24   38     83/230  28/172     9/62    6/58    909/1397 365/591  431 MB
    gthread 2x4     29   41     39/364  32/145     6/30    4/66    536/934 262/482   430 MB

(c4: worker_connections = threads, a worker takes a connection only when a
thread is free; the last row is gunicorn's default, kept below.)

What the numbers say, and the choice:

- Throughput is the cores' (ONNX Runtime is CPU-bound): the spread between
  variants is smaller than between two runs of the same one on this shared
  machine. More processes buy nothing but memory: 4 sync workers hold 763 MB,
  over half of the web pod's 1 GiB limit; 2 processes x 4 threads hold 430.
- /healthz: a sync worker answers nothing else while it classifies or takes a
  batch, so the probe waits for a whole request (up to 0.8 s here, and as long
  as the slowest request in general). With threads it waits only for a free
  thread: 28-83 ms median under full load (max 145-364), a few ms during
  batches. It is
  also answered before sessions, the database or templates
  (``core/probes.py``), and the liveness probe allows a minute of misses.
- The slowest request is a 1000-image batch: it checks the zip and stores it
  as one archive (one storage call; the worker expands it): under 1.4 s even
  with two at once on 2 busy cores. ``timeout`` is therefore no request limit
  worth tuning; with gthread it is the heartbeat of a worker's main loop, so
  no upload can reach it. The proxy in front waits 120 s (300 s for model
  files), which leaves two orders of magnitude of room.
- ``graceful_timeout``: requests in flight get 30 s after SIGTERM; compose's
  ``stop_grace_period`` and Kubernetes' ``terminationGracePeriodSeconds``
  (with its 5 s preStop pause) are longer.
- Each thread may hold a database connection (``CONN_MAX_AGE``): 8 per web
  container.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
# Letting a worker take a connection only when a thread is free
# (GUNICORN_WORKER_CONNECTIONS=4) made no measurable difference, and it turns
# off keep-alive towards the ingress controller: gunicorn's default stays.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
wsgi_app = "config.wsgi:application"
# Nothing here drives gunicorn through its control socket, and several
# gunicorns on one machine would share its default path.
control_socket_disable = True


# Memory
# ------------------------------------------------------------------------------
# With the upload limits a request costs at most one full-size picture at a
# time per process (core/images.py); README "Limits and abuse" states the
# budget. Freed memory is returned at once (core/memory.py), and a worker that
# grows past GUNICORN_MAX_RSS_MB anyway (a leak) finishes its requests and is
# replaced by a fresh one.
_max_rss_mb = float(os.environ.get("GUNICORN_MAX_RSS_MB", "768"))


def post_fork(server, worker):
    from core.memory import return_freed_memory

    return_freed_memory()


def post_request(worker, req, environ, resp):
    from core.memory import resident_mb

    resident = resident_mb()
    if _max_rss_mb and resident is not None and resident > _max_rss_mb and worker.alive:
        worker.log.warning(
            "worker %s holds %.0f MB (more than %.0f): replacing it",
            worker.pid,
            resident,
            _max_rss_mb,
        )
        worker.alive = False


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
