"""Classify, batch and history pages in Debian's chromium, phone and desktop."""

import zipfile

import pytest
from django.urls import reverse

from classification.models import BatchJob, Prediction
from tests.classification.images import jpeg
from tests.conftest import photo
from tests.models_registry.test_worker import DB_BACKEND, start_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _signed_in_page(browser, live_server, client, user, viewport, language="en"):
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
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return page, errors


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(
    ("viewport", "language", "expected"),
    [(DESKTOP, "en", "espresso"), (PHONE, "es", "café exprés")],
    ids=["desktop-en", "phone-es"],
)
def test_upload_and_see_results_without_reload(
    browser,
    live_server,
    client,
    user,
    imagenet_model,
    tmp_path,
    screenshot_dir,
    viewport,
    language,
    expected,
):
    for name in ("coffee.png", "camera.png"):
        (tmp_path / name).write_bytes(photo(name))
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.goto(live_server.url + reverse("classification:classify"))
    page.evaluate("window.__sameDocument = true")
    page.set_input_files(
        "#file-input", [str(tmp_path / "coffee.png"), str(tmp_path / "camera.png")]
    )
    assert page.locator("#previews li").count() == 2
    page.click("#classify-button")
    page.wait_for_selector("#results .result >> nth=1")
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    results = page.locator("#results").inner_text()
    assert expected in results
    assert page.locator("#results progress").count() == 10  # 2 images x top-5 bars
    assert page.locator("#status").inner_text()
    assert _fits(page)
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=screenshot_dir / f"classify-results-{language}-{size}.png", full_page=True)
    assert Prediction.objects.filter(user=user).count() == 2

    page.goto(live_server.url + reverse("classification:history"))
    assert expected in page.inner_text("main")
    assert page.locator("img.gallery-thumb").count() == 2
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"history-{language}-{size}.png", full_page=True)
    page.locator("main a.gallery-link").first.click()
    page.locator("img.detail-image").wait_for()
    assert page.evaluate("document.querySelector('img.detail-image').naturalWidth") > 0
    assert errors == []
    page.context.close()


def test_a_bad_file_shows_a_readable_error(
    browser, live_server, client, user, imagenet_model, tmp_path
):
    bad = tmp_path / "notes.jpg"
    bad.write_text("just text")
    page, _errors = _signed_in_page(browser, live_server, client, user, DESKTOP)
    page.goto(live_server.url + reverse("classification:classify"))
    # The picker filters by type; a renamed file still gets through.
    page.set_input_files("#file-input", str(bad))
    page.click("#classify-button")
    page.wait_for_selector("#status.error")
    assert "not an image" in page.inner_text("#status")
    assert page.locator("#status").get_attribute("role") == "alert"
    assert Prediction.objects.count() == 0
    page.context.close()


@pytest.mark.parametrize(
    ("language", "start", "download"),
    [("en", "Start the batch", "Download CSV"), ("es", "Iniciar el lote", "Descargar CSV")],
)
def test_batch_progress_updates_live_then_shows_results(
    browser,
    live_server,
    client,
    user,
    imagenet_model,
    tmp_path,
    screenshot_dir,
    settings,
    language,
    start,
    download,
):
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches"]}}
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for i in range(60):
            zipped.writestr(f"p{i:02}.jpg", jpeg(640, 480, seed=i))
        zipped.writestr("broken.jpg", b"\xff\xd8 broken")
    page, errors = _signed_in_page(browser, live_server, client, user, PHONE, language)
    page.goto(live_server.url + reverse("classification:batch_new"))
    page.set_input_files("#archive-input", str(archive))
    page.get_by_role("button", name=start).click()
    page.wait_for_url("**/classify/batches/*/")
    job = BatchJob.objects.get()
    assert page.locator("#batch-bar").get_attribute("max") == "61"
    page.screenshot(path=screenshot_dir / f"batch-queued-{language}-360x740.png", full_page=True)

    worker = start_worker("batches")
    try:
        page.wait_for_selector(".batch-downloads", timeout=120_000)  # the page reloads when done
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 60, 1)
    assert page.get_by_role("link", name=download).is_visible()
    assert page.locator("img.batch-thumb").count() == 50  # the first page of 61 photos
    page.locator("a[rel=next]").click()
    page.wait_for_url("**/?page=2")
    assert "broken.jpg" in page.inner_text("main")  # the failed one, last in the batch
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"batch-finished-{language}-360x740.png", full_page=True)
    assert errors == []
    page.context.close()
