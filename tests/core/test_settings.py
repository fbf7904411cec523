"""Settings facts the rest of the project relies on."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_environment_variable_is_documented_in_env_example():
    used = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        used |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', path.read_text()))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used, "no env() calls found: the pattern is out of date"
    assert used - documented == set()


def test_passwords_are_hashed_with_argon2():
    assert get_hasher().algorithm == "argon2"


@pytest.mark.django_db
def test_test_suite_runs_on_the_database_ci_asks_for():
    import os

    url = os.environ.get("DATABASE_URL", "")
    engine = settings.DATABASES["default"]["ENGINE"]
    if url.startswith("postgres"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"
