"""The account pages in a real browser (Debian's chromium), phone and desktop."""

import re

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "violet-Tangerine-42-kayak"


def open_menu(page) -> None:
    """On a phone the header's links are behind the Menu button."""
    button = page.locator(".site-menu-button")
    if button.is_visible() and not page.locator("[data-site-menu][open]").count():
        button.click()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.fixture
def console_errors():
    return []


def _new_page(browser, viewport, console_errors, locale="en-US"):
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()

    # A CSP violation is a console error; a missing asset a failed sub-resource.
    def on_console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            console_errors.append(message.text)

    def on_response(response):
        if response.request.resource_type != "document" and response.status >= 400:
            console_errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_sign_up_verify_log_in_switch_language_log_out(
    browser, live_server, mailoutbox, screenshot_dir, viewport, console_errors
):
    size = f"{viewport['width']}x{viewport['height']}"
    page = _new_page(browser, viewport, console_errors)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert _no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / f"home-en-{size}.png", full_page=True)

    page.get_by_role("button", name="Create a free account").click()
    email = f"browser-{viewport['width']}@example.com"
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    assert _no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / f"signup-en-{size}.png", full_page=True)
    page.locator("main").get_by_role("button", name="Sign up").click()
    page.wait_for_url("**" + reverse("account_email_verification_sent"))
    assert "Verify your email address" in page.inner_text("main")

    # The verification mail, read from the test outbox: confirming signs in.
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    page.locator("main").get_by_role("button", name="Confirm").click()
    page.wait_for_url("**" + reverse("classification:classify"))
    page.goto(live_server.url + reverse("accounts:profile"))
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + reverse("account_login"))
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.screenshot(path=screenshot_dir / f"login-en-{size}.png", full_page=True)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url("**" + reverse("classification:classify"))
    page.goto(live_server.url + reverse("accounts:profile"))
    assert email in page.inner_text("main")
    assert _no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / f"profile-en-{size}.png", full_page=True)

    open_menu(page)
    page.get_by_role("button", name="Español").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Su perfil" in page.inner_text("main")
    open_menu(page)
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()
    assert _no_horizontal_scroll(page)
    page.screenshot(path=screenshot_dir / f"profile-es-{size}.png", full_page=True)

    # The choice is remembered on the next page.
    page.goto(live_server.url + "/")
    assert "Sepa qué hay en sus fotos" in page.inner_text("main")

    open_menu(page)
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_load_state()
    open_menu(page)
    assert page.get_by_role("link", name="Iniciar sesión").first.is_visible()
    assert not page.get_by_role("button", name="Cerrar sesión").count()
    page.screenshot(path=screenshot_dir / f"home-es-{size}.png", full_page=True)
    assert console_errors == []
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_pages_fit_the_screen_in_both_languages(
    browser, live_server, client, user, screenshot_dir, viewport, language, console_errors
):
    client.force_login(user)
    page = _new_page(browser, viewport, console_errors, locale=language)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    size = f"{viewport['width']}x{viewport['height']}"
    pages = {
        "home": "/",
        "profile": reverse("accounts:profile"),
        "email": reverse("account_email"),
        "password-change": reverse("account_change_password"),
        "delete": reverse("accounts:delete"),
        "classify": reverse("classification:classify"),
        "not-found": "/no-such-page/",
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        assert page.locator("html").get_attribute("lang") == language, name
        assert _no_horizontal_scroll(page), f"{name} scrolls sideways at {size}"
        page.screenshot(path=screenshot_dir / f"{name}-{language}-{size}.png", full_page=True)
    assert console_errors == []
    page.context.close()


def test_keyboard_users_can_skip_to_content_and_see_focus(browser, live_server, console_errors):
    page = _new_page(browser, DESKTOP, console_errors)
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    # The skip link becomes visible when focused.
    box = page.locator(".skip-link").bounding_box()
    assert box["x"] >= 0
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


def test_form_fields_have_labels(browser, live_server, console_errors):
    page = _new_page(browser, DESKTOP, console_errors)
    for url in [
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
    ]:
        page.goto(live_server.url + url)
        unlabelled = page.evaluate(
            """[...document.querySelectorAll(
                   'main input:not([type=hidden]), main select, main textarea')]
               .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
               .map(el => el.name)"""
        )
        assert unlabelled == [], url
    page.context.close()
