from django.tasks import task


@task(queue_name="models")
def model_validation_task(validation_id: int) -> None:
    from models_registry.validation_jobs import model_validation_run

    model_validation_run(validation_id=validation_id)


@task(queue_name="models")
def model_version_validate_task(version_id: int) -> None:
    """Tasks queued before validations were jobs name the version: run its job."""
    from models_registry.models import ModelValidation
    from models_registry.validation_jobs import model_validation_run

    job = ModelValidation.objects.filter(version_id=version_id, status="queued").first()
    if job is not None:
        model_validation_run(validation_id=job.pk)
