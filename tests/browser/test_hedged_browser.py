"""A hedged answer on the classify page in Debian's chromium (through the API,
with JavaScript): Chelsea the cat is "probably a kind of domestic cat", with
the classes that add up to it, at 360 and 1280 px, in English and Spanish."""

import pytest

from tests.browser.test_classify_browser import DESKTOP, PHONE, _fits
from tests.browser.test_classify_page_browser import _open, _size, _transfer
from tests.conftest import photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "en": "Probably a kind of domestic cat (",
    "es": "Probablemente un tipo de gato doméstico (",
}


@pytest.mark.parametrize(
    ("viewport", "language"),
    [
        pytest.param(PHONE, "es", id="phone-es"),
        pytest.param(PHONE, "en", id="phone-en"),
        pytest.param(DESKTOP, "en", id="desktop-en"),
    ],
)
def test_an_unsure_photo_shows_its_broader_class(
    browser, live_server, client, user, imagenet_model, screenshot_dir, viewport, language
):
    page, errors = _open(browser, live_server, client, user, viewport, language)
    dropped = _transfer(
        page,
        ("cat.png", "image/png", photo("chelsea.png")),
        ("coffee.png", "image/png", photo("coffee.png")),
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    page.click("#classify-button")
    page.wait_for_selector("#results .result >> nth=1")
    cat, coffee = page.locator("#results .result").all()
    hedged = cat.locator(".hedged")
    assert hedged.is_visible()
    assert hedged.locator(".hedged-answer").inner_text().startswith(EXPECTED[language])
    contributors = hedged.locator(".hedged-contributors").inner_text()
    assert contributors.count("%") >= 3  # Egyptian Mau, tiger cat, tabby...
    assert not coffee.locator(".hedged").is_visible()  # espresso is sure enough
    assert _fits(page)
    page.screenshot(
        path=screenshot_dir / f"classify-hedged-{language}-{_size(viewport)}.png", full_page=True
    )
    assert errors == []
    page.context.close()
