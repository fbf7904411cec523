"""An evaluation's report laid out for a page: class names in the reader's
language, the per-class table (worst first), the confusion matrix as a picture
for a few classes or its largest mistakes for many, the photos behind a chosen
cell, the reliability diagram and the suggested "none of these" thresholds."""

from django.db.models import Count
from django.utils.translation import get_language

from core.charts import cell_from_query, confusion_picture, reliability_picture
from evaluation.models import Evaluation, EvaluationPhoto
from evaluation.services.sets import class_reference
from models_registry.selectors import label_names_for_set

MISTAKES_SHOWN = 20
CELL_PHOTOS_SHOWN = 200


def class_names(version) -> list[str]:
    language = get_language() or "en"
    return [
        name for _key, name in label_names_for_set(label_set=version.label_set, language=language)
    ]


def set_classes(evaluation_set) -> list[dict]:
    """How many photos of each class a set holds, classes by name."""
    language = get_language() or "en"
    labels = evaluation_set.label_set.labels.order_by("index")
    names = {
        class_reference(evaluation_set.label_set, label): label.name_in(language)
        for label in labels
    }
    counts = evaluation_set.photos.values("label_key").annotate(count=Count("id"))
    rows = [
        {"name": names.get(row["label_key"], row["label_key"]), "count": row["count"]}
        for row in counts
    ]
    return sorted(rows, key=lambda row: row["name"].lower())


def _cells(report: dict) -> list[tuple[int, int, int]]:
    """The confusion matrix's non-empty cells: (true, predicted, count)."""
    confusion = report.get("confusion", [])
    if isinstance(report.get("per_class"), dict):  # many classes: stored sparse
        return [tuple(cell) for cell in confusion]
    return [(t, p, n) for t, row in enumerate(confusion) for p, n in enumerate(row) if n]


def _per_class(report: dict, names: list[str]) -> list[dict]:
    rows = report.get("per_class", [])
    pairs = rows.items() if isinstance(rows, dict) else enumerate(rows)
    table = [
        {"index": int(index), "name": names[int(index)], **row}
        for index, row in pairs
        if row.get("support")
    ]
    return sorted(table, key=lambda row: (row["f1"], -row["support"]))


def _cell_photos(evaluation: Evaluation, report: dict, chosen) -> list[dict]:
    """The photos of the chosen cell, with how sure the model was."""
    rows = [row for row in report.get("answers", []) if (row[1], row[2]) == chosen]
    rows = rows[:CELL_PHOTOS_SHOWN]
    photos = EvaluationPhoto.objects.filter(evaluation_set_id=evaluation.evaluation_set_id).in_bulk(
        [row[0] for row in rows]
    )
    return [{"photo": photos[row[0]], "confidence": row[3]} for row in rows if row[0] in photos]


def report_context(evaluation: Evaluation, *, query) -> dict:
    report = evaluation.report or {}
    if not report:
        return {"evaluation": evaluation, "report": report}
    names = class_names(evaluation.version)
    chosen = cell_from_query(query, len(names))
    mistakes = sorted((c for c in _cells(report) if c[0] != c[1]), key=lambda c: -c[2])
    dense = not isinstance(report.get("per_class"), dict)
    return {
        "evaluation": evaluation,
        "report": report,
        "names": names,
        "per_class": _per_class(report, names),
        "matrix": confusion_picture(report["confusion"], names, chosen) if dense else None,
        "mistakes": [
            {
                "true": t,
                "predicted": p,
                "count": n,
                "true_name": names[t],
                "predicted_name": names[p],
            }
            for t, p, n in mistakes[:MISTAKES_SHOWN]
        ],
        "cell": chosen,
        "cell_true": names[chosen[0]] if chosen else "",
        "cell_predicted": names[chosen[1]] if chosen else "",
        "cell_items": _cell_photos(evaluation, report, chosen) if chosen else [],
        "diagram": reliability_picture(report.get("calibration", {}).get("bins", [])),
    }


def comparison_context(before: Evaluation, after: Evaluation, comparison: dict) -> dict:
    """The comparison with class keys shown as names and the changed photos."""
    language = get_language() or "en"
    names = dict(label_names_for_set(label_set=after.version.label_set, language=language))
    for key, name in label_names_for_set(label_set=before.version.label_set, language=language):
        names.setdefault(key, name)
    changed = comparison["changed"][:CELL_PHOTOS_SHOWN]
    photos = EvaluationPhoto.objects.filter(evaluation_set_id=after.evaluation_set_id).in_bulk(
        [row["photo"] for row in changed]
    )

    def named(key: str) -> str:
        return names.get(key, key)

    return {
        "before": before,
        "after": after,
        "numbers": comparison["numbers"],
        "classes": [{**row, "name": named(row["class"])} for row in comparison["classes"]],
        "changed": [
            {
                **row,
                "file": photos.get(row["photo"]),
                "true_name": named(row["true"]),
                "before_name": named(row["before"]),
                "after_name": named(row["after"]),
            }
            for row in changed
        ],
        "changed_total": len(comparison["changed"]),
        "fixed": sum(row["fixed"] for row in comparison["changed"]),
        "broken": sum(row["broken"] for row in comparison["changed"]),
    }
