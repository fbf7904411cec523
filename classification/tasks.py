from django.tasks import task


@task(queue_name="batches")
def batch_job_run_task(job_id: int) -> None:
    from classification.services import batch_job_run

    batch_job_run(job_id=job_id)
