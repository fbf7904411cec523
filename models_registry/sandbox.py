"""Run untrusted-file work (model validation and conversion) in a confined child.

One child process per upload (``models_registry.sandbox_child``), started with
a clean environment, a private scratch directory and its own process group.
The child limits its own CPU time and data segment and drops network access
before it touches the file; this side adds what a child cannot be trusted to
do for itself: a wall-clock timeout, a watch on its resident memory (read from
``/proc/<pid>/status``), and reading its answers as untrusted data. Any limit
hit kills the whole process group and fails with a message that says which.

``sandbox_run(entry=..., args=...)`` is generic: ``entry`` is
``"module:function"``, called in the child as ``function(args, progress)``;
the ``.keras`` checks are one such entry, an ``.onnx`` gate can be another.
"""

import contextlib
import functools
import json
import logging
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.memory import resident_mb

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.05
TICK_SECONDS = 1.0
ANSWER_MAX_BYTES = 2**20
STDERR_KEPT_BYTES = 16 * 1024
STEP = re.compile(r"[a-z][a-z_]{0,31}")
MEMORY_HINTS = ("std::bad_alloc", "MemoryError", "Cannot allocate memory")


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int
    cpu_seconds: int
    timeout_seconds: int

    @classmethod
    def from_settings(cls) -> "SandboxLimits":
        return cls(
            memory_mb=settings.MODEL_VALIDATION_MEMORY_MB,
            cpu_seconds=settings.MODEL_VALIDATION_CPU_SECONDS,
            timeout_seconds=settings.MODEL_VALIDATION_TIMEOUT_SECONDS,
        )


@dataclass(frozen=True)
class SandboxRun:
    result: dict
    peak_memory_mb: int | None
    isolated: bool  # True when the child had its own (empty) network namespace


class SandboxFailed(Exception):
    """Why the child gave no result, translated. ``reason`` is one of
    ``refused`` (the file is unacceptable), ``memory``, ``cpu_time``,
    ``timeout`` (a limit was hit), ``error`` or ``crashed`` (a bug or a crash)."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


def sandbox_run(
    *,
    entry: str,
    args: dict,
    progress: Callable[[str], None] = lambda step: None,
    tick: Callable[[], None] | None = None,
    limits: SandboxLimits | None = None,
) -> SandboxRun:
    """Runs ``entry(args, progress)`` in a fresh child; relays its progress
    steps to ``progress`` and calls ``tick`` about once a second while it runs
    (a job can renew its lease there). Raises ``SandboxFailed``."""
    limits = limits or SandboxLimits.from_settings()
    request = {
        "entry": entry,
        "args": args,
        "memory_mb": limits.memory_mb,
        "cpu_seconds": limits.cpu_seconds,
        "parent": os.getpid(),
    }
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-") as scratch,
        subprocess.Popen(
            [sys.executable, "-s", "-P", "-m", "models_registry.sandbox_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=scratch,
            env=_child_environment(scratch),
            start_new_session=True,
        ) as child,
    ):
        watch = _Watch(child, limits, progress, tick)
        try:
            watch.send(request)
            watch.follow()
        finally:
            _kill(child)  # whatever is left of its group; leaving the block waits for it
    return watch.outcome()


def _child_environment(scratch: str) -> dict:
    """Nothing from the worker's environment (no secrets, no database URL)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "KERAS_BACKEND": "tensorflow",
        "KERAS_HOME": str(Path(scratch) / "keras"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "-1",
    }


def _kill(child: subprocess.Popen) -> None:
    """The child's whole process group (start_new_session). Never reaped before
    this, so its id cannot belong to anyone else yet."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


class _Watch:
    """Reads the child's answers and stderr, and enforces time and memory."""

    def __init__(self, child, limits, progress, tick):
        self.child, self.limits, self.progress, self.tick = child, limits, progress, tick
        self.pending = b""
        self.stderr = b""
        self.final: dict | None = None
        self.isolated = False
        self.killed_for: str | None = None
        self.peak_mb = 0.0

    def send(self, request: dict) -> None:
        try:
            self.child.stdin.write(json.dumps(request).encode())
            self.child.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once; its exit status tells why

    def follow(self) -> None:
        deadline = time.monotonic() + self.limits.timeout_seconds
        next_tick = time.monotonic() + TICK_SECONDS
        selector = selectors.DefaultSelector()
        for stream in (self.child.stdout, self.child.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
        with selector:
            while selector.get_map():
                for key, _events in selector.select(timeout=POLL_SECONDS):
                    data = os.read(key.fileobj.fileno(), 65536)
                    if not data:
                        selector.unregister(key.fileobj)
                    elif key.fileobj is self.child.stdout:
                        self._answers(data)
                    else:
                        self.stderr = (self.stderr + data)[-STDERR_KEPT_BYTES:]
                now = time.monotonic()
                resident = resident_mb(self.child.pid)
                self.peak_mb = max(self.peak_mb, resident or 0)
                if now > deadline:
                    self._stop("timeout")
                elif resident is not None and resident > self.limits.memory_mb:
                    self._stop("memory")
                if self.killed_for:
                    return
                if self.tick is not None and now >= next_tick:
                    next_tick = now + TICK_SECONDS
                    self.tick()

    def _stop(self, reason: str) -> None:
        self.killed_for = reason
        _kill(self.child)

    def _answers(self, data: bytes) -> None:
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        if len(self.pending) > ANSWER_MAX_BYTES:
            self._stop("crashed")
        for line in lines:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if not isinstance(answer, dict):
                continue
            step = answer.get("progress")
            if isinstance(step, str) and STEP.fullmatch(step):
                self.progress(step)
            elif "isolated" in answer:
                self.isolated = answer["isolated"] is True
            elif answer.keys() & {"result", "refused", "out_of_memory", "error"}:
                self.final = answer

    def outcome(self) -> SandboxRun:
        limits, code = self.limits, self.child.returncode
        final = self.final or {}
        if not self.isolated:
            _warn_no_namespace()
        if self.killed_for == "timeout":
            raise SandboxFailed(
                ngettext(
                    "The validation took longer than %(limit)d second.",
                    "The validation took longer than %(limit)d seconds.",
                    limits.timeout_seconds,
                )
                % {"limit": limits.timeout_seconds},
                reason="timeout",
            )
        tail = self.stderr.decode("utf-8", "replace")
        if code == -signal.SIGXCPU:
            raise SandboxFailed(
                ngettext(
                    "The validation used more than %(limit)d second of processor time.",
                    "The validation used more than %(limit)d seconds of processor time.",
                    limits.cpu_seconds,
                )
                % {"limit": limits.cpu_seconds},
                reason="cpu_time",
            )
        if (
            self.killed_for == "memory"
            or "out_of_memory" in final
            or (code != 0 and "result" not in final and any(h in tail for h in MEMORY_HINTS))
        ):
            raise SandboxFailed(
                _("The validation used more than %(limit)d MB of memory.")
                % {"limit": limits.memory_mb},
                reason="memory",
            )
        if "refused" in final and code == 0:
            raise SandboxFailed(_translate(final["refused"]), reason="refused")
        if isinstance(final.get("result"), dict) and code == 0:
            peak = final.get("peak_mb")
            return SandboxRun(
                result=final["result"],
                peak_memory_mb=peak if isinstance(peak, int) else round(self.peak_mb),
                isolated=self.isolated,
            )
        logger.warning("model sandbox ended with %s; stderr ends with:\n%s", code, tail[-4000:])
        if isinstance(final.get("error"), str):
            raise SandboxFailed(
                _("An unexpected error stopped the validation (%(error)s).")
                % {"error": final["error"][:100]},
                reason="error",
            )
        raise SandboxFailed(_crashed(code), reason="crashed")


@functools.cache
def _warn_no_namespace() -> None:
    logger.warning(
        "model sandbox: this kernel refuses user namespaces, so the child keeps the "
        "network namespace; only its in-process guard stops Python-level network use"
    )


_PLACEHOLDER = re.compile(r"%(?:%|\([A-Za-z_][A-Za-z0-9_]*\)(?:\.\d)?[sdefg])")


def _known(message: str) -> bool:
    """One of our own messages (in the shipped catalogue: every refusal is
    translated) whose only placeholders are plain ``%(name)s``/``%(name)d`` or
    take one digit of precision (``%(diff).2g``): no widths a child could use
    to make this process allocate gigabytes."""
    if len(message) > 1000 or "%" in _PLACEHOLDER.sub("", message):
        return False
    with translation.override("es"):
        return _(message) != message


def _translate(refusal: object) -> str:
    """The child's message in the current language; the child is not trusted,
    so a malformed or unknown message becomes a generic one."""
    try:
        message, params = refusal["message"], refusal["params"]
        if not isinstance(message, str) or not isinstance(params, dict) or not _known(message):
            raise TypeError
        clean = {
            str(key): value[:500] if isinstance(value, str) else value
            for key, value in params.items()
            if isinstance(value, str | int | float) and not isinstance(value, bool)
        }
        return _(message[:1000]) % clean if clean else _(message[:1000])
    except (KeyError, TypeError, ValueError):
        return _crashed("malformed answer")


def _crashed(code: int | str) -> str:
    if isinstance(code, int) and code < 0:
        try:
            detail = signal.Signals(-code).name
        except ValueError:
            detail = f"signal {-code}"
    else:
        detail = f"exit status {code}" if isinstance(code, int) else code
    return _("The validation stopped unexpectedly (%(detail)s).") % {"detail": detail}
