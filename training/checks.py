"""Checks on a classifier's examples, from their cached feature vectors (pure
numpy; cosine similarity between unit vectors):

- the same photo in two classes (near-duplicates across classes);
- the same photo twice in one class, which can land on both sides of the
  validation split and make the accuracy look better than it is;
- outliers: an example far from the rest of its class, or nearer another class;
- classes too alike: many examples nearer the other class's centre;

and, after a training, a learning curve on the run's own photos: how the
mistakes fall with more examples per class, and how many more would halve them.
"""

import math

import numpy as np

DUPLICATE = 0.97  # re-encoded copies of one photo measure 0.97-1.0
OUTLIER_MIN_DISTANCE = 0.35  # varied photos of one thing stay within ~0.2 of their class
OUTLIER_SPREAD = 3.0  # ... and within 3x the class's median distance
ALIKE_SHARE = 0.2  # a fifth of two classes' examples nearer the other class
ALIKE_CENTRES = 0.9  # or centres this similar (different things measure below ~0.6)
CURVE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
CURVE_REPEATS = 3
CURVE_MAX_FACTOR = 10  # beyond 10x the examples, the estimate says "many more"
LISTED = 50  # findings of one kind listed at once (fixing them shows the next)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _r(value: float) -> float:
    return round(float(value), 4)


def _duplicates(sims: np.ndarray, labels: np.ndarray, ids: list[int]) -> tuple[list, list]:
    """Pairs of near-identical examples across classes and within one, the
    closest ``LISTED`` of each (a class of a thousand copies is a million pairs)."""
    rows, cols = np.nonzero(np.triu(sims >= DUPLICATE, k=1))
    same = labels[rows] == labels[cols]
    found = []
    for mask in (~same, same):
        r, c = rows[mask], cols[mask]
        order = np.argsort(-sims[r, c], kind="stable")[:LISTED]
        found.append([(int(r[k]), int(c[k])) for k in order])
    across = [
        {
            "first": ids[i],
            "second": ids[j],
            "similarity": _r(sims[i, j]),
            "first_cls": int(labels[i]),
            "second_cls": int(labels[j]),
        }
        for i, j in found[0]
    ]
    within = [
        {"first": ids[i], "second": ids[j], "similarity": _r(sims[i, j]), "cls": int(labels[i])}
        for i, j in found[1]
    ]
    return across, within


def _loo_similarities(units: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, C): each example's similarity to every class's centre, its own class's
    centre computed without it (leave one out)."""
    sums = np.stack([units[labels == c].sum(axis=0) for c in range(num_classes)])
    sims = np.empty((len(units), num_classes))
    for c in range(num_classes):
        sims[:, c] = units @ _unit(sums[c])
    own = sums[labels] - units
    norms = np.linalg.norm(own, axis=1)
    own_sims = np.where(norms > 1e-9, (units * own).sum(axis=1) / np.maximum(norms, 1e-12), 1.0)
    sims[np.arange(len(units)), labels] = own_sims
    return sims


def _outliers(sims: np.ndarray, labels: np.ndarray, ids: list[int]) -> list[dict]:
    distance = 1.0 - sims[np.arange(len(labels)), labels]
    found = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < 3:
            continue
        limit = max(OUTLIER_MIN_DISTANCE, OUTLIER_SPREAD * float(np.median(distance[members])))
        for i in members:
            others = sims[i].copy()
            others[c] = -np.inf
            nearer = int(others.argmax()) if others.max() > sims[i, c] else None
            if distance[i] > limit or nearer is not None:
                found.append(
                    {
                        "example": ids[i],
                        "cls": int(c),
                        "distance": _r(distance[i]),
                        "nearer": nearer,
                    }
                )
    return sorted(found, key=lambda f: -f["distance"])[:LISTED]


def _alike(units: np.ndarray, sims: np.ndarray, labels: np.ndarray, num_classes: int) -> list:
    """Pairs of classes whose centres nearly coincide, or whose examples are
    often nearer the other class's centre."""
    nearest = sims.argmax(axis=1)
    centres = _unit(np.stack([units[labels == c].sum(axis=0) for c in range(num_classes)]))
    found = []
    for a in range(num_classes):
        for b in range(a + 1, num_classes):
            in_pair = (labels == a) | (labels == b)
            if not ((labels == a).any() and (labels == b).any()):
                continue  # a class with no example looked at yet
            crossed = ((labels == a) & (nearest == b)) | ((labels == b) & (nearest == a))
            share = crossed.sum() / max(1, in_pair.sum())
            similarity = float(centres[a] @ centres[b])
            if share >= ALIKE_SHARE or similarity >= ALIKE_CENTRES:
                found.append(
                    {"first": a, "second": b, "share": _r(share), "similarity": _r(similarity)}
                )
    return found


def example_checks(vectors: np.ndarray, labels: np.ndarray, ids: list[int], num_classes: int):
    """``vectors``: (N, width) features of the examples (the images, not their
    mirrors); ``labels``: each one's class index. Example ids and class indices
    in the answer."""
    labels = np.asarray(labels, dtype=int)
    if len(vectors) < 2:
        return {"across": [], "within": [], "outliers": [], "alike": []}
    units = _unit(np.asarray(vectors, dtype=np.float64))
    across, within = _duplicates(units @ units.T, labels, ids)
    loo = _loo_similarities(units, labels, num_classes)
    return {
        "across": across,
        "within": within,
        "outliers": _outliers(loo, labels, ids),
        "alike": _alike(units, loo, labels, num_classes),
    }


def split_leaks(train: np.ndarray, validation: np.ndarray) -> int:
    """Validation photos with a near-duplicate among the training photos."""
    if not len(train) or not len(validation):
        return 0
    return int(((_unit(validation) @ _unit(train).T).max(axis=1) >= DUPLICATE).sum())


# The learning curve
# ------------------------------------------------------------------------------


def _fit_softmax(x: np.ndarray, y: np.ndarray, num_classes: int, steps: int = 150) -> np.ndarray:
    """A plain softmax regression (numpy, full batch): cheap enough to fit a
    dozen times, close enough to the real head to show a trend."""
    x = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros((x.shape[1], num_classes))
    onehot = np.eye(num_classes)[y]
    for _ in range(steps):
        logits = x @ weights
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        weights -= 2.0 * (x.T @ (p - onehot) / len(x) + 1e-3 * weights)
    return weights


def _error(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    x = np.hstack([x, np.ones((len(x), 1))])
    return float(((x @ weights).argmax(axis=1) != y).mean())


def _subset(labels: np.ndarray, fraction: float, rng) -> np.ndarray:
    chosen = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        chosen += list(members[: max(1, round(len(members) * fraction))])
    return np.array(sorted(chosen))


def learning_curve(
    train: np.ndarray, train_labels: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, seed=0
) -> dict:
    """``train``: (N, 2, width) the training photos and their mirrors. The error
    on the validation photos when learning from a quarter, half... of them, and
    how many more examples per class would roughly halve the mistakes (a power
    law fitted to the curve), or why there is no estimate."""
    rng = np.random.default_rng(seed)
    num_classes = int(max(train_labels.max(), y_val.max())) + 1
    units_val = _unit(x_val)
    points = []
    for fraction in CURVE_FRACTIONS:
        errors, sizes = [], []
        for _ in range(CURVE_REPEATS if fraction < 1 else 1):
            chosen = _subset(train_labels, fraction, rng)
            x = _unit(train[chosen].reshape(-1, train.shape[2]))
            weights = _fit_softmax(x, np.repeat(train_labels[chosen], 2), num_classes)
            errors.append(_error(weights, units_val, y_val))
            sizes.append(len(chosen) / num_classes)
        points.append({"per_class": _r(np.mean(sizes)), "error": _r(np.mean(errors))})
    return {"points": points, **_estimate(points)}


def _estimate(points: list[dict]) -> dict:
    now = points[-1]
    if now["error"] == 0:
        return {"more_per_class": None, "reason": "no_mistakes"}
    usable = [p for p in points if p["error"] > 0]
    if len(usable) < 2:
        return {"more_per_class": None, "reason": "flat"}
    slope, _intercept = np.polyfit(
        np.log([p["per_class"] for p in usable]), np.log([p["error"] for p in usable]), 1
    )
    if slope > -0.05:  # the mistakes do not fall with more examples
        return {"more_per_class": None, "reason": "flat"}
    factor = 2 ** (1 / -slope)
    if factor > CURVE_MAX_FACTOR:
        return {"more_per_class": None, "reason": "many"}
    return {
        "more_per_class": math.ceil(now["per_class"] * (factor - 1)),
        "error_now": now["error"],
        "error_then": _r(now["error"] / 2),
        "reason": "",
    }
