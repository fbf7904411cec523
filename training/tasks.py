from django.tasks import task


@task(queue_name="training")
def training_run_task(run_id: int) -> None:
    from training.services import training_run

    training_run(run_id=run_id)
