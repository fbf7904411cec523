from django.db import migrations

# The scopes as they were when tokens got them; a migration keeps its own copy.
USER_SCOPES = ["classify", "history:read", "classifiers:manage"]
STAFF_SCOPES = [*USER_SCOPES, "registry:admin"]


def every_scope_their_owner_may_have(apps, schema_editor):
    """Tokens made before scopes keep working as before: each gets every scope
    a user of its owner's kind may give."""
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.filter(user__is_staff=True).update(scopes=STAFF_SCOPES)
    ApiToken.objects.filter(user__is_staff=False).update(scopes=USER_SCOPES)


def back(apps, schema_editor):
    """Going back, the scopes column disappears with the schema migration."""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_api_tokens_have_scopes_a_classifier_and_an_expiry")]

    operations = [migrations.RunPython(every_scope_their_owner_may_have, back)]
