"""Versions uploaded or validating before validations became jobs get a queued
validation; the sweep sends queued jobs that wait too long to a worker."""

from django.db import migrations


def queue(apps, schema_editor):
    ModelVersion = apps.get_model("models_registry", "ModelVersion")
    ModelValidation = apps.get_model("models_registry", "ModelValidation")
    for version in ModelVersion.objects.filter(status__in=["uploaded", "validating"]):
        ModelValidation.objects.create(version=version, status="queued")
    ModelVersion.objects.filter(status="validating").update(status="uploaded")


def unqueue(apps, schema_editor):
    ModelValidation = apps.get_model("models_registry", "ModelValidation")
    ModelValidation.objects.filter(status__in=["queued", "running"]).delete()


class Migration(migrations.Migration):
    dependencies = [("models_registry", "0004_validation_is_a_leased_job")]

    operations = [migrations.RunPython(queue, unqueue)]
