from django.tasks import task


@task(queue_name="models")
def model_version_validate_task(version_id: int) -> None:
    from models_registry.validation import model_version_validate

    model_version_validate(version_id=version_id)
