"""The administrator's side of changing a model safely: shared evaluation
sets, evaluations (with their reports), replays with approve and cancel, and
the feedback inbox with its disagreement table. Every write calls a service;
users' private sets and their feedback on their own classifiers stay out."""

from evaluation.admin import feedback, replays, sets  # noqa: F401
