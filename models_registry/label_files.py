"""Parse an uploaded label file: plain text, CSV or JSON.

- ``.txt``: one class name per line, in output order; keys are made from names.
- ``.csv``: ``key,name[,name_es]`` per line (a header row with those words is skipped).
- ``.json``: a list of names, or of objects ``{"key", "name", "name_es"}`` (or
  ``"translations": {"es": ...}``).

Everything is checked before anything is written: empty names, duplicate keys,
too many classes or a file too large all give a readable error.
"""

import csv
import io
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

MAX_NAME = 200
MAX_KEY = 100


@dataclass(frozen=True)
class LabelData:
    key: str
    name: str
    translations: dict = field(default_factory=dict)


def _error(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_label_file")


def _decode(data: bytes) -> str:
    if len(data) > settings.LABEL_FILE_MAX_BYTES:
        raise _error(
            _("The label file is too large (at most %(size)d KB).")
            % {"size": settings.LABEL_FILE_MAX_BYTES // 1024}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _error(_("The label file must be UTF-8 text.")) from error


def _from_txt(text: str) -> list[LabelData]:
    names = [line.strip() for line in text.splitlines()]
    return [LabelData(key="", name=name) for name in names if name]


def _from_csv(text: str) -> list[LabelData]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["key", "name"]:
        rows = rows[1:]
    labels = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or len(row) > 3:
            raise _error(
                _("Line %(line)d must have 2 or 3 columns: key,name[,name_es].") % {"line": number}
            )
        translations = {"es": row[2].strip()} if len(row) == 3 and row[2].strip() else {}
        labels.append(LabelData(key=row[0].strip(), name=row[1].strip(), translations=translations))
    return labels


def _from_json(text: str) -> list[LabelData]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise _error(_("The JSON is not valid: %(error)s") % {"error": error.msg}) from error
    if not isinstance(items, list):
        raise _error(_("The JSON must be a list of class names or objects."))
    labels = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            labels.append(LabelData(key="", name=item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            translations = item.get("translations") or {}
            if not isinstance(translations, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in translations.items()
            ):
                raise _error(_("Item %(item)d has invalid translations.") % {"item": number})
            translations = {k: v.strip() for k, v in translations.items() if v.strip()}
            if isinstance(item.get("name_es"), str) and item["name_es"].strip():
                translations["es"] = item["name_es"].strip()
            labels.append(
                LabelData(
                    key=str(item.get("key") or "").strip(),
                    name=item["name"].strip(),
                    translations=translations,
                )
            )
        else:
            raise _error(_("Item %(item)d needs a name.") % {"item": number})
    return labels


def parse_label_file(*, filename: str, data: bytes) -> list[LabelData]:
    text = _decode(data)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    parsers = {"txt": _from_txt, "csv": _from_csv, "json": _from_json}
    if extension not in parsers:
        raise _error(_("Upload a .txt, .csv or .json label file."))
    return validate_labels(parsers[extension](text))


def validate_labels(labels: list[LabelData]) -> list[LabelData]:
    """Fills in missing keys and checks the list; returns it ready to store."""
    if len(labels) < 2:
        raise _error(_("A label set needs at least two classes."))
    if len(labels) > settings.LABEL_SET_MAX_CLASSES:
        raise _error(
            _("A label set can have at most %(max)d classes.")
            % {"max": settings.LABEL_SET_MAX_CLASSES}
        )
    result, seen = [], set()
    for number, label in enumerate(labels, start=1):
        if not label.name:
            raise _error(_("Class %(number)d has no name.") % {"number": number})
        if len(label.name) > MAX_NAME or any(
            len(v) > MAX_NAME for v in label.translations.values()
        ):
            raise _error(
                _("Class %(number)d has a name longer than %(max)d characters.")
                % {"number": number, "max": MAX_NAME}
            )
        key = label.key or slugify(label.name)[:MAX_KEY] or f"class-{number}"
        if len(key) > MAX_KEY:
            raise _error(
                _("Class %(number)d has a key longer than %(max)d characters.")
                % {"number": number, "max": MAX_KEY}
            )
        if key in seen:
            raise _error(
                _("The key “%(key)s” appears more than once (class %(number)d).")
                % {"key": key, "number": number}
            )
        seen.add(key)
        result.append(LabelData(key=key, name=label.name, translations=label.translations))
    return result
