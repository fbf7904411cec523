"""A classifier of many copies of one photo: the checks list a bounded number
of findings, the closest first (training/checks.py)."""

import numpy as np

from training import checks


def test_a_thousand_copies_list_the_closest_pairs_only():
    rng = np.random.default_rng(0)
    one = rng.normal(size=(1, 64))
    vectors = np.tile(one, (400, 1)) + rng.normal(scale=1e-3, size=(400, 64))
    labels = np.array([0] * 200 + [1] * 200)
    found = checks.example_checks(vectors, labels, list(range(400)), 2)
    # 200 x 200 pairs across the classes and 2 x 19,900 within them: 50 of each listed.
    assert len(found["across"]) == len(found["within"]) == checks.LISTED
    assert len(found["outliers"]) <= checks.LISTED
    similarities = [pair["similarity"] for pair in found["across"]]
    assert similarities == sorted(similarities, reverse=True)
    assert all(p["first_cls"] != p["second_cls"] for p in found["across"])
    assert all(labels[p["first"]] == labels[p["second"]] == p["cls"] for p in found["within"])
