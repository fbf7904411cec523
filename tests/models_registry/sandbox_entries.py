"""Entries the sandbox tests run inside the real child process.

Each is called as ``entry(args, progress)`` by ``models_registry.sandbox_child``
after the child has confined itself, exactly like the ``.keras`` checks.
"""

import ctypes
import errno
import os
import socket
import struct
import subprocess
import time

from models_registry.sandbox_child import Refused, gettext_noop


def steps(args, progress):
    for step in args["steps"]:
        progress(step)
    return {"done": True}


def environment(args, progress):
    return {"keys": sorted(os.environ)}


def refuse(args, progress):
    raise Refused(gettext_noop("The model's config.json is not valid JSON."))


def refuse_with_params(args, progress):
    raise Refused(
        gettext_noop("The model has %(outputs)s outputs but the label set has %(labels)d labels."),
        outputs="7",
        labels=3,
    )


def connect(args, progress):
    """Every Python-level way out; each error is reported."""
    errors = []
    attempts = (
        lambda: socket.create_connection(("127.0.0.1", args["port"]), timeout=2),
        lambda: socket.getaddrinfo("localhost", args["port"]),
        lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
        lambda: subprocess.run(["true"], check=False),
        lambda: os.system("true"),  # noqa: S605 -- must be refused
    )
    for attempt in attempts:
        try:
            attempt()
            errors.append(None)
        except OSError as error:
            errors.append(str(error))
    return {"errors": errors}


def raw_connect(args, progress):
    """connect(2) through libc, under the audit hook: only the namespace stops it."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    if fd < 0:
        return {"socket_errno": ctypes.get_errno()}
    # struct sockaddr_in: family (host order), port, address (network order), padding
    address = (
        struct.pack("=H", socket.AF_INET)
        + struct.pack("!H", args["port"])
        + socket.inet_aton("127.0.0.1")
        + bytes(8)
    )
    result = libc.connect(fd, ctypes.c_char_p(address), len(address))
    code = ctypes.get_errno() if result != 0 else 0
    libc.close(fd)
    return {"connect_errno": code, "unreachable": code in (errno.ENETUNREACH, errno.EHOSTUNREACH)}


def allocate(args, progress):
    """Grows resident memory 16 MB at a time, touching every page."""
    hoard = []
    progress("allocating")
    for _ in range(args["chunks"]):
        hoard.append(bytearray(16 * 2**20))
        hoard[-1][::4096] = b"\x01" * (16 * 2**20 // 4096)
    return {"chunks": len(hoard)}


def spin(args, progress):
    end = time.monotonic() + args["seconds"]
    total = 0
    while time.monotonic() < end:
        total += 1
    return {"total": total}


def sleep(args, progress):
    progress("sleeping")
    time.sleep(args["seconds"])
    return {"slept": args["seconds"]}


def abort(args, progress):
    os.abort()


def write_to_stdout(args, progress):
    print("a library that prints to stdout")
    progress("printed")
    return {"ok": True}


def tell_and_sleep(args, progress):
    """Writes its pid where the test can read it, then waits to be killed."""
    with open(args["pidfile"], "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(args["seconds"])
    return {}
