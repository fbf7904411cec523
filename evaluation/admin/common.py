"""Small pieces the evaluation admin pages share."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext


def percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def table(headers: list[str], rows: list[tuple]) -> str:
    """A plain HTML table for a read-only admin field (values escaped)."""
    cells = "".join(["<td>{}</td>"] * len(headers))
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((header,) for header in headers)),
        format_html_join("", f"<tr>{cells}</tr>", rows),
    )


def report_link(evaluation) -> str:
    return format_html(
        '<a href="{}">{}</a>',
        reverse("evaluation:report", args=[evaluation.pk]),
        gettext("the full report"),
    )


def version_summary(version) -> str:
    """For a model version's admin page: its evaluations with their accuracy,
    and links to measure it on a set and to replay recent answers through it."""
    rows = [
        (
            evaluation.evaluation_set,
            evaluation.get_status_display(),
            percent(evaluation.report.get("accuracy")),
            report_link(evaluation),
        )
        for evaluation in version.evaluations.filter(
            evaluation_set__owner__isnull=True
        ).select_related("evaluation_set")[:20]
    ]
    links = format_html(
        '<p><a href="{}?version={}">{}</a> · <a href="{}?candidate={}">{}</a></p>',
        reverse("admin:evaluation_evaluation_add"),
        version.pk,
        gettext("Measure it on an evaluation set"),
        reverse("admin:evaluation_replay_add"),
        version.pk,
        gettext("Replay recent answers through it before activating"),
    )
    if not rows:
        return links
    headers = [gettext("Set"), gettext("Status"), gettext("Accuracy"), gettext("Report")]
    return format_html("{}{}", table(headers, rows), links)
