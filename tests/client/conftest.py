"""The Python client against a live server (pytest-django's ``live_server``),
with a real ``db_worker`` process for batches, example imports and training."""

import subprocess
import sys

import pytest

from accounts.services import api_token_create
from tests.models_registry.test_worker import DB_BACKEND, ROOT, worker_env

QUEUES = ["default", "batches", "training", "models"]


@pytest.fixture
def token(user) -> str:
    _token, key = api_token_create(user=user, name="client")
    return key


@pytest.fixture
def picsort(live_server, token, imagenet_model):
    from picsort import Client

    with Client(live_server.url, token, progress=False, poll_interval=0.2) as client:
        yield client


@pytest.fixture
def worker(settings, tmp_path):
    """A worker process on every queue; jobs go to the database queue, not inline."""
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": QUEUES}}
    log = (tmp_path / "worker.log").open("w")
    env = {**worker_env(), "DJANGO_TRAINING_MAX_EPOCHS": "60"}
    command = [sys.executable, "manage.py", "db_worker", "--queue-name", ",".join(QUEUES)]
    command += ["--no-startup-delay", "--interval", "0.2"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    yield process
    process.terminate()
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
