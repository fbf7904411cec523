"""A small progress bar on stderr for batches, imports and training."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """``update(percent, status)`` redraws one line on a terminal; elsewhere (a
    log, CI) it prints a line each time the status changes or 10 % more is done."""

    width = 30

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown: tuple[int, str] | None = None

    def update(self, percent: float, status: str = "") -> None:
        if not self.enabled:
            return
        percent = int(max(0, min(100, percent)))
        if self.shown is not None and not self.tty:
            last_percent, last_status = self.shown
            if status == last_status and percent < last_percent + 10 and percent != 100:
                return
        if self.shown == (percent, status):
            return
        self.shown = (percent, status)
        filled = self.width * percent // 100
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {percent:3d}% {status}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width + len(self.label) + 24))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.shown is not None:
            self.stream.write("\n")
            self.stream.flush()
