from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classification", "0010_classifications_remember_their_alias"),
    ]

    operations = [
        migrations.AddField(
            model_name="batchitem",
            name="error_code",
            field=models.CharField(blank=True, max_length=50, verbose_name="error code"),
        ),
        migrations.AddField(
            model_name="batchitem",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="error details"),
        ),
    ]
