"""Writes for custom classifiers, by idea: classifiers, examples, training runs
(and the job a worker runs). Everything is re-exported here."""

from core.uploads import Upload, uploads_from_files  # noqa: F401  (callers build uploads)
from training.services.classifiers import (  # noqa: F401
    class_add,
    class_delete,
    classifier_create,
    classifier_delete,
    classifier_rename,
    classifier_set_distance_threshold,
    classifier_set_threshold,
    classifier_use_version,
)
from training.services.embeddings import examples_look  # noqa: F401
from training.services.examples import example_delete, examples_add  # noqa: F401
from training.services.imports import (  # noqa: F401
    example_import_run,
    example_import_start,
    examples_receive,
)
from training.services.job import training_run  # noqa: F401
from training.services.runs import training_cancel, training_start  # noqa: F401
