"""How far to trust a trained classifier's answer, fitted on its validation
photos (pure numpy; the worker stores the results on the run):

- temperature scaling: one number that divides the head's logits so that its
  confidences read as probabilities (expected calibration error before and
  after, from ``core.scores``);
- "none of these" by distance: each photo's cosine distance to the nearest
  class centroid of the training examples, and the distance above which a
  photo is unlike the examples, chosen so that a target share of photos like
  them would be turned away: the validation photos, and each training photo
  measured against its class's centroid computed without it.
"""

import numpy as np

from core.scores import calibration

TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 121))
NONE_OF_THESE_RATE = 0.05  # validation photos wrongly answered "none of these"
DISTANCE_STEPS = 8  # rows of the table a threshold is chosen from


def _r(value: float) -> float:
    return round(float(value), 4)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


# Temperature
# ------------------------------------------------------------------------------


def _nll(logits: np.ndarray, truth: np.ndarray, temperature: float) -> float:
    probabilities = softmax(logits / temperature)
    return float(-np.mean(np.log(probabilities[np.arange(len(truth)), truth] + 1e-12)))


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature (between 0.25 and 4) that minimises the negative
    log-likelihood of the true classes. The bounds keep a handful of
    validation photos, all answered right, from making every answer certain."""
    if not len(truth):
        return 1.0
    losses = [_nll(logits, truth, t) for t in TEMPERATURES]
    return _r(TEMPERATURES[int(np.argmin(losses))])


def calibration_report(logits: np.ndarray, truth: np.ndarray, temperature: float) -> dict:
    """Expected calibration error before and after, and the diagram's bins after."""
    truth = np.asarray(truth, dtype=int)

    def measure(probabilities):
        return calibration(probabilities.max(axis=1), probabilities.argmax(axis=1) == truth)

    before, after = measure(softmax(logits)), measure(softmax(logits / temperature))
    return {
        "temperature": temperature,
        "ece_before": before["ece"],
        "ece_after": after["ece"],
        "bins_before": before["bins"],
    }


# "None of these" by distance
# ------------------------------------------------------------------------------


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def centroids(features: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """One direction per class: the mean of its examples' unit feature vectors."""
    directions = unit(features)
    return unit(np.stack([directions[labels == c].mean(axis=0) for c in range(num_classes)]))


def distances(features: np.ndarray, class_centroids: np.ndarray) -> np.ndarray:
    """Cosine distance to the nearest centroid (what the exported model computes)."""
    return 1.0 - (unit(features) @ unit(class_centroids).T).max(axis=1)


def left_out_distances(train: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``train``: (N, 2, width) training photos and their mirrors. Each photo's
    distance to the nearest centroid, its own class's computed without it (and
    its mirror): more photos unseen by their centroid than the validation
    photos alone, for a steadier threshold when a classifier has few examples."""
    units = unit(train)
    sums = np.stack([units[labels == c].sum(axis=(0, 1)) for c in range(num_classes)])
    counts = np.array([2 * (labels == c).sum() for c in range(num_classes)])
    images = units[:, 0]
    sims = images @ unit(sums).T
    own = sums[labels] - units.sum(axis=1)
    alone = counts[labels] <= 2  # a class of one: nothing left to compare with
    sims[np.arange(len(labels)), labels] = np.where(alone, -1.0, (images * unit(own)).sum(axis=1))
    return 1.0 - sims.max(axis=1)


def distance_threshold(validation: np.ndarray, rate: float = NONE_OF_THESE_RATE) -> float | None:
    """The distance beyond which at most ``rate`` of the validation photos lie."""
    if not len(validation):
        return None
    return _r(np.quantile(validation, 1.0 - rate, method="higher") + 1e-4)


def distance_table(validation: np.ndarray, chosen: float | None) -> list[dict]:
    """For thresholds around the chosen one: the share of validation photos
    (photos like the examples) that would be answered "none of these"."""
    if not len(validation) or chosen is None:
        return []
    top = max(chosen * 2, float(validation.max()) * 1.2, 0.05)
    steps = np.linspace(top / DISTANCE_STEPS, top, DISTANCE_STEPS)
    values = sorted({round(float(v), 2) for v in steps} | {round(chosen, 2)})
    chosen = round(chosen, 2)
    return [
        {"threshold": v, "turned_away": _r((validation > v).mean()), "chosen": v == chosen}
        for v in values
    ]


def novelty_report(
    validation: np.ndarray, left_out: np.ndarray, rate: float = NONE_OF_THESE_RATE
) -> dict:
    """The threshold from the validation photos and the left-out training
    photos together; the table shows its effect on the validation photos."""
    pooled = np.concatenate([validation, left_out])
    threshold = distance_threshold(pooled, rate)
    return {
        "target_rate": rate,
        "threshold": threshold,
        "photos": len(pooled),
        "turned_away": _r((pooled > threshold).mean()) if len(pooled) else 0.0,
        "validation_distances": [_r(d) for d in np.sort(validation)],
        "table": distance_table(validation, threshold),
    }
