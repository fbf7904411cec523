"""The history gallery and a batch's results in Debian's chromium: phone and
desktop, English and Spanish. Nothing scrolls sideways, no thumbnail is
narrower than 40 px, the search works, and the screenshots land in
artifacts/screenshots/."""

import pytest
from django.urls import reverse

from classification.models import BatchItem
from tests.classification import records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
VIEWS = [
    pytest.param(viewport, language, id=f"{language}-{viewport['width']}x{viewport['height']}")
    for viewport in (PHONE, DESKTOP)
    for language in ("en", "es")
]
MIN_IMAGE_PX = 40

LAYOUT = """
() => {
  const root = document.documentElement;
  const images = [...document.querySelectorAll('main img')].map(img => {
    const r = img.getBoundingClientRect();
    const loaded = img.naturalWidth > 0;
    return {src: img.getAttribute('src'), width: r.width, height: r.height, loaded};
  });
  return {scrollWidth: root.scrollWidth, width: window.innerWidth, images};
}
"""


def _signed_in_page(browser, live_server, client, user, viewport, language):
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale=language)
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
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return page, errors


LOAD_ALL = """
() => Promise.all([...document.querySelectorAll('main img')].map(img => {
  img.loading = 'eager';  // lazy images below the fold load too
  return img.complete && img.naturalWidth ? null : new Promise(done => {
    img.addEventListener('load', done);
    img.addEventListener('error', done);
  });
}))
"""


def _assert_fits(page):
    page.evaluate(LOAD_ALL)
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"], layout
    assert layout["images"], "no thumbnail on the page"
    for image in layout["images"]:
        assert image["loaded"], image
        assert image["width"] >= MIN_IMAGE_PX and image["height"] >= MIN_IMAGE_PX, image


def _classes():
    return [
        ("n02123045", "tabby cat, a long name that has to wrap on a phone", "gato atigrado"),
        ("n07920052", "espresso", "café exprés"),
        ("n04485082", "tripod", "trípode"),
    ]


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
def test_history_gallery(browser, live_server, client, user, screenshot_dir, viewport, language):
    version = records.toy_version(name="EfficientNet-Lite0", classes=_classes())
    keys = ["n02123045", "n07920052", "n04485082"]
    for n in range(7):
        image = records.kept_image(user=user, data=records.noisy_jpeg(side=160, seed=n))
        records.prediction(
            user=user,
            version=version,
            key=keys[n % 3],
            name=f"IMG_2026_{n:04d}_a_very_long_file_name_from_a_phone.jpg",
            probability=0.5 + n / 20,
            image=image,
        )
    records.prediction(
        user=user, version=version, key="n04485082", name="not-kept.jpg", none_of_these=True
    )
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.goto(live_server.url + reverse("classification:history"))
    assert page.locator(".gallery-card").count() == 8
    _assert_fits(page)
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=screenshot_dir / f"history-{language}-{size}.png", full_page=True)

    search = {"en": "TABBY", "es": "gató"}[language]  # case and accents ignored
    page.fill("#id_label", search)
    page.click(".filter-actions button[type=submit]")
    page.wait_for_url("**label=*")
    assert page.locator(".gallery-card").count() == 3
    page.fill("#id_label", "zebra")
    page.click(".filter-actions button[type=submit]")
    page.wait_for_selector(".empty-result")
    expected = {
        "en": "No classification matches these filters.",
        "es": "Ninguna clasificación coincide con estos filtros.",
    }
    assert expected[language] in page.locator(".empty-result").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
def test_batch_results(browser, live_server, client, user, screenshot_dir, viewport, language):
    version = records.toy_version(name="EfficientNet-Lite0", classes=_classes())
    job = records.finished_batch(user=user, version=version, total=60)
    job.done, job.failed = 59, 1
    job.save()
    keys = ["n02123045", "n07920052", "n04485082"]
    for index in range(59):
        item = records.batch_item(
            job=job, index=index, name=f"holiday/IMG_{index:04d}_from_the_camera_roll.jpg"
        )
        image = None
        if index < 12:
            data = records.noisy_jpeg(side=96, seed=index)
            image = records.kept_image(user=user, data=data)
        records.prediction(
            user=user,
            version=version,
            key=keys[index % 3],
            probability=0.41 + index / 100,
            image=image,
            batch_item=item,
            none_of_these=index == 5,
        )
    records.batch_item(
        job=job,
        index=59,
        name="notes.txt",
        status=BatchItem.Status.FAILED,
        error="“notes.txt” is not an image.",
    )
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.goto(live_server.url + reverse("classification:batch_detail", args=[job.pk]))
    assert page.locator(".batch-item").count() == 50
    assert page.locator("a[href$='sorted.zip']").count() == 1
    _assert_fits(page)
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=screenshot_dir / f"batch-results-{language}-{size}.png", full_page=True)
    with page.expect_download() as download:
        page.click("a[href$='sorted.zip']")
    assert download.value.suggested_filename == f"batch-{job.pk}-sorted.zip"
    page.click("a[rel=next]")
    page.wait_for_url("**page=2")
    assert page.locator(".batch-item").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
