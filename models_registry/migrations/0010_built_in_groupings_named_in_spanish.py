"""The groupings shipped with the project (models_registry/data/groupings),
already made by bootstrap_models before their names could be translated, get
their Spanish names. An administrator's own translation is kept; going back
removes only the names written here."""

from django.db import migrations

SPANISH = {
    "Pets": "Mascotas",
    "Animals, vehicles, food, landscapes": "Animales, vehículos, comida, paisajes",
}


def _built_in_groupings(apps):
    LabelSet = apps.get_model("models_registry", "LabelSet")
    return LabelSet.objects.filter(
        name__in=SPANISH, grouping_of__isnull=False, owner__isnull=True
    )


def name_in_spanish(apps, schema_editor):
    for label_set in _built_in_groupings(apps):
        if not label_set.translations.get("es"):
            label_set.translations = {**label_set.translations, "es": SPANISH[label_set.name]}
            label_set.save(update_fields=["translations"])


def forget_spanish_names(apps, schema_editor):
    for label_set in _built_in_groupings(apps):
        if label_set.translations.get("es") == SPANISH[label_set.name]:
            label_set.translations = {
                code: text for code, text in label_set.translations.items() if code != "es"
            }
            label_set.save(update_fields=["translations"])


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0009_label_sets_have_translated_names"),
    ]

    operations = [
        migrations.RunPython(name_in_spanish, forget_spanish_names),
    ]
