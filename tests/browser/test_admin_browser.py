"""The registry's admin pages work in a real browser under the strict CSP."""

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.browser.test_classify_browser import _signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "es"])
def test_admin_registry_pages(
    browser, live_server, client, imagenet_model, screenshot_dir, language
):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    page, errors = _signed_in_page(
        browser, live_server, client, admin_user, {"width": 1280, "height": 800}, language
    )
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
    page.context.close()
