"""A classifier's page in Chromium (its fake camera): each class shows its
example photos; one is removed; photos are added by dropping them on a class,
by the styled file picker, and by holding the camera button to record."""

import base64

import pytest
from django.test import Client
from django.urls import reverse

from core.uploads import Upload
from tests.browser.walker import accessibility_problems, layout_problems
from tests.training.examples import TEXTURES, crops
from training import services
from training.models import Example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
TEXTS = {
    "en": {
        "removed": "The example was removed.",
        "added": "Added.",
        "camera": "Use the camera",
        "chosen": "3 photos",
        "recording": "Recording: ",
    },
    "es": {
        "removed": "Se ha quitado el ejemplo.",
        "added": "Añadidas.",
        "camera": "Usar la cámara",
        "chosen": "3 fotos",
        "recording": "Grabando: ",
    },
}

# Files made in the page from bytes, handed to a drop event as the browser would.
DROP = """async ([selector, files]) => {
  const transfer = new DataTransfer();
  for (const [name, data] of files) {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, {type: 'image/jpeg'}));
  }
  const card = document.querySelector(selector);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    const init = {bubbles: true, cancelable: true, dataTransfer: transfer};
    card.dispatchEvent(new DragEvent(type, init));
  }
}"""


def _count(cls) -> int:
    return Example.objects.filter(classifier_class=cls).count()


def _open(browser, live_server, user, viewport, language, path):
    client = Client()
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
    page.on("response", lambda r: r.status >= 500 and errors.append(f"{r.status} {r.url}"))
    page.goto(live_server.url + path)
    return page, errors


@pytest.mark.parametrize(
    ("viewport", "language"), [(PHONE, "es"), (DESKTOP, "en")], ids=["phone-es", "desktop-en"]
)
def test_see_remove_drop_pick_and_record_examples(
    camera_browser, live_server, user, imagenet_model, screenshot_dir, viewport, language
):
    text = TEXTS[language]
    classifier = services.classifier_create(user=user, name="Suelos", class_names=list(TEXTURES))
    brick, grass, gravel = classifier.classes.order_by("id")
    services.examples_add(
        classifier=classifier,
        uploads_by_class={
            "ladrillo": [Upload(f"b{i}.jpg", d) for i, d in enumerate(crops("brick.png", 13))]
        },
    )
    path = reverse("training:detail", args=[classifier.pk])
    page, errors = _open(camera_browser, live_server, user, viewport, language, path)

    # A grid of thumbnails per class: the newest 11, then a link to the rest.
    card = page.locator(f"#class-{brick.pk}")
    assert card.locator(".example-grid img").count() == 11
    assert card.locator(".example-grid .more a").inner_text() == "+2"
    card.locator(".example-grid img").last.scroll_into_view_if_needed()
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#class-{brick.pk} img')]"
        ".every(i => i.naturalWidth > 0)"
    )
    assert page.locator(f"#class-{grass.pk} .example-grid img").count() == 0

    # Remove one, from the grid.
    card.locator(".remove button").first.click()
    page.wait_for_selector(f"text={text['removed']}")
    assert _count(brick) == 12
    assert page.url.endswith(f"#class-{brick.pk}")

    # Drop two photos on a class: sent at once, the card redrawn.
    dropped = [
        (f"g{i}.jpg", base64.b64encode(d).decode()) for i, d in enumerate(crops("grass.png", 2))
    ]
    page.evaluate(DROP, [f"#class-{grass.pk}", dropped])
    grass_card = page.locator(f"#class-{grass.pk}")
    grass_card.locator(".class-status", has_text=text["added"]).wait_for()
    assert _count(grass) == 2
    assert grass_card.locator(".example-grid img").count() == 2
    assert grass_card.locator("[data-testid=count]").inner_text() == "2"

    # The styled picker names what was chosen; its form adds them (no JavaScript needed).
    picker = page.locator(f"#class-{gravel.pk} input[type=file]")
    files = [
        {"name": f"v{i}.jpg", "mimeType": "image/jpeg", "buffer": data}
        for i, data in enumerate(crops("gravel.png", 3))
    ]
    picker.set_input_files(files)
    names = page.locator(f"#class-{gravel.pk} .file-picker-names")
    assert names.inner_text() == text["chosen"]
    page.locator(f"#class-{gravel.pk} .class-upload button[type=submit]").click()
    page.wait_for_load_state()
    assert _count(gravel) == 3

    # Record from the camera: hold the button, let go, the photos are added.
    gravel_card = page.locator(f"#class-{gravel.pk}")
    gravel_card.get_by_role("button", name=text["camera"]).click()
    page.wait_for_function(
        "() => PicsortCamera.active() && document.getElementById('recorder-video').videoWidth > 0"
    )
    assert gravel_card.locator("#recorder").is_visible()
    button = page.locator("#record-button")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_function(
        "() => /[3-9]|\\d\\d/.test(document.getElementById('recorder-count').textContent)"
    )
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator("#recorder-count").inner_text().startswith(text["recording"])
    page.mouse.up()
    gravel_card.locator(".class-status", has_text=text["added"]).wait_for()
    recorded = _count(gravel) - 3
    assert recorded >= 3
    assert gravel_card.locator("[data-testid=count]").inner_text() == str(3 + recorded)
    assert (
        Example.objects.filter(classifier_class=gravel, original_name__startswith="camera-").count()
        == recorded
    )

    assert layout_problems(page) == []
    assert accessibility_problems(page) == []
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(
        path=screenshot_dir / f"classifier-examples-{language}-{size}.png", full_page=True
    )
    page.locator("#recorder-close").click()
    assert page.evaluate("PicsortCamera.active()") is False
    assert errors == []
    page.context.close()
