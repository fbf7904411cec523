"""Sign-up, email verification, login and the bad-input paths, through real views."""

import re
import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "violet-Tangerine-42-kayak"


def _signup(client, email, password1=STRONG, password2=None):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password1, "password2": password2 or password1},
    )


def _confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_sends_verification_and_login_waits_for_it(client, mailoutbox):
    response = _signup(client, "new@example.com")
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.com")
    assert user.password.startswith("argon2$")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.com"]
    assert mailoutbox[0].subject.startswith("[Picsort]")

    # Unverified: logging in sends the user back to "verify your email".
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": STRONG}
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    # Confirming in the browser that tried to sign in signs the user in.
    link = _confirmation_link(mailoutbox[0])
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert response.url == reverse("classification:classify")
    assert EmailAddress.objects.get(email="new@example.com").verified
    assert client.session["_auth_user_id"] == str(user.pk)

    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": STRONG}
    )
    assert response.status_code == 302
    assert response.url == reverse("classification:classify")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_confirmation_link_opened_elsewhere_confirms_without_signing_in(client, mailoutbox):
    """The link alone (another browser, or someone who saw it) signs no one in."""
    _signup(client, "elsewhere@example.com")
    link = _confirmation_link(mailoutbox[0])
    client.cookies.clear()
    response = client.post(link)
    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert EmailAddress.objects.get(email="elsewhere@example.com").verified
    assert "_auth_user_id" not in client.session


def test_sign_in_goes_to_next_when_asked(client, user, password):
    target = reverse("classification:history")
    response = client.post(
        reverse("account_login") + f"?next={target}", {"login": user.email, "password": password}
    )
    assert response.status_code == 302
    assert response.url == target
    # A foreign next is ignored: Classify instead.
    client.logout()
    response = client.post(
        reverse("account_login") + "?next=https://evil.example/",
        {"login": user.email, "password": password},
    )
    assert response.url == reverse("classification:classify")


def test_duplicate_email_creates_nothing_and_tells_the_owner(client, user, mailoutbox):
    response = _signup(client, user.email.upper())
    # The page does not reveal whether the address is registered (no account
    # enumeration); the address's owner gets an email saying so instead.
    assert response.status_code == 302
    assert User.objects.filter(email__iexact=user.email).count() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert "already" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("1234567890123", "entirely numeric"),
    ],
)
def test_weak_password_is_refused(client, password, fragment):
    response = _signup(client, "weak@example.com", password)
    assert response.status_code == 200
    assert fragment in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_mismatched_passwords_are_refused(client):
    response = _signup(client, "typo@example.com", STRONG, STRONG + "x")
    assert response.status_code == 200
    assert "same password" in response.content.decode()
    assert not User.objects.exists()


def test_wrong_password_many_times_is_rate_limited(client, user, password):
    url = reverse("account_login")
    for _attempt in range(5):
        response = client.post(url, {"login": user.email, "password": "wrong password"})
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    # The sixth attempt is refused even with the right password.
    response = client.post(url, {"login": user.email, "password": password})
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_right_password_logs_in(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_forged_verification_link_is_a_clear_error(client, mailoutbox):
    _signup(client, "forge@example.com")
    url = reverse("account_confirm_email", args=["forged-key-123"])
    # The link a person clicks (GET) explains; confirming it (POST) is refused.
    response = client.get(url)
    assert response.status_code == 200
    assert "expired or is invalid" in response.content.decode()
    assert client.post(url).status_code == 404
    assert not EmailAddress.objects.get(email="forge@example.com").verified


def test_expired_verification_link_is_a_clear_error(client):
    _signup(client, "late@example.com")
    address = EmailAddress.objects.get(email="late@example.com")
    # allauth's links are signed email-address ids; sign one four days ago,
    # past the three-day expiry.
    with mock.patch("time.time", return_value=time.time() - 4 * 86400):
        expired_key = signing.dumps(address.pk, salt="account")
    url = reverse("account_confirm_email", args=[expired_key])
    assert "expired or is invalid" in client.get(url).content.decode()
    assert client.post(url).status_code == 404
    address.refresh_from_db()
    assert not address.verified

    # The same key signed now is accepted, so the refusal above was the age.
    fresh_key = signing.dumps(address.pk, salt="account")
    assert client.post(reverse("account_confirm_email", args=[fresh_key])).status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_password_reset_round_trip(client, user, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mailoutbox[0].body)
    assert match
    response = client.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else match.group(1)
    new_password = "another-Strong-pass-77"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_change(client, user, password):
    client.force_login(user)
    new_password = "brand-New-pass-2026"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_logout_requires_post_and_ends_the_session(client, user):
    client.force_login(user)
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_allauth(client):
    response = client.get(reverse("admin:index"), follow=False)
    assert response.status_code == 302
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_staff_reaches_admin_and_others_do_not(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    client.force_login(UserFactory())
    assert client.get(reverse("admin:login")).status_code == 403


def test_emails_go_out_in_the_visitors_language(client, mailoutbox):
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    _signup(client, "nueva@example.com")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject.startswith("[Picsort]")
    assert "confirme su dirección de correo electrónico" in message.subject
    assert "Please confirm" not in message.body
