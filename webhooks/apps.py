from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from core.jobs import job_ended
        from webhooks import services

        job_ended.connect(services.on_job_ended, dispatch_uid="webhooks-job-ended")
