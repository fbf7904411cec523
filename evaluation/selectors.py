"""Reads for evaluation: who sees which sets, evaluations and replays.

Staff see the shared (staff) sets and everything measured on them; a user sees
their own private sets and the evaluations of their own classifiers on them.
Nobody sees another user's sets, photos or evaluations (404, as everywhere)."""

from django.db.models import Count, Q, QuerySet

from evaluation.models import Evaluation, EvaluationSet, Feedback, Replay
from models_registry.models import ModelVersion


def evaluation_sets_for(*, user) -> QuerySet[EvaluationSet]:
    mine = Q(owner=user)
    if user.is_staff:
        mine |= Q(owner__isnull=True)
    return EvaluationSet.objects.filter(mine).select_related("label_set").defer("members")


def evaluations_for(*, user) -> QuerySet[Evaluation]:
    sets = evaluation_sets_for(user=user).values("pk")
    return Evaluation.objects.filter(evaluation_set__in=sets).select_related(
        "version", "evaluation_set"
    )


def replays_for(*, user) -> QuerySet[Replay]:
    return Replay.objects.all() if user.is_staff else Replay.objects.none()


def feedback_inbox(*, user) -> QuerySet[Feedback]:
    if not user.is_staff:
        return Feedback.objects.none()
    return Feedback.objects.filter(status=Feedback.Status.INBOX, consent=True).select_related(
        "version", "prediction"
    )


def disagreement(*, version: ModelVersion | None = None):
    """How often users said an answer of a shared model was wrong, per version
    and per pair of (answered, right) classes, most frequent first. (Users'
    corrections of their own classifiers are theirs alone.)"""
    rows = Feedback.objects.filter(version__owner__isnull=True)
    if version is not None:
        rows = rows.filter(version=version)
    return (
        rows.values("version", "predicted_key", "correct_key")
        .annotate(count=Count("id"))
        .order_by("-count", "version", "predicted_key")
    )
