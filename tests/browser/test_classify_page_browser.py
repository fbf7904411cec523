"""The classify page in Debian's chromium: the drop zone with a good and a bad
file, paste from the clipboard, upload progress, and the live camera (Chromium's
fake one), at 360x740 and 1280x800 in English and Spanish."""

import base64

import pytest
from django.urls import reverse

from classification.models import Image, Prediction
from tests.browser.test_classify_browser import DESKTOP, PHONE, _fits, _signed_in_page
from tests.classification.images import jpeg
from tests.conftest import photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [
    pytest.param(PHONE, "en", id="phone-en"),
    pytest.param(PHONE, "es", id="phone-es"),
    pytest.param(DESKTOP, "en", id="desktop-en"),
    pytest.param(DESKTOP, "es", id="desktop-es"),
]
EMPTY_FILE = {"en": "The file is empty.", "es": "El archivo está vacío."}
NOT_AN_IMAGE = {
    "en": "The file is not an image, or its format is not supported.",
    "es": "El archivo no es una imagen o su formato no es compatible.",
}

# A DataTransfer holding files made in the page, as a drop or a paste carries them.
DATA_TRANSFER = """
files => {
  const transfer = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, {type}));
  }
  return transfer;
}
"""


def _size(viewport) -> str:
    return f"{viewport['width']}x{viewport['height']}"


def _open(browser, live_server, client, user, viewport, language):
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.goto(live_server.url + reverse("classification:classify"))
    return page, errors


def _transfer(page, *files):
    encoded = [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files]
    return page.evaluate_handle(DATA_TRANSFER, encoded)


@pytest.mark.parametrize(("viewport", "language"), SIZES)
def test_dropped_files_are_answered_one_by_one(
    browser, live_server, client, user, imagenet_model, screenshot_dir, viewport, language
):
    page, errors = _open(browser, live_server, client, user, viewport, language)
    page.screenshot(
        path=screenshot_dir / f"classify-{language}-{_size(viewport)}.png", full_page=True
    )
    dropped = _transfer(
        page,
        ("cat.jpg", "image/png", photo("chelsea.png")),
        ("notes.txt", "text/plain", b"shopping list"),
        ("empty.jpg", "image/jpeg", b""),
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    # Every file is kept, the text file too: the server will say why it cannot be used.
    assert page.locator("#previews li").count() == 3
    assert page.locator("#previews .preview-name").all_inner_texts() == [
        "cat.jpg",
        "notes.txt",
        "empty.jpg",
    ]
    assert page.locator("#previews img.preview-image").count() == 1  # the others: a tile
    page.wait_for_function("() => document.querySelectorAll('#previews .result-file').length === 2")
    assert _fits(page)
    page.screenshot(
        path=screenshot_dir / f"classify-chosen-{language}-{_size(viewport)}.png", full_page=True
    )

    page.click("#classify-button")
    page.wait_for_selector("#results .result >> nth=2")
    cards = page.locator("#results .result")
    assert cards.locator(".result-title").all_inner_texts() == ["cat.jpg", "notes.txt", "empty.jpg"]
    assert "result-failed" not in (cards.nth(0).get_attribute("class") or "")
    assert cards.nth(0).locator(".classes li").count() == 5
    assert NOT_AN_IMAGE[language] in cards.nth(1).inner_text()
    assert EMPTY_FILE[language] in cards.nth(2).inner_text()
    assert "1" in page.inner_text("#status") and "2" in page.inner_text("#status")
    assert page.locator("#status").get_attribute("role") == "status"
    assert page.locator("#previews li").count() == 0
    (prediction,) = Prediction.objects.filter(user=user)
    assert prediction.original_name == "cat.jpg" and prediction.top_key.startswith("n021")
    assert _fits(page)
    page.screenshot(
        path=screenshot_dir / f"classify-answers-{language}-{_size(viewport)}.png", full_page=True
    )
    assert errors == []
    page.context.close()


def test_only_bad_files_keep_their_reasons_and_store_nothing(
    browser, live_server, client, user, imagenet_model, tmp_path
):
    (tmp_path / "notes.txt").write_text("just text")
    (tmp_path / "empty.jpg").write_bytes(b"")
    page, _errors = _open(browser, live_server, client, user, DESKTOP, "en")
    page.set_input_files("#file-input", [str(tmp_path / "notes.txt"), str(tmp_path / "empty.jpg")])
    assert page.locator("#previews li").count() == 2  # nothing is dropped silently
    page.click("#classify-button")
    page.wait_for_selector("#results .result-failed >> nth=1")
    assert page.locator("#status").get_attribute("role") == "alert"
    assert "None of the files could be classified." in page.inner_text("#status")
    assert EMPTY_FILE["en"] in page.inner_text("#results")
    assert not Prediction.objects.exists() and not Image.objects.exists()
    page.context.close()


def test_an_image_pasted_anywhere_is_added(
    browser, live_server, client, user, imagenet_model, screenshot_dir
):
    page, errors = _open(browser, live_server, client, user, DESKTOP, "es")
    page.click("h1")  # focus on the page, not in a field
    clipboard = _transfer(page, ("image.png", "image/png", photo("coffee.png")))
    page.evaluate(
        "transfer => document.body.dispatchEvent(new ClipboardEvent('paste', "
        "{clipboardData: transfer, bubbles: true, cancelable: true}))",
        clipboard,
    )
    assert page.locator("#previews .preview-name").all_inner_texts() == ["imagen-pegada-1.png"]
    assert "imagen-pegada-1.png" in page.inner_text("#status")
    # Text pasted from the clipboard is left alone.
    text = page.evaluate_handle(
        "() => { const t = new DataTransfer(); t.setData('text/plain', 'x'); return t; }"
    )
    page.evaluate(
        "transfer => document.body.dispatchEvent(new ClipboardEvent('paste', "
        "{clipboardData: transfer, bubbles: true, cancelable: true}))",
        text,
    )
    assert page.locator("#previews li").count() == 1
    page.click("#classify-button")
    page.wait_for_selector("#results .result")
    assert "café exprés" in page.inner_text("#results")
    assert Prediction.objects.get().original_name == "imagen-pegada-1.png"
    assert errors == []
    page.context.close()


# Records every value the upload bar takes, and whether it was shown meanwhile.
WATCH_PROGRESS = """
() => {
  window.__progress = [];
  const bar = document.getElementById('upload-progress');
  new MutationObserver(() => window.__progress.push(
    [bar.value, !document.getElementById('upload-progress-box').hidden]
  )).observe(bar, {attributes: true, attributeFilter: ['value']});
}
"""


def test_upload_progress_comes_from_xhr_upload_events(
    browser, live_server, client, user, imagenet_model, tmp_path, screenshot_dir
):
    big = tmp_path / "big.jpg"
    big.write_bytes(jpeg(3000, 2000, seed=3))
    assert big.stat().st_size > 500_000
    page, errors = _open(browser, live_server, client, user, PHONE, "en")
    # A slow uplink (100 kB/s), so the upload takes several progress events.
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    page.evaluate(WATCH_PROGRESS)
    page.set_input_files("#file-input", str(big))
    page.click("#classify-button")
    page.wait_for_function(
        "() => { const v = document.getElementById('upload-progress').value; "
        "return v > 0 && v < 1; }"
    )
    assert page.locator("#upload-progress-box").is_visible()
    assert page.inner_text("#status") == "Uploading…"
    page.screenshot(path=screenshot_dir / "classify-uploading-en-360x740.png", full_page=True)
    page.wait_for_selector("#results .result")
    values = page.evaluate("window.__progress")
    shown = [value for value, visible in values if visible]
    assert any(0 < value < 1 for value in shown), values
    assert shown[-1] == 1
    assert shown == sorted(shown)  # it only goes forward
    assert page.locator("#upload-progress-box").is_hidden()  # gone once answered
    assert Prediction.objects.filter(original_name="big.jpg").exists()
    assert errors == []
    page.context.close()


# Counts the preview requests in flight (at most one at a time).
WATCH_PREVIEWS = """
() => {
  window.__previews = {inFlight: 0, most: 0, sent: 0};
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__preview = String(url).includes('/preview/');
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__preview) {
      const counts = window.__previews;
      counts.sent += 1;
      counts.inFlight += 1;
      counts.most = Math.max(counts.most, counts.inFlight);
      this.addEventListener('loadend', () => { counts.inFlight -= 1; });
    }
    return send.apply(this, arguments);
  };
}
"""


@pytest.mark.parametrize(("viewport", "language"), SIZES)
def test_live_camera_classifies_without_storing_and_keeps_a_frame_when_asked(
    camera_browser, live_server, client, user, imagenet_model, screenshot_dir, viewport, language
):
    page, errors = _open(camera_browser, live_server, client, user, viewport, language)
    page.evaluate(WATCH_PREVIEWS)
    assert page.locator("label.camera-capture").is_hidden()  # the live camera replaces it
    start = page.locator("#camera-start")
    start.focus()
    page.keyboard.press("Enter")  # keyboard first
    page.wait_for_function(
        "() => Number(document.getElementById('camera-panel').dataset.frames || 0) >= 3"
    )
    assert page.evaluate("PicsortCamera.active()") is True
    assert page.evaluate("document.getElementById('camera-video').videoWidth") > 0
    assert page.locator("#camera-classes li").count() == 3
    assert page.locator("#camera-status").inner_text()
    assert page.evaluate("window.__previews.most") == 1  # one request in flight at a time
    assert not Prediction.objects.exists() and not Image.objects.exists()  # nothing stored
    assert _fits(page)
    page.screenshot(
        path=screenshot_dir / f"classify-camera-{language}-{_size(viewport)}.png", full_page=True
    )

    page.click("#camera-keep")
    page.wait_for_selector("#results .result")
    kept = Prediction.objects.get(user=user)
    assert kept.image is not None and kept.original_name.endswith(".jpg")
    prefix = {"en": "camera-", "es": "camara-"}[language]
    assert kept.original_name.startswith(prefix)

    page.click("#camera-stop")
    assert page.evaluate("PicsortCamera.active()") is False
    assert page.evaluate("document.getElementById('camera-video').srcObject") is None
    assert page.locator("#camera-panel").is_hidden()
    assert page.locator("#camera-start").is_visible()
    code = page.evaluate("PicsortCamera.frame().then(() => 'frame', error => error.code)")
    assert code == "inactive"
    assert Prediction.objects.count() == 1
    assert errors == []
    page.context.close()
