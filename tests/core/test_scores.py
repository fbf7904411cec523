"""The numbers every report shows, checked on small cases worked out by hand."""

import numpy as np

from core.scores import calibration, classification_scores, suggested_thresholds


def test_accuracy_top5_per_class_and_confusion():
    probabilities = np.array(
        [
            [0.7, 0.2, 0.1],  # true 0, right
            [0.1, 0.6, 0.3],  # true 1, right
            [0.5, 0.3, 0.2],  # true 2, wrong (0)
            [0.2, 0.3, 0.5],  # true 2, right
        ]
    )
    truth = np.array([0, 1, 2, 2])
    scores = classification_scores(probabilities, truth, 3)
    assert scores["accuracy"] == 0.75 and scores["top5_accuracy"] == 1.0
    assert scores["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert scores["per_class"][0] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert scores["per_class"][2]["recall"] == 0.5
    sparse = classification_scores(probabilities, truth, 3, dense=False)
    assert sorted(sparse["confusion"]) == [[0, 0, 1], [1, 1, 1], [2, 0, 1], [2, 2, 1]]


def test_calibration_error_of_an_overconfident_model():
    confidence = np.array([0.95, 0.95, 0.95, 0.95])
    correct = np.array([True, False, True, False])
    result = calibration(confidence, correct)
    assert result["ece"] == 0.45  # 95 % sure, right half the time
    (busy,) = [b for b in result["bins"] if b["count"]]
    assert (busy["confidence"], busy["accuracy"]) == (0.95, 0.5)


def test_the_lowest_threshold_that_reaches_each_target():
    confidence = np.array([0.99, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True])
    by_target = {s["target"]: s for s in suggested_thresholds(confidence, correct)}
    assert by_target[0.9]["threshold"] == 0.8 and by_target[0.9]["answered"] == 0.6
    assert by_target[0.99]["threshold"] == 0.8  # 3 of 3 right above it
