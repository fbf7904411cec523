"""Hedged answers: when no class reaches the confidence asked for, the smallest
broader class that does ("a dog, 97 %" rather than "beagle, 31 %"), with the
classes that add up to it.

Broader classes are WordNet's hypernyms of ImageNet's classes and the groups
of administrators' groupings (``models_registry.selectors.broader_classes``).
"""

import numpy as np
from django.conf import settings

from models_registry.models import ModelVersion
from models_registry.selectors import broader_classes, label_names_for_set

CONTRIBUTORS = 5  # classes listed under a hedged answer (the largest shares)
CONTRIBUTOR_MIN = 0.005  # below half a percent a class adds nothing worth reading


def hedge_threshold(
    *, version: ModelVersion, min_confidence: float | None, hedge: bool = True
) -> float | None:
    """The confidence asked for: the request's ``min_confidence``, else the
    model's own threshold, else ``CLASSIFY_HEDGE_CONFIDENCE``; None: no hedging."""
    if not hedge:
        return None
    if min_confidence is not None:  # 0 asks for no hedging
        return float(min_confidence)
    if version.confidence_threshold:
        return float(version.confidence_threshold)
    return float(settings.CLASSIFY_HEDGE_CONFIDENCE)


def hedge(probabilities: np.ndarray, version: ModelVersion, *, threshold: float) -> dict | None:
    """The hedged answer for one photo's probabilities (as stored on its
    prediction), or None when a class reaches ``threshold`` or nothing
    broader than one class does."""
    if float(probabilities.max()) >= threshold:
        return None
    broader = broader_classes(label_set=version.label_set)
    if broader is None:
        return None
    sums = probabilities.astype(np.float32) @ broader.matrix
    reached = np.nonzero(sums >= threshold)[0]
    if not reached.size:
        return None
    sizes = broader.sizes[reached]
    smallest = reached[sizes == sizes.min()]
    best = int(smallest[np.argmax(sums[smallest])])
    members = np.nonzero(broader.matrix[:, best])[0]
    members = members[np.argsort(-probabilities[members], kind="stable")]
    keys = label_names_for_set(label_set=version.label_set, language="en")
    contributors = [
        {"index": int(i), "key": keys[i][0], "probability": round(float(probabilities[i]), 6)}
        for i in members[:CONTRIBUTORS]
        if probabilities[i] >= CONTRIBUTOR_MIN
    ]
    return {
        "key": broader.keys[best],
        "name": broader.names[best],
        "translations": broader.translations[best],
        "source": broader.sources[best],
        "confidence": round(float(sums[best]), 6),
        "threshold": threshold,
        "classes": len(members),
        "contributors": contributors,
    }


def hedged_for_display(*, prediction, language: str) -> dict | None:
    """A prediction's stored hedged answer, names in ``language``."""
    stored = prediction.hedged
    if not stored:
        return None
    language = language.split("-")[0]
    names = label_names_for_set(label_set=prediction.label_set, language=language)
    return {
        "key": stored["key"],
        "name": stored.get("translations", {}).get(language) or stored["name"],
        "confidence": stored["confidence"],
        "threshold": stored["threshold"],
        "classes": stored["classes"],
        "contributors": [
            {"key": c["key"], "name": names[c["index"]][1], "probability": c["probability"]}
            for c in stored["contributors"]
        ],
    }
