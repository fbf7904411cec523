"""The Dockerfile as a build would run it (hadolint is in `make docker-lint`):
the code is root's and read-only for the app's user, which has a home of its
own to write to; gunicorn takes its settings from config/gunicorn.py."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions() -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


def test_the_code_belongs_to_root_not_to_the_app():
    copies = [line for line in _instructions() if line.startswith("COPY . ")]
    assert copies == ["COPY . ."], "no --chown: the app must not be able to rewrite its code"


def test_the_app_user_has_a_home_it_can_write():
    user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE, re.M)
    assert user and user.group(1) != "0"
    created = next(line for line in _instructions() if "useradd" in line)
    assert f"--uid {user.group(1)}" in created and "--create-home" in created
    home = re.search(r"--home-dir (\S+)", created).group(1)
    assert not home.startswith("/app")
    assert re.search(rf"HOME={re.escape(home)}\b", DOCKERFILE)


def test_gunicorn_reads_its_settings_file():
    assert 'CMD ["gunicorn", "-c", "config/gunicorn.py"]' in DOCKERFILE
