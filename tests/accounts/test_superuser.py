"""An administrator made by ``make superuser`` or ``createsuperuser`` opens
/admin/ at once: their address is recorded as verified (sign-in requires a
verified address, and the verification email is not needed for them)."""

import importlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "violet-Tangerine-42-kayak"


def _sign_in(client, email, password=STRONG):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_createsuperuser_makes_an_admin_who_opens_the_admin_at_once(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
    call_command("createsuperuser", interactive=False, email="Boss@Example.org", verbosity=0)
    admin = User.objects.get(email="Boss@example.org")
    address = EmailAddress.objects.get(user=admin)
    assert (address.email, address.verified, address.primary) == ("boss@example.org", True, True)

    response = _sign_in(client, "boss@example.org")
    assert response.status_code == 302
    assert response.url == reverse("classification:classify")  # not "verify your email"
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_user_who_signed_up_still_verifies_their_address(client, mailoutbox):
    """Only administrators made from the shell skip the email: sign-up is unchanged."""
    client.post(
        reverse("account_signup"),
        {"email": "someone@example.com", "password1": STRONG, "password2": STRONG},
    )
    assert not EmailAddress.objects.get(email="someone@example.com").verified
    assert len(mailoutbox) == 1


def test_migration_lets_earlier_administrators_in(client):
    """Superusers made before the change: one who tried to sign in (allauth
    recorded an unverified address) and one who never did."""
    stuck = User.objects.create(email="stuck@example.org", is_staff=True, is_superuser=True)
    stuck.set_password(STRONG)
    stuck.save()
    EmailAddress.objects.create(user=stuck, email=stuck.email, primary=True, verified=False)
    never = User.objects.create(email="Never@example.org", is_staff=True, is_superuser=True)
    plain = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=plain, email=plain.email, primary=True, verified=False)
    assert _sign_in(client, stuck.email).url == reverse("account_email_verification_sent")

    migration = importlib.import_module(
        "accounts.migrations.0002_superusers_have_verified_addresses"
    )
    migration.verify_superuser_addresses(apps, None)

    assert EmailAddress.objects.get(user=stuck).verified
    created = EmailAddress.objects.get(user=never)
    assert (created.email, created.verified, created.primary) == ("never@example.org", True, True)
    assert not EmailAddress.objects.get(user=plain).verified  # not an administrator
    client.logout()
    assert _sign_in(client, stuck.email).url == reverse("classification:classify")
    assert client.get(reverse("admin:index")).status_code == 200


def test_make_superuser_records_a_verified_address(tmp_path):
    """The Makefile target, run as a person would (no terminal: the
    DJANGO_SUPERUSER_* variables answer), on a fresh SQLite database."""
    database = tmp_path / "db.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SUPERUSER_EMAIL": "Admin@Example.org",
        "DJANGO_SUPERUSER_PASSWORD": STRONG,
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "superuser"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Superuser created successfully." in result.stdout
    assert "/admin/" in result.stdout
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            'SELECT u.is_superuser, a.email, a.verified, a."primary" '
            "FROM accounts_user u JOIN account_emailaddress a ON a.user_id = u.id"
        ).fetchall()
    assert rows == [(1, "admin@example.org", 1, 1)]
