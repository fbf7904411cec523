"""Writes for evaluation, by idea: evaluation sets, evaluations (and their
comparison), replays before activation, and users' feedback."""

from evaluation.services.feedback import (  # noqa: F401
    feedback_dismiss,
    feedback_give,
    feedback_to_evaluation_set,
)
from evaluation.services.replays import replay_decide, replay_run, replay_start  # noqa: F401
from evaluation.services.runs import (  # noqa: F401
    evaluation_compare,
    evaluation_run,
    evaluation_start,
    right_answers,
)
from evaluation.services.sets import (  # noqa: F401
    evaluation_set_delete,
    evaluation_set_import_run,
    evaluation_set_start,
)
