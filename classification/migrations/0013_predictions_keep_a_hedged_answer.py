from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classification", "0012_batch_item_errors_recorded_as_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="hedged",
            field=models.JSONField(blank=True, null=True, verbose_name="hedged answer"),
        ),
    ]
