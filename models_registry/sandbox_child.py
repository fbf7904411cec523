"""The child side of the model sandbox: ``python -m models_registry.sandbox_child``.

The parent (``models_registry.sandbox``) starts one child per upload and writes
one JSON request on its stdin::

    {"entry": "models_registry.keras_checks:validate_keras",
     "args": {...file paths and numbers...},
     "memory_mb": 4096, "cpu_seconds": 900, "parent": <the worker's pid>}

Before anything reads the uploaded file, the child confines itself: no core
dumps, a CPU-time limit (the kernel stops it with SIGXCPU), a hard ceiling on
its data segment (the parent also watches its resident memory), a fresh user
and network namespace where the kernel allows one (then only a loopback that
is down exists), and always an audit hook that refuses sockets, name lookups
and new processes inside Python. It also dies with the worker that started
it. Then it imports the entry and calls ``entry(args, progress)``.

It answers with JSON lines on its original stdout (libraries' prints go to
stderr): ``{"isolated": bool}``, ``{"progress": step}``..., and one final
``{"result": {...}}``, ``{"refused": {"message", "params"}}``,
``{"out_of_memory": true}`` or ``{"error": "TypeName"}``. Messages are
untranslated ``gettext_noop`` strings: the parent translates them.

Only the standard library is imported before the confinement is in place.
"""

import ctypes
import errno
import importlib
import json
import os
import resource
import signal
import sys

# Events refused inside the sandbox (Python-level; the namespace covers native code).
BLOCKED_EVENTS = frozenset(
    {
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "pty.spawn",
        "webbrowser.open",
    }
)
CPU_GRACE_SECONDS = 5
PR_SET_PDEATHSIG = 1


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (makemessages knows this name); the
    parent translates it. Django's own needs settings, which the child lacks."""
    return message


class Refused(Exception):
    """A readable reason to refuse the file: an untranslated message (marked
    with ``gettext_noop``) and its named parameters, translated by the parent."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


def _guard(event: str, args: tuple) -> None:
    if event in BLOCKED_EVENTS:
        raise PermissionError(errno.EPERM, f"{event} is not allowed in the model sandbox")


def confine(*, memory_mb: int, cpu_seconds: int, parent: int) -> bool:
    """Limits, namespaces and the audit hook. True when the network namespace
    is in place. Must run while the process still has a single thread."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + CPU_GRACE_SECONDS)
    # A backstop for one huge allocation between two of the parent's readings.
    _lower(resource.RLIMIT_DATA, 2 * memory_mb * 2**20, 2 * memory_mb * 2**20)
    try:
        os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)
        isolated = True
    except (AttributeError, OSError):
        isolated = False  # user namespaces unavailable: the audit hook still holds
    _die_with(parent)  # after unshare, which would clear it
    sys.addaudithook(_guard)
    return isolated


def _die_with(parent: int) -> None:
    """The kernel kills this child if the worker that started it dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _lower(limit: int, soft: int, hard: int) -> None:
    _soft, current_hard = resource.getrlimit(limit)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(limit, (soft, hard))


def _out_of_memory(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, MemoryError):
            return True
        if isinstance(error, OSError) and error.errno == errno.ENOMEM:
            return True
        if "cannot allocate memory" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


def _peak_memory_mb() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def main() -> int:
    request = json.loads(sys.stdin.read())
    isolated = confine(
        memory_mb=int(request["memory_mb"]),
        cpu_seconds=int(request["cpu_seconds"]),
        parent=int(request["parent"]),
    )
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever libraries print goes to stderr

    def say(**message) -> None:
        answers.write(json.dumps(message) + "\n")

    say(isolated=isolated)
    module_name, _colon, function_name = request["entry"].partition(":")
    try:
        entry = getattr(importlib.import_module(module_name), function_name)
        result = entry(request["args"], lambda step: say(progress=step))
    except Refused as refusal:
        say(refused={"message": refusal.message, "params": refusal.params})
        return 0
    except BaseException as error:  # reported to the parent, then re-raised for the log
        if _out_of_memory(error):
            say(out_of_memory=True)
            return 3
        say(error=type(error).__name__)
        raise
    say(result=result, peak_mb=_peak_memory_mb())
    return 0


if __name__ == "__main__":
    # Run from the imported module, so ``Refused`` is the class entries raise.
    from models_registry.sandbox_child import main as imported_main

    sys.exit(imported_main())
