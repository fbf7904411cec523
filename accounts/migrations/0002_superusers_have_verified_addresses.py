"""Administrators made with createsuperuser before it recorded their address
as verified could not sign in to the admin (sign-in requires a verified
address). Their own address is recorded as verified now; going back leaves
the addresses as they are (nothing tells which ones a person verified)."""

from django.db import migrations


def verify_superuser_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.filter(is_superuser=True):
        email = user.email.lower()
        if EmailAddress.objects.filter(email=email, verified=True).exclude(user=user).exists():
            continue  # someone else verified it: leave it to a person to sort out
        address = EmailAddress.objects.filter(user=user, email=email).first()
        if address is None:
            has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
            EmailAddress.objects.create(
                user=user, email=email, primary=not has_primary, verified=True
            )
        elif not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(verify_superuser_addresses, migrations.RunPython.noop),
    ]
