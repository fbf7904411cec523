"""Every email the site sends names Picsort and keeps its links whole, in both
languages: as stored by the locmem backend, and as printed by the console
backend that ``make run`` uses (and written by the file backend)."""

import email
import email.policy
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from config.settings.base import _mailer
from core.mail import readable_bytes

pytestmark = pytest.mark.django_db

STRONG = "violet-Tangerine-42-kayak"
LINK_LINE = re.compile(r"^https?://\S+$", re.MULTILINE)


def _signup(client, address, language="en"):
    if language != "en":
        client.post(reverse("set_language"), {"language": language, "next": "/"})
    response = client.post(
        reverse("account_signup"), {"email": address, "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302


def _links(text: str) -> list[str]:
    return LINK_LINE.findall(text)


@pytest.mark.parametrize(
    ("language", "greeting", "invitation"),
    [
        ("en", "Hello from Picsort!", "To confirm that it is yours, open this link:"),
        ("es", "¡Hola de parte de Picsort!", "Para confirmar que es suya, abra este enlace:"),
    ],
)
def test_verification_email_names_picsort_and_has_the_link_on_its_own_line(
    client, mailoutbox, language, greeting, invitation
):
    _signup(client, f"new-{language}@example.com", language)
    (message,) = mailoutbox
    assert message.body.startswith(greeting), message.body
    assert "testserver!" not in message.body
    assert invitation in message.body
    (link,) = _links(message.body)
    assert "/accounts/confirm-email/" in link

    # Serialised as the console and file backends write it: one body line
    # holds the whole link; nothing is quoted-printable.
    raw = readable_bytes(message)
    assert b"quoted-printable" not in raw.lower()
    assert link in raw.decode().splitlines()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Content-Transfer-Encoding"] in {"7bit", "8bit"}
    assert greeting in parsed.get_content()


@pytest.mark.parametrize("language", ["en", "es"])
def test_password_reset_email_keeps_its_link_whole(client, user, mailoutbox, language):
    if language != "en":
        client.post(reverse("set_language"), {"language": language, "next": "/"})
    client.post(reverse("account_reset_password"), {"email": user.email})
    (message,) = mailoutbox
    assert "Picsort" in message.body.splitlines()[0]
    (link,) = _links(message.body)
    assert "/accounts/password/reset/key/" in link
    assert link in readable_bytes(message).decode().splitlines()


@pytest.mark.parametrize(
    ("language", "greeting", "subject"),
    [
        ("en", "Hello from Picsort!", "Subject: [Picsort] Please confirm your email address"),
        (
            "es",
            "¡Hola de parte de Picsort!",
            "Subject: [Picsort] Por favor, confirme su dirección de correo electrónico",
        ),
    ],
)
def test_console_backend_prints_a_link_that_can_be_copied_and_opened(
    client, settings, capsys, language, greeting, subject
):
    """What ``make run`` prints (DJANGO_EMAIL_URL=consolemail://): the link
    copied from the terminal confirms the address and signs the user in."""
    settings.MAILERS = {"default": _mailer("consolemail://")}
    address = f"console-{language}@example.com"
    _signup(client, address, language)
    printed = capsys.readouterr().out
    assert subject in printed.splitlines()
    assert greeting in printed.splitlines()
    assert "=\n" not in printed and "=3D" not in printed
    (link,) = [line for line in _links(printed) if "/accounts/confirm-email/" in line]

    path = link.split("://", 1)[1].partition("/")[2]
    assert client.get("/" + path).status_code == 200
    response = client.post("/" + path)
    assert response.status_code == 302
    assert response.url == reverse("classification:classify")
    assert EmailAddress.objects.get(email=address).verified
    assert client.session["_auth_user_id"]


def test_file_backend_writes_whole_links(client, settings, tmp_path):
    settings.MAILERS = {"default": _mailer(f"filemail:///{tmp_path}")}  # four slashes: absolute
    _signup(client, "file@example.com", "es")
    (written,) = list(tmp_path.iterdir())
    text = written.read_bytes().decode()
    assert "¡Hola de parte de Picsort!" in text.splitlines()
    assert any("/accounts/confirm-email/" in link for link in _links(text))
