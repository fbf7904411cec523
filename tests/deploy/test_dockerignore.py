""".dockerignore leaves out of the image everything .gitignore keeps out of
git (secrets, users' media, local databases, built files), at any depth where
git ignores it at any depth; and keeps what the image build needs.

Git is asked which sample paths it ignores (`git check-ignore --no-index`);
the Docker side follows BuildKit's rules: patterns are anchored at the context
root, `**` spans any number of folders, and excluding a folder excludes what
is inside it."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _docker_patterns() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, re.escape(part)
            )
        rules.append((negate, re.compile(regex)))
    return rules


def docker_ignores(path: str) -> bool:
    """BuildKit: the last matching rule wins; a rule matches a path or any of
    its parent folders."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negate, regex in _docker_patterns():
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


def _samples() -> list[str]:
    """Paths each .gitignore line is about: at the root and, for patterns git
    applies at any depth, inside folders too."""
    samples = []
    for line in (ROOT / ".gitignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        folder = line.endswith("/")
        name = line.strip("/").replace("*", "x")
        path = f"{name}/inside.bin" if folder else name
        samples.append(path)
        if not line.startswith("/") and "/" not in line.rstrip("/"):
            samples.append(f"locale/es/LC_MESSAGES/{path}")
    return samples


def test_every_sample_path_is_one_git_ignores():
    samples = _samples()
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(samples),
        capture_output=True,
        text=True,
        check=False,
    )
    assert set(result.stdout.split()) == set(samples)


def test_what_git_ignores_stays_out_of_the_image():
    leaked = [path for path in _samples() if not docker_ignores(path)]
    assert leaked == []


def test_the_known_leaks_stay_out():
    for path in (
        ".prod-local.env",
        "media-prod/user/1/photo.jpg",
        "sent_emails/20261201-1.log",
        ".test-media/batches/x.jpg",
        "locale/es/LC_MESSAGES/django.mo",
        ".env",
        ".venv-checkov/bin/checkov",
        "deploy/compose/tls/key.pem",
    ):
        assert docker_ignores(path), path


def test_what_the_build_needs_is_in_the_context():
    for path in (
        "manage.py",
        "requirements/production.txt",
        "requirements/ml.txt",
        "config/gunicorn.py",
        "config/settings/production.py",
        "locale/es/LC_MESSAGES/django.po",
        "static/vendor/pico/LICENSE.md",
        "classification/templates/classification/batch_detail.html",
        "models_registry/data/imagenet1k.json",
    ):
        assert not docker_ignores(path), path
