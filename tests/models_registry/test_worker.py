"""Validation really runs in a separate worker process (``manage.py db_worker``)
through the database task queue, as in production."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from models_registry import services
from models_registry.models import ModelVersion
from tests.models_registry.factories import LabelSetFactory
from tests.models_registry.keras_files import tiny_model

ROOT = Path(__file__).resolve().parent.parent.parent
DB_BACKEND = "django_tasks_db.DatabaseBackend"


def worker_env() -> dict:
    """Environment for a worker that uses this test run's database and media."""
    from django.conf import settings

    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings_dict['NAME']}"
    else:
        user = settings_dict["USER"] or "postgres"
        host = settings_dict["HOST"] or "127.0.0.1"
        port = settings_dict["PORT"] or 5432
        url = f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "DJANGO_TEST_TASKS_BACKEND": DB_BACKEND,
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def run_worker(
    *queues: str, timeout: int = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--queue-name",
            ",".join(queues),
        ],
        cwd=ROOT,
        env=env or worker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_upload_is_validated_by_a_worker_process(tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "models"]}}
    path = tiny_model(tmp_path / "tiny.keras")
    version = services.model_version_upload(
        name="via-worker",
        file=ContentFile(path.read_bytes(), name="tiny.keras"),
        label_set=LabelSetFactory(),
    )
    # Queued after commit, not run in this process.
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").count() == 1
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.UPLOADED

    result = run_worker("models")
    assert result.returncode == 0, result.stderr[-3000:]
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.READY, (version.error, result.stderr[-3000:])
    assert version.onnx_file.open("rb").read()[:2]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def wait_until(predicate, seconds: float = 120, recover=None) -> bool:
    """Polls ``predicate`` until it holds or ``seconds`` pass. With ``recover``,
    an exception in it calls ``recover`` (e.g. reconnect to a database that is
    coming back) and polling goes on; without, the exception propagates."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            if recover is None:
                raise
            recover()
        time.sleep(0.1)
    return False


def start_worker(*queues: str, env: dict | None = None) -> subprocess.Popen:
    """A long-running worker (not --batch) polling often, for tests that stop it."""
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            ",".join(queues),
            "--no-startup-delay",
            "--interval",
            "0.2",
        ],
        cwd=ROOT,
        env=env or worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_json_script(script: str, env: dict, timeout: int = 120) -> dict:
    """Runs ``script`` in a fresh Python process; returns the JSON of its last line."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
