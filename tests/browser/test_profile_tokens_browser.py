"""The profile's API tokens in the browser: the list with scopes, classifier
and expiry, and the form that picks them, at both sizes and in both
languages (fit, axe, no errors); then a token made through the form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.accounts.factories import UserFactory
from tests.accounts.test_token_classifier import _trained
from tests.browser.test_every_page import DESKTOP, PHONE, _context
from tests.browser.walker import accessibility_problems, layout_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_the_token_list_and_form_fit_and_pass_axe(
    browser, live_server, imagenet_model, screenshot_dir, viewport
):
    user = UserFactory(name="Ada")
    soils, _version = _trained(user, imagenet_model, "Suelos de la finca del norte")
    api_token_create(
        user=user,
        name="Cámara del invernadero número dos",
        scopes=["classify", "history:read", "classifiers:manage"],
        classifier=soils,
        expires_at=timezone.now() + timedelta(days=30),
    )
    api_token_create(user=user, name="laptop", scopes=["history:read"])
    staff = UserFactory(is_staff=True)
    api_token_create(user=staff, name="ops")
    problems = []
    for language in ("en", "es"):
        for who in (user, staff):
            context = _context(browser, live_server, viewport, language, who)
            page = context.new_page()
            errors = []
            page.on("console", lambda m, e=errors: m.type == "error" and e.append(m.text))
            response = page.goto(live_server.url + reverse("accounts:profile"))
            assert response.status == 200
            tag = f"{language}-{viewport['width']}-{'staff' if who.is_staff else 'user'}"
            page.screenshot(path=screenshot_dir / f"profile-tokens-{tag}.png", full_page=True)
            found = layout_problems(page) + accessibility_problems(page) + errors
            problems += [f"{tag}: {problem}" for problem in found]
            if who is user:
                row = page.locator('[data-testid="token-row"]', has_text="invernadero")
                assert "classifiers:manage" in row.inner_text()
                assert "Suelos de la finca del norte" in row.inner_text()
            context.close()
    assert not problems, "\n".join(problems)


def test_a_token_made_through_the_form(browser, live_server, imagenet_model):
    user = UserFactory()
    soils, _version = _trained(user, imagenet_model, "Soils")
    context = _context(browser, live_server, PHONE, "es", user)
    page = context.new_page()
    page.goto(live_server.url + reverse("accounts:profile"))
    page.fill("#id_token_name", "kit")
    page.check('input[value="history:read"]')
    page.select_option("#id_token_classifier", str(soils.pk))
    page.fill("#id_token_expires_on", (timezone.now() + timedelta(days=3)).date().isoformat())
    page.get_by_role("button", name="Crear token").click()
    page.wait_for_selector('[data-testid="new-token"]')
    token = ApiToken.objects.get(user=user)
    assert token.scopes == ["classify", "history:read"]  # classify is ticked at first
    assert token.classifier == soils and token.expires_at is not None
    context.close()
