"""Profile page and account deletion."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _login(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_profile_shows_and_saves_the_name(client, user):
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert user.email in page
    response = client.post(reverse("accounts:profile"), {"name": "Ada Lovelace"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.name == "Ada Lovelace"


def test_profile_rejects_a_too_long_name(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"name": "x" * 151})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.name != "x" * 151


def test_account_deletion_deletes_the_user_and_their_data(client, user, other_user, password):
    services.api_token_create(user=user, name="mine")
    services.api_token_create(user=other_user, name="theirs")
    _login(client, user, password)
    assert client.get(reverse("accounts:delete")).status_code == 200

    # Deleting asks for the password again first.
    response = client.post(reverse("accounts:delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert User.objects.filter(pk=user.pk).exists()
    response = client.post(reverse("account_reauthenticate"), {"password": "wrong one"})
    assert response.status_code == 200
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302

    # Without ticking the box nothing happens.
    response = client.post(reverse("accounts:delete"), {})
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()

    response = client.post(reverse("accounts:delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not EmailAddress.objects.filter(email=user.email).exists()
    assert not ApiToken.objects.filter(user_id=user.pk).exists()
    assert "_auth_user_id" not in client.session
    # Nobody else's data went with it.
    assert User.objects.filter(pk=other_user.pk).exists()
    assert ApiToken.objects.filter(user=other_user).count() == 1


def test_user_model_uses_email_as_identifier():
    user = UserFactory(name="")
    assert str(user) == user.email
    assert user.get_short_name() == user.email.split("@")[0]
    admin = User.objects.create_superuser(email="Root@Example.COM", password="x" * 12)
    assert admin.is_staff and admin.is_superuser
    assert admin.email == "Root@example.com"
    with pytest.raises(ValueError):
        User.objects.create_user(email="", password="x")


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_label_on_the_profile_focuses_its_own_field(client, user, language):
    """The profile's name and the new token's name used to share id="id_name"."""
    client.force_login(user)
    client.cookies["django_language"] = language
    # As shown, and as shown again with the token form's error.
    for page in (
        client.get(reverse("accounts:profile")).content.decode(),
        client.post(reverse("accounts:token_create"), {"name": " "}).content.decode(),
    ):
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        labels = dict(re.findall(r'<label for="([^"]+)">([^<]+)</label>', page))
        assert labels["id_profile_name"] == ("Name:" if language == "en" else "Nombre:")
        assert labels["id_token_name"] == (
            "Token name:" if language == "en" else "Nombre del token:"
        )
        for field_id in labels:
            assert f'id="{field_id}"' in page
