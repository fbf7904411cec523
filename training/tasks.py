from django.tasks import task


@task(queue_name="training")
def training_run_task(run_id: int) -> None:
    from training.services import training_run

    training_run(run_id=run_id)


@task(queue_name="batches")
def example_import_task(import_id: int) -> None:
    """Decoding needs no TensorFlow: the batch workers take it."""
    from training.services import example_import_run

    example_import_run(import_id=import_id)
