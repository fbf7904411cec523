"""checkov, as `make docker-lint` runs it, passes on our files and catches
what its policies are for (our compose policies in deploy/checkov/ included).
checkov lives in .venv-checkov (`make docker-lint` creates it)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def _checkov(*targets: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail("CI runs make docker-lint first, which installs checkov")
        pytest.skip("needs .venv-checkov (make docker-lint)")
    return subprocess.run(
        [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml"), *targets],
        cwd=cwd,
        env={**os.environ, "PATH": f"{CHECKOV.parent}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_our_dockerfile_and_compose_pass():
    result = _checkov("-f", "Dockerfile", "-f", "compose.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_moving_tag_a_privileged_service_and_a_written_secret_fail(tmp_path):
    shutil.copytree(ROOT / "deploy" / "checkov", tmp_path / "deploy" / "checkov")
    compose = (ROOT / "compose.yaml").read_text()
    compose = compose.replace("${PICSORT_WEB_IMAGE:-picsort-web:local}", "picsort-web:latest", 1)
    compose = compose.replace(
        "    restart: unless-stopped\n    ports:",
        "    restart: unless-stopped\n    privileged: true\n    ports:",
        1,
    )
    compose = compose.replace(
        "${DJANGO_SECRET_KEY:?set DJANGO_SECRET_KEY in .env}", "written-into-the-file", 1
    )
    (tmp_path / "compose.yaml").write_text(compose)
    (tmp_path / ".checkov.yaml").write_text((ROOT / ".checkov.yaml").read_text())
    result = _checkov("-f", "compose.yaml", cwd=tmp_path)
    assert result.returncode != 0
    for check in ("CKV_PICSORT_1", "CKV_PICSORT_2", "CKV_PICSORT_3"):
        assert f"{check}:" in result.stdout, result.stdout[-3000:]
