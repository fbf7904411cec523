"""The model sandbox: a real child process per run, with real limits.

The entries in ``sandbox_entries`` run inside the child exactly as the
``.keras`` checks do; none of these tests imports TensorFlow in the child."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from models_registry.sandbox import SandboxFailed, SandboxLimits, sandbox_run
from tests.models_registry.test_worker import wait_until

ENTRIES = "tests.models_registry.sandbox_entries"
ROOMY = SandboxLimits(memory_mb=1024, cpu_seconds=60, timeout_seconds=60)


def _run(name, args=None, limits=ROOMY, **kwargs):
    return sandbox_run(entry=f"{ENTRIES}:{name}", args=args or {}, limits=limits, **kwargs)


def _failure(name, args=None, limits=ROOMY) -> SandboxFailed:
    with pytest.raises(SandboxFailed) as caught:
        _run(name, args, limits)
    return caught.value


@pytest.fixture
def listener():
    """A real listening socket on a free port; the child must never reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


def _accepted_nothing(server) -> bool:
    try:
        connection, _address = server.accept()
    except BlockingIOError:
        return True
    connection.close()
    return False


def test_progress_steps_reach_the_callback_in_order():
    seen = []
    run = _run("steps", {"steps": ["scan", "load", "NOT a step!", "parity"]}, progress=seen.append)
    assert run.result == {"done": True}
    assert seen == ["scan", "load", "parity"]  # a malformed step name is not relayed
    assert run.peak_memory_mb and run.peak_memory_mb > 0


def test_library_prints_do_not_corrupt_the_answers():
    seen = []
    assert _run("write_to_stdout", progress=seen.append).result == {"ok": True}
    assert seen == ["printed"]


def test_the_child_gets_none_of_the_worker_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/picsort")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-the-child")
    keys = _run("environment").result["keys"]
    assert "DATABASE_URL" not in keys and "DJANGO_SECRET_KEY" not in keys
    assert "HOME" in keys


def test_python_cannot_open_sockets_resolve_names_or_start_processes(listener):
    run = _run("connect", {"port": listener.getsockname()[1]})
    errors = run.result["errors"]
    assert all(error and "not allowed in the model sandbox" in error for error in errors), errors
    assert _accepted_nothing(listener)


def test_native_code_cannot_reach_the_network(listener):
    run = _run("raw_connect", {"port": listener.getsockname()[1]})
    if not run.isolated:
        pytest.skip("this kernel refuses unprivileged user namespaces")
    assert run.result["unreachable"], run.result
    assert _accepted_nothing(listener)


def test_memory_limit_gives_the_memory_message():
    failure = _failure(
        "allocate",
        {"chunks": 200},
        SandboxLimits(memory_mb=200, cpu_seconds=60, timeout_seconds=60),
    )
    assert failure.reason == "memory"
    assert str(failure) == "The validation used more than 200 MB of memory."


def test_cpu_limit_gives_the_processor_time_message():
    failure = _failure(
        "spin", {"seconds": 120}, SandboxLimits(memory_mb=1024, cpu_seconds=1, timeout_seconds=60)
    )
    assert failure.reason == "cpu_time"
    assert str(failure) == "The validation used more than 1 second of processor time."


def test_wall_clock_timeout_gives_the_timeout_message():
    failure = _failure(
        "sleep", {"seconds": 120}, SandboxLimits(memory_mb=1024, cpu_seconds=60, timeout_seconds=1)
    )
    assert failure.reason == "timeout"
    assert str(failure) == "The validation took longer than 1 second."


def test_a_crash_is_reported_with_its_signal():
    failure = _failure("abort")
    assert failure.reason == "crashed"
    assert "SIGABRT" in str(failure)


def test_refusals_are_translated_by_the_parent():
    assert str(_failure("refuse")) == "The model's config.json is not valid JSON."
    with translation.override("es"):
        spanish = str(_failure("refuse_with_params"))
    assert "7" in spanish and "3" in spanish
    assert spanish != "The model has 7 outputs but the label set has 3 labels."


def test_an_unknown_entry_is_an_error_not_a_hang():
    failure = _failure("no_such_entry")
    assert failure.reason == "error"
    assert "AttributeError" in str(failure)


def test_tick_is_called_while_the_child_runs():
    ticks = []
    _run("sleep", {"seconds": 1.5}, tick=lambda: ticks.append(1))
    assert ticks


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in state  # dead, waiting for init to reap it


def test_the_child_dies_with_the_worker_that_started_it(tmp_path):
    """A worker killed mid-validation leaves no child running on its own."""
    pidfile = tmp_path / "child.pid"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.test';"
            "django.setup();"
            "from models_registry.sandbox import SandboxLimits, sandbox_run;"
            f"sandbox_run(entry='{ENTRIES}:tell_and_sleep',"
            f" args={{'pidfile': '{pidfile}', 'seconds': 120}},"
            " limits=SandboxLimits(memory_mb=1024, cpu_seconds=60, timeout_seconds=300))",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ},
    )
    try:
        assert wait_until(lambda: pidfile.exists() and pidfile.read_text(), seconds=60)
        child = int(pidfile.read_text())
        assert not _gone(child)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert wait_until(lambda: _gone(child), seconds=30)
    finally:
        worker.kill()
        worker.wait()


def test_only_our_own_messages_come_back_from_the_child():
    from models_registry.sandbox import _translate

    parity = "The ONNX conversion differs from Keras by %(diff).2g (more than %(tol).0e)."
    assert "0.5" in _translate({"message": parity, "params": {"diff": 0.5, "tol": 1e-3}})
    # A width could make the worker allocate gigabytes; an unknown text is not ours.
    for message in ("%(a)2000000000s", "Anything a child wants to say %(a)s"):
        answer = _translate({"message": message, "params": {"a": "x"}})
        assert "x" * 10 not in answer and "Anything" not in answer
