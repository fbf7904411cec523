"""PostgreSQL restarted while a web process, a worker and the sweeper run:
the web answers 503 (not a stack trace) while the database is down and recovers
by itself; the worker reconnects and the batch finishes with every item done
exactly once. Needs PostgreSQL (CI) and the right to restart it."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection, connections

from classification import services
from classification.models import BatchItem, BatchJob, Prediction
from tests.classification.images import jpeg
from tests.models_registry.test_worker import (
    DB_BACKEND,
    ROOT,
    start_worker,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _cluster() -> list[str]:
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").exists() else []
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"] if versions else []


def _get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def _wait(predicate, seconds=120) -> bool:
    # The database may still be coming back: reconnect and poll on.
    return wait_until(predicate, seconds, recover=connections.close_all)


@pytest.fixture
def restartable_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (CI runs it)")
    if not _cluster() or not shutil.which("pg_ctlcluster") or os.geteuid() != 0:
        pytest.skip("needs pg_ctlcluster and root to restart PostgreSQL")
    yield _cluster()
    subprocess.run([*_cluster(), "start"], check=False, capture_output=True)
    connections.close_all()


def test_web_and_worker_survive_a_database_restart(
    restartable_postgres, user, imagenet_model, settings
):
    from accounts.services import api_token_create

    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    _token, key = api_token_create(user=user, name="restart")
    env = {**worker_env(), "DJANGO_BATCH_LEASE_SECONDS": "3"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    web = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    worker = start_worker("batches", env=env)
    sweeper = subprocess.Popen(
        [sys.executable, "manage.py", "jobs_sweep", "--loop", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait(lambda: _get(f"{base}/readyz")[0] == 200), "the web never became ready"
        uploads = [services.Upload(f"{i}.jpg", jpeg(640, 480, seed=i)) for i in range(80)]
        job = services.batch_job_create(user=user, uploads=uploads, version=imagenet_model)
        assert _wait(lambda: BatchJob.objects.get(pk=job.pk).done >= 5)

        subprocess.run([*restartable_postgres, "stop", "-m", "fast"], check=True)
        connections.close_all()
        status, body = _get(f"{base}/api/v1/me/", key)
        assert status == 503 and '"service_unavailable"' in body, body[:500]
        status, body = _get(f"{base}/classify/history/")
        assert status in (302, 503) and "Traceback" not in body
        assert _get(f"{base}/readyz")[0] == 503
        assert _get(f"{base}/healthz")[0] == 200  # the process itself is fine
        time.sleep(3)
        subprocess.run([*restartable_postgres, "start"], check=True)

        assert _wait(lambda: _get(f"{base}/api/v1/me/", key)[0] == 200), "the web did not recover"
        assert _wait(lambda: BatchJob.objects.get(pk=job.pk).status == "succeeded", seconds=240), (
            worker.stderr.read() if worker.poll() is not None else "the batch never finished"
        )
        assert worker.poll() is None, "the worker died instead of reconnecting"
    finally:
        for process in (web, worker, sweeper):
            process.terminate()
        for process in (web, worker, sweeper):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    connections.close_all()
    job.refresh_from_db()
    assert (job.done, job.failed) == (80, 0)
    assert Prediction.objects.filter(batch_item__job=job).count() == 80
    assert set(BatchItem.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
