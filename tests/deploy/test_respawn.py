"""`make run` (honcho) keeps going when its worker dies: scripts/respawn names
the process that stopped and starts it again, and Ctrl-C still stops all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HONCHO = ROOT / ".venv" / "bin" / "honcho"


def _wait(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_under_honcho_is_named_and_started_again(tmp_path):
    marker = tmp_path / "starts"
    worker = (
        f"import os, time; open({str(marker)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(600)"
    )
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: {sys.executable} -c 'import time; time.sleep(600)'\n"
        f'worker: RESPAWN_NAME=worker {ROOT}/scripts/respawn {sys.executable} -c "{worker}"\n'
    )
    log = tmp_path / "honcho.log"
    with open(log, "wb") as out:
        honcho = subprocess.Popen(
            [str(HONCHO), "-f", str(procfile), "start"],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait(lambda: marker.exists() and len(marker.read_text().split()) == 1)
        first = int(marker.read_text().split()[0])
        os.kill(first, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        assert _wait(lambda: len(marker.read_text().split()) == 2), log.read_text()
        assert honcho.poll() is None, log.read_text()  # nothing else was stopped
        text = log.read_text()
        assert "the worker process stopped (exit code 137); starting it again" in text
        second = int(marker.read_text().split()[1])
        assert second != first and Path(f"/proc/{second}").exists()

        honcho.send_signal(signal.SIGINT)  # Ctrl-C stops everything, restarts nothing
        honcho.wait(timeout=30)
        assert _wait(lambda: not Path(f"/proc/{second}").exists() or _zombie(second), 10)
        assert len(marker.read_text().split()) == 2
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
