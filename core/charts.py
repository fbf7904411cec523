"""Pictures of a report drawn as SVG by the templates (no script, no inline
style): the confusion matrix with one link per cell, and the reliability
diagram. Shared by a training run's page and an evaluation report."""

from django.utils.translation import gettext as _

MATRIX_MAX_CLASSES = 30  # above this a matrix is unreadable: the largest mistakes instead
DIAGRAM = {"width": 320, "height": 220, "margin": 34}


def cell_from_query(query, size: int) -> tuple[int, int] | None:
    """The (true, predicted) cell chosen in ``?true=&predicted=``, if valid."""
    try:
        true, predicted = int(query["true"]), int(query["predicted"])
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    return (true, predicted) if 0 <= true < size and 0 <= predicted < size else None


def _cell(i: int, j: int, count: int, total: int, names: list[str], layout: dict, chosen):
    return {
        "true": i,
        "predicted": j,
        "count": count,
        "x": layout["margin"] + j * layout["size"],
        "y": layout["margin"] + i * layout["size"],
        # At most 70 % opaque: the count stays readable on every cell, in
        # light and dark mode (WCAG AA contrast).
        "shade": round(0.06 + 0.64 * count / (total or 1), 2),
        "correct": i == j,
        "selected": chosen == (i, j),
        "label": _("%(count)d of “%(true)s” taken for “%(predicted)s”")
        % {"count": count, "true": names[i], "predicted": names[j]},
    }


def confusion_picture(confusion: list[list[int]], names: list[str], chosen=None) -> dict | None:
    """A dense confusion matrix laid out for an SVG picture, or None when there
    is none or it has too many classes to read."""
    n = len(names)
    if not confusion or n > MATRIX_MAX_CLASSES or len(confusion) != n:
        return None
    size = max(24, min(60, 480 // max(n, 1)))
    longest = max((min(len(name), 20) for name in names), default=1)
    layout = {"size": size, "margin": 20 + 7 * longest}  # room for names (20 characters)
    cells = [
        _cell(i, j, count, sum(row), names, layout, chosen)
        for i, row in enumerate(confusion)
        for j, count in enumerate(row)
    ]
    margin = layout["margin"]
    return {
        **layout,
        "width": margin + n * size + 10,
        "height": margin + n * size + 10,
        "cells": cells,
        "rows": [
            {"name": name, "y": margin + i * size + size // 2, "x": margin + i * size + size // 2}
            for i, name in enumerate(names)
        ],
        "text": size // 2 + 5,
    }


def reliability_picture(bins: list[dict]) -> dict | None:
    """The reliability diagram: one bar per confidence band, as high as the
    share of right answers in it, against the diagonal a calibrated model
    follows."""
    if not any(band.get("count") for band in bins):
        return None
    width, height, margin = DIAGRAM["width"], DIAGRAM["height"], DIAGRAM["margin"]
    plot_w, plot_h = width - margin - 10, height - 2 * margin
    step = plot_w / len(bins)
    bars = []
    for n, band in enumerate(bins):
        accuracy = band.get("accuracy") or 0
        bars.append(
            {
                **band,
                "x": round(margin + n * step + 1, 1),
                "width": round(step - 2, 1),
                "y": round(height - margin - accuracy * plot_h, 1),
                "height": round(accuracy * plot_h, 1),
                "label": _("%(low)s–%(high)s sure: %(count)d photos, %(right)s%% right")
                % {
                    "low": f"{band['low']:.1f}",
                    "high": f"{band['high']:.1f}",
                    "count": band.get("count", 0),
                    "right": round(100 * accuracy),
                },
            }
        )
    return {
        **DIAGRAM,
        "bars": bars,
        "left": margin,
        "right": margin + plot_w,
        "top": margin,
        "bottom": height - margin,
        "ticks": [
            {
                "value": f"{v:.1f}",
                "x": round(margin + v * plot_w, 1),
                "y": round(height - margin - v * plot_h, 1),
            }
            for v in (0.0, 0.5, 1.0)
        ],
    }
