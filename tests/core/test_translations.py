"""The Spanish catalogue is complete: nothing untranslated, fuzzy or mis-formatted."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}|%[sd]")


def _catalogues():
    for locale_dir in settings.LOCALE_PATHS:
        yield from sorted(Path(locale_dir).glob("es/LC_MESSAGES/*.po"))


def test_there_is_a_spanish_catalogue():
    assert list(_catalogues())


@pytest.mark.parametrize("po_path", list(_catalogues()), ids=lambda p: p.name)
def test_spanish_catalogue_is_complete(po_path):
    catalogue = polib.pofile(str(po_path))
    assert catalogue.percent_translated() == 100, [
        e.msgid for e in catalogue.untranslated_entries()
    ]
    assert not catalogue.fuzzy_entries(), [e.msgid for e in catalogue.fuzzy_entries()]
    for entry in catalogue.translated_entries():
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        for translation in translations:
            assert sorted(PLACEHOLDER.findall(translation)) == expected, entry.msgid


def test_compiletranslations_builds_the_mo_files(tmp_path, settings):
    locale = tmp_path / "es" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    source = next(_catalogues())
    (locale / "django.po").write_bytes(source.read_bytes())
    settings.LOCALE_PATHS = [tmp_path]
    settings.BASE_DIR = tmp_path
    call_command("compiletranslations")
    mo = polib.mofile(str(locale / "django.mo"))
    assert len(mo.translated_entries()) == len(polib.pofile(str(source)).translated_entries())


def test_every_marked_string_is_in_the_catalogue(tmp_path, settings):
    """makemessages over a copy of the code finds no msgid the catalogue lacks."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is missing: .ci/run must install it")
        pytest.skip("GNU gettext not installed")
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "artifacts",
            "staticfiles",
            "media",
            ".test-media",
            "*.sqlite3*",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            "node_modules",
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--ignore=tests/*", "-v", "0"],
        cwd=copy,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    extracted = {e.msgid for e in polib.pofile(str(copy / "locale/es/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(root / "locale/es/LC_MESSAGES/django.po"))}
    assert extracted - committed == set()
