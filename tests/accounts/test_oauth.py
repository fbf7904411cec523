"""OAuth sign-in: providers come from the environment, and the OpenID Connect
flow works end to end against a real provider running on localhost."""

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accounts.models import User
from tests.oidc_provider import serve as idp

ROOT = Path(__file__).resolve().parent.parent.parent


def _providers_from_env(extra_env: dict) -> dict:
    """Reads SOCIALACCOUNT_PROVIDERS in a fresh process with the given environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(extra_env, DJANGO_SETTINGS_MODULE="config.settings.local")
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_no_provider_without_credentials():
    assert _providers_from_env({}) == {}


def test_providers_are_configured_from_the_environment():
    providers = _providers_from_env(
        {
            "DJANGO_GITHUB_CLIENT_ID": "gh-id",
            "DJANGO_GITHUB_SECRET": "gh-secret",
            "DJANGO_GOOGLE_CLIENT_ID": "google-id",
            "DJANGO_GOOGLE_SECRET": "google-secret",
            "DJANGO_OIDC_CLIENT_ID": "oidc-id",
            "DJANGO_OIDC_SECRET": "oidc-secret",
            "DJANGO_OIDC_SERVER_URL": "https://id.example.org",
            "DJANGO_OIDC_NAME": "Example ID",
        }
    )
    assert providers["github"]["APPS"] == [{"client_id": "gh-id", "secret": "gh-secret"}]
    assert providers["google"]["APPS"] == [{"client_id": "google-id", "secret": "google-secret"}]
    (oidc,) = providers["openid_connect"]["APPS"]
    assert oidc["name"] == "Example ID"
    assert oidc["settings"]["server_url"] == "https://id.example.org"


@pytest.mark.django_db
def test_login_page_shows_only_configured_providers(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = client.get(reverse("account_login")).content.decode()
    assert "GitHub" not in page and "Google" not in page
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "a", "secret": "b"}]},
        "google": {"APPS": [{"client_id": "c", "secret": "d"}]},
    }
    page = client.get(reverse("account_login")).content.decode()
    assert "GitHub" in page and "Google" in page
    assert reverse("github_login") in page


@pytest.fixture
def oidc_provider(live_server, tmp_path, settings):
    """The provider process, and our settings pointing at it."""
    callback = live_server.url + reverse(
        "openid_connect_callback", kwargs={"provider_id": "local-idp"}
    )
    stderr = (tmp_path / "provider.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.oidc_provider.serve",
            "--redirect-uri",
            callback,
            "--workdir",
            str(tmp_path / "idp"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        ready, _w, _x = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            pytest.fail(f"OIDC provider did not start: {(tmp_path / 'provider.log').read_text()}")
        url = line.split()[1]
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "local-idp",
                        "name": "Local IdP",
                        "client_id": idp.CLIENT_ID,
                        "secret": idp.CLIENT_SECRET,
                        "settings": {"server_url": f"{url}/o"},
                    }
                ],
            }
        }
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_openid_connect_sign_in_end_to_end(browser, live_server, oidc_provider, screenshot_dir):
    page = browser.new_page()
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_role("link", name="Local IdP").click()
    # allauth asks for a POST before leaving the site (CSRF-safe).
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{oidc_provider}/login/**")
    page.fill("#id_username", idp.USERNAME)
    page.fill("#id_password", idp.PASSWORD)
    page.get_by_role("button", name="Sign in to Local IdP").click()

    page.wait_for_url(live_server.url + reverse("classification:classify"))
    page.screenshot(path=screenshot_dir / "oidc-signed-in.png", full_page=True)
    page.goto(live_server.url + reverse("accounts:profile"))
    assert idp.EMAIL in page.inner_text("main")

    user = User.objects.get(email=idp.EMAIL)
    assert user.name == "Ada Lovelace"
    assert not user.has_usable_password()
    account = SocialAccount.objects.get(user=user)
    assert account.provider == "local-idp"
    assert EmailAddress.objects.get(user=user).verified

    # Signing out and in again reuses the same account.
    page.get_by_role("button", name="Sign out").click()
    page.goto(live_server.url + reverse("account_login"))
    page.get_by_role("link", name="Local IdP").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url + reverse("classification:classify"))
    assert User.objects.filter(email=idp.EMAIL).count() == 1
    page.close()
