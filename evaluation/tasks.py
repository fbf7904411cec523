"""Evaluation jobs run on the batch workers: they need ONNX Runtime and
Pillow, not TensorFlow."""

from django.tasks import task


@task(queue_name="batches")
def evaluation_set_import_task(set_id: int) -> None:
    from evaluation.services import evaluation_set_import_run

    evaluation_set_import_run(set_id=set_id)


@task(queue_name="batches")
def evaluation_run_task(evaluation_id: int) -> None:
    from evaluation.services import evaluation_run

    evaluation_run(evaluation_id=evaluation_id)


@task(queue_name="batches")
def replay_run_task(replay_id: int) -> None:
    from evaluation.services import replay_run

    replay_run(replay_id=replay_id)
