"""API tokens and passwords: a reset (forgotten password) revokes every token and
says so by email; a change while signed in keeps them and offers to revoke."""

import re

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-Strong-pass-77"


def _reset_password(client, user, mailoutbox, **headers):
    from django.test import TestCase

    client.post(reverse("account_reset_password"), {"email": user.email}, **headers)
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mailoutbox[-1].body)
    response = client.get(link.group(1), follow=True, **headers)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    mailoutbox.clear()
    # The notice is sent once the new password is committed.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True, **headers
        )


def test_a_password_reset_revokes_every_token_and_says_so(
    client, api_client, user, other_user, mailoutbox
):
    _token, key = services.api_token_create(user=user, name="laptop")
    services.api_token_create(user=user, name="server")
    services.api_token_create(user=other_user, name="theirs")

    page = _reset_password(client, user, mailoutbox)

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(user=other_user).count() == 1
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert "2 API tokens were revoked for safety" in page.content.decode()

    (mail,) = mailoutbox
    assert mail.to == [user.email]
    assert mail.subject == "[Picsort] Your API tokens were revoked"
    assert "2 API tokens were revoked" in mail.body
    assert "http://testserver/account/" in mail.body


def test_the_email_comes_in_the_visitors_language(client, user, mailoutbox):
    services.api_token_create(user=user, name="portátil")
    _reset_password(client, user, mailoutbox, HTTP_ACCEPT_LANGUAGE="es")
    (mail,) = mailoutbox
    assert mail.subject == "[Picsort] Se revocaron sus tokens de la API"
    assert "se revocó 1 token de la API" in mail.body
    assert "revoked" not in mail.body


def test_a_reset_without_tokens_sends_no_extra_email(client, user, mailoutbox):
    page = _reset_password(client, user, mailoutbox)
    assert page.status_code == 200
    assert mailoutbox == []


def test_a_password_change_keeps_the_tokens_and_offers_to_revoke(
    client, api_client, user, password
):
    _token, key = services.api_token_create(user=user, name="laptop")
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    body = response.content.decode()
    assert "Your API tokens still work" in body and "revoke them all" in body
