from django.conf import settings
from django.db.models import Count, QuerySet

from accounts.models import User
from training.models import Classifier, ClassifierClass, Example, TrainingRun

FEW_EXAMPLES = 5  # fewer than this in a class gets a warning
CHECKS_MAX_EXAMPLES = 1000  # examples compared by the checks (the newest)


def classifier_list_for_user(*, user: User) -> QuerySet[Classifier]:
    return (
        Classifier.objects.filter(owner=user)
        .select_related("active_version")
        .annotate(class_count=Count("classes", distinct=True))
        .order_by("-created_at")
    )


def classifier_get_for_user(*, user: User, classifier_id: int) -> Classifier | None:
    return classifier_list_for_user(user=user).filter(pk=classifier_id).first()


def class_list(*, classifier: Classifier) -> list[dict]:
    """Each class with its example count and whether to warn about it."""
    low, high = settings.TRAINING_RECOMMENDED_EXAMPLES
    rows = []
    for cls in classifier.classes.annotate(n=Count("examples")).order_by("id"):
        rows.append(
            {
                "id": cls.pk,
                "name": cls.name,
                "examples": cls.n,
                "few": cls.n < FEW_EXAMPLES,
                "can_train": cls.n >= settings.TRAINING_MIN_EXAMPLES_PER_CLASS,
                "recommended": (low, high),
            }
        )
    return rows


def example_previews(*, classifier: Classifier, per_class: int) -> dict[int, list[dict]]:
    """The newest ``per_class`` examples of each class (id and file name), by
    class id: the thumbnails of the classifier's page."""
    previews: dict[int, list[dict]] = {}
    rows = (
        Example.objects.filter(classifier_class__classifier=classifier)
        .order_by("-id")
        .values("id", "classifier_class_id", "original_name")
    )
    for row in rows.iterator():
        shown = previews.setdefault(row["classifier_class_id"], [])
        if len(shown) < per_class:
            shown.append(row)
    return previews


def examples_for_class(*, cls: ClassifierClass) -> QuerySet[Example]:
    return cls.examples.order_by("-id")


def example_get_for_user(*, user: User, example_id: int) -> Example | None:
    return Example.objects.filter(pk=example_id, classifier_class__classifier__owner=user).first()


def run_list(*, classifier: Classifier) -> QuerySet[TrainingRun]:
    return classifier.runs.select_related("model_version").order_by("-number")


def run_get_for_user(*, user: User, run_id: int) -> TrainingRun | None:
    return (
        TrainingRun.objects.filter(pk=run_id, classifier__owner=user)
        .select_related("classifier", "model_version")
        .first()
    )


def active_run(*, classifier: Classifier) -> TrainingRun | None:
    return classifier.runs.filter(status__in=TrainingRun.ACTIVE).first()


def version_runs(*, classifier: Classifier) -> QuerySet[TrainingRun]:
    """The successful runs: each made one version of the classifier."""
    return run_list(classifier=classifier).filter(
        status=TrainingRun.Status.SUCCEEDED, model_version__isnull=False
    )


def run_for_version(*, user: User, version_id: int) -> TrainingRun | None:
    return (
        TrainingRun.objects.filter(model_version_id=version_id, classifier__owner=user)
        .select_related("classifier", "model_version__label_set")
        .first()
    )


def validation_items(*, run: TrainingRun, true: int | None, predicted: int | None) -> list[dict]:
    """The validation images behind one cell of the confusion matrix."""
    items = [
        item
        for item in run.metrics.get("validation", [])
        if (true is None or item["true"] == true)
        and (predicted is None or item["predicted"] == predicted)
    ]
    existing = set(
        Example.objects.filter(pk__in=[i["example"] for i in items]).values_list("pk", flat=True)
    )
    return [{**item, "exists": item["example"] in existing} for item in items]


def classifier_checks(*, classifier: Classifier) -> dict:
    """The checks on the examples (``training.checks``) from their cached
    vectors, with names for the page: ``pending`` examples have no vector yet."""
    import numpy as np

    from models_registry.selectors import training_backbone
    from training import checks, engine

    backbone = training_backbone()
    classes = list(classifier.classes.order_by("id"))
    index = {cls.pk: i for i, cls in enumerate(classes)}
    examples = Example.objects.filter(classifier_class__classifier=classifier)
    sha = backbone.onnx_sha256 if backbone else None
    total = examples.count()
    # The newest CHECKS_MAX_EXAMPLES only: memory and time stay bounded per page view.
    seen = list(
        examples.filter(embedding_backbone=sha, embedding__isnull=False)
        .order_by("-id")
        .values_list("pk", "classifier_class_id", "original_name", "embedding")[
            :CHECKS_MAX_EXAMPLES
        ]
    )
    looked = examples.filter(embedding_backbone=sha, embedding__isnull=False).count()
    report = {
        "pending": total - looked,
        "looked": len(seen),
        "limited": looked > len(seen),
        "ready": backbone is not None,
    }
    if len(seen) < 2:
        return {**report, "across": [], "within": [], "outliers": [], "alike": [], "count": 0}
    vectors = np.stack([engine.from_bytes(row[3])[0] for row in seen])
    labels = np.array([index[row[1]] for row in seen])
    found = checks.example_checks(vectors, labels, [row[0] for row in seen], len(classes))
    return {**report, **_named(found, classes, {row[0]: row[2] for row in seen})}


def _named(found: dict, classes: list, names: dict[int, str]) -> dict:
    """Class indices and example ids as the page shows them."""

    def example(pk, cls):
        return {"id": pk, "name": names.get(pk, ""), "cls": classes[cls].name}

    return {
        "across": [
            {
                "first": example(p["first"], p["first_cls"]),
                "second": example(p["second"], p["second_cls"]),
                "similarity": p["similarity"],
            }
            for p in found["across"]
        ],
        "within": [
            {
                "first": example(p["first"], p["cls"]),
                "second": example(p["second"], p["cls"]),
                "similarity": p["similarity"],
            }
            for p in found["within"]
        ],
        "outliers": [
            {
                **example(o["example"], o["cls"]),
                "distance": o["distance"],
                "nearer": classes[o["nearer"]].name if o["nearer"] is not None else "",
            }
            for o in found["outliers"]
        ],
        "alike": [
            {**a, "first": classes[a["first"]].name, "second": classes[a["second"]].name}
            for a in found["alike"]
        ],
        "count": sum(len(found[k]) for k in ("across", "within", "outliers", "alike")),
    }
