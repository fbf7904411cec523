"""How well a classifier answers, from its probabilities and the true classes:
the one place the site computes accuracy, per-class precision/recall/F1, the
confusion matrix, the effect of a "none of these" threshold, and calibration.
Used by training runs (validation photos) and evaluations (evaluation sets).
Pure numpy; every number rounded for storing as JSON."""

import itertools

import numpy as np

THRESHOLDS = [round(float(t), 2) for t in np.arange(0.0, 1.0, 0.05)]
TARGET_ACCURACIES = (0.9, 0.95, 0.99)
CALIBRATION_BINS = 10


def _r(value: float) -> float:
    return round(float(value), 4)


def per_class_scores(confusion: np.ndarray) -> list[dict]:
    """Rows: true class; columns: predicted class."""
    tp = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0).astype(float)
    actual = confusion.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return [
        {"precision": _r(p), "recall": _r(r), "f1": _r(f), "support": int(s)}
        for p, r, f, s in zip(precision, recall, f1, actual, strict=True)
    ]


def threshold_table(confidence: np.ndarray, correct: np.ndarray) -> list[dict]:
    """For each threshold: the share of photos answered (confidence at least
    the threshold; the rest are "none of these") and the accuracy on them."""
    rows = []
    for threshold in THRESHOLDS:
        answered = confidence >= threshold
        rows.append(
            {
                "threshold": threshold,
                "answered": _r(answered.mean()) if len(answered) else 0.0,
                "accuracy": _r(correct[answered].mean()) if answered.any() else None,
            }
        )
    return rows


def suggested_thresholds(confidence: np.ndarray, correct: np.ndarray) -> list[dict]:
    """For each target accuracy, the lowest threshold whose answered photos
    reach it (answering as many as possible), or None when none does."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    counts = np.arange(1, len(order) + 1)
    accuracy = hits / counts if len(order) else np.array([])
    suggestions = []
    for target in TARGET_ACCURACIES:
        reaching = np.nonzero(accuracy >= target)[0]
        if not len(reaching):
            suggestions.append({"target": target, "threshold": None, "answered": 0.0})
            continue
        last = reaching[-1]
        suggestions.append(
            {
                "target": target,
                "threshold": _r(confidence[order[last]]),
                "answered": _r((last + 1) / len(order)),
                "accuracy": _r(accuracy[last]),
            }
        )
    return suggestions


def calibration(confidence: np.ndarray, correct: np.ndarray) -> dict:
    """Expected calibration error and the reliability diagram's bins: in each
    confidence band, how confident the answers were and how often right."""
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins, error = [], 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high) if low else confidence <= high
        count = int(inside.sum())
        if count:
            mean_confidence, accuracy = confidence[inside].mean(), correct[inside].mean()
            error += count / len(confidence) * abs(mean_confidence - accuracy)
            bins.append(
                {
                    "low": _r(low),
                    "high": _r(high),
                    "count": count,
                    "confidence": _r(mean_confidence),
                    "accuracy": _r(accuracy),
                }
            )
        else:
            bins.append({"low": _r(low), "high": _r(high), "count": 0})
    return {"ece": _r(error), "bins": bins}


def classification_scores(
    probabilities: np.ndarray, truth: np.ndarray, num_classes: int, *, dense: bool = True
) -> dict:
    """Everything above for one set of answers. ``dense``: the confusion matrix
    as a full table (a few classes); otherwise only its non-zero cells as
    ``[true, predicted, count]`` and per-class rows for classes that occur."""
    truth = np.asarray(truth, dtype=int)
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = predicted == truth
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    top = min(5, num_classes)
    top5 = np.argsort(-probabilities, axis=1)[:, :top]
    scores = {
        "accuracy": _r(correct.mean()) if len(correct) else 0.0,
        "top5_accuracy": _r((top5 == truth[:, None]).any(axis=1).mean()) if len(correct) else 0.0,
        "photos": len(truth),
        "thresholds": threshold_table(confidence, correct),
        "suggested_thresholds": suggested_thresholds(confidence, correct),
        "calibration": calibration(confidence, correct),
    }
    rows = per_class_scores(confusion)
    if dense:
        scores["per_class"] = rows
        scores["confusion"] = confusion.tolist()
    else:
        seen = np.nonzero(confusion.sum(axis=0) + confusion.sum(axis=1))[0]
        scores["per_class"] = {int(c): rows[c] for c in seen}
        cells = np.nonzero(confusion)
        scores["confusion"] = [
            [int(t), int(p), int(confusion[t, p])] for t, p in zip(*cells, strict=True)
        ]
    return scores
