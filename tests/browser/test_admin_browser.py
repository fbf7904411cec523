"""The registry's admin pages work in a real browser under the strict CSP."""

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "es"])
def test_admin_registry_pages(
    browser, live_server, client, imagenet_model, screenshot_dir, language
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    pages = {
        "versions": reverse("admin:models_registry_modelversion_changelist"),
        "version": reverse("admin:models_registry_modelversion_change", args=[imagenet_model.pk]),
        "version-add": reverse("admin:models_registry_modelversion_add"),
        "labelset-add": reverse("admin:models_registry_labelset_add"),
        "aliases": reverse("admin:models_registry_modelalias_changelist"),
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        assert page.locator("#content").count() == 1, name
        page.screenshot(path=screenshot_dir / f"admin-{name}-{language}.png", full_page=True)
    page.goto(live_server.url + pages["versions"])
    expected = (
        "Activate the selected version" if language == "en" else "Activar la versión seleccionada"
    )
    assert expected in page.inner_text("select[name=action]")
    assert errors == []
    context.close()
