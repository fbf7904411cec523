from django.tasks import task


@task(queue_name="default")
def webhook_delivery_task(delivery_id: int) -> None:
    from webhooks.services import webhook_delivery_run

    webhook_delivery_run(delivery_id=delivery_id)
