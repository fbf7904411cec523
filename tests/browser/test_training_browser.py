"""From the website alone: build a 3-class classifier from a zip, watch a real
worker train it, read its metrics, classify new photos with it, export it.
And an administrator builds a grouping that users then classify with."""

import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.browser.test_classify_browser import DESKTOP, PHONE, _fits, _signed_in_page
from tests.conftest import photo
from tests.models_registry.test_worker import DB_BACKEND, start_worker
from tests.training.examples import TEXTURES, crops, texture_zip
from training.models import Classifier, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "train": "Train",
        "zip": "Upload zip",
        "create": "Create",
        "learned": "How well it learned",
        "imported": "18 of 18 photos checked: 18 added",
    },
    "es": {
        "train": "Entrenar",
        "zip": "Subir el zip",
        "create": "Crear",
        "learned": "Qué tal ha aprendido",
        "imported": "18 de 18 fotos revisadas: 18 añadidas",
    },
}


@pytest.mark.parametrize(
    ("viewport", "language"), [(DESKTOP, "en"), (PHONE, "es")], ids=["desktop-en", "phone-es"]
)
def test_build_train_use_and_export_a_classifier(
    browser,
    live_server,
    client,
    user,
    imagenet_model,
    tmp_path,
    screenshot_dir,
    settings,
    viewport,
    language,
):
    settings.TASKS = {
        "default": {"BACKEND": DB_BACKEND, "QUEUES": ["default", "batches", "training"]}
    }
    text = TEXTS[language]
    (tmp_path / "examples.zip").write_bytes(texture_zip(6))
    (tmp_path / "new.jpg").write_bytes(crops("brick.png", 1, seed=321)[0])
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.on("response", lambda r: r.status >= 500 and errors.append(f"{r.status} {r.url}"))

    page.goto(live_server.url + reverse("training:list"))
    page.fill("#id_name", "Suelos")
    page.fill("#id_classes", "\n".join(TEXTURES))
    page.click(f"button:has-text('{text['create']}')")
    page.wait_for_selector("[data-testid=class-table]")
    worker = start_worker("batches", "training")  # a batch worker adds the zip's photos
    try:
        page.set_input_files("#zip-input", str(tmp_path / "examples.zip"))
        page.click(f"button:has-text('{text['zip']}')")
        page.wait_for_selector(".message-info")
        # The page follows the import and shows what it added once done.
        page.wait_for_selector(f"text={text['imported']}", timeout=120_000)
        counts = page.locator("[data-testid=count]").all_inner_texts()
        assert [c.split()[0] for c in counts] == ["6", "6", "6"]
        assert _fits(page)
        page.screenshot(path=screenshot_dir / f"classifier-{language}.png", full_page=True)

        page.click("[data-testid=train]")
        page.wait_for_selector("#run-bar")  # the progress bar, polled live
        page.wait_for_selector(f"text={text['learned']}", timeout=120_000)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    run = TrainingRun.objects.get()
    assert run.status == "succeeded", run.error
    assert page.locator("[data-testid=per-class] tbody tr").count() == 3
    assert page.locator("[data-testid=confusion] a").count() == 9
    page.screenshot(path=screenshot_dir / f"training-run-{language}.png", full_page=True)

    # A cell of the confusion matrix lists the validation photos behind it.
    page.click("a[data-cell='0-0']")
    page.wait_for_selector("[data-testid=cell-images] img")

    # Export: one zip with the Keras and ONNX files and the labels.
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    with zipfile.ZipFile(download.value.path()) as archive:
        names = archive.namelist()
    assert sorted(n.split("/")[-1] for n in names) == ["labels.json", "model.keras", "model.onnx"]

    # Classify a new photo with it (the classify page comes preselected).
    page.goto(live_server.url + f"/classify/?model={run.model_version_id}")
    page.set_input_files("#file-input", str(tmp_path / "new.jpg"))
    page.click("#classify-button")
    page.wait_for_selector("#results .result")
    assert page.locator("#results .class-name").first.inner_text() == "ladrillo"
    assert errors == []
    assert Classifier.objects.get().active_version_id == run.model_version_id


def test_an_admin_builds_a_grouping_and_a_user_classifies_with_it(
    browser, live_server, client, user, imagenet_model, tmp_path, screenshot_dir
):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    page, errors = _signed_in_page(browser, live_server, client, admin_user, DESKTOP, "es")
    page.goto(live_server.url + reverse("admin:models_registry_grouping_add"))
    page.fill("#id_name", "Gatos o no")
    cats = {"tabby": "n02123045", "tiger cat": "n02123159", "Egyptian": "n02124075"}
    groups = [("Cat", "Gato", cats), ("Not a cat", "No es un gato", None)]
    for index, (name, name_es, searches) in enumerate(groups):
        page.fill(f"#id_groups-{index}-name", name)
        page.fill(f"#id_groups-{index}-name_es", name_es)
        if searches:
            # The admin's filter box: search the 1000 classes, pick, move across.
            for search, key in searches.items():
                box = page.locator(f"#id_groups-{index}-members_input")
                box.fill("")
                box.press_sequentially(search)  # the widget filters on key presses
                page.select_option(f"#id_groups-{index}-members_from", key)
                page.click(f"#id_groups-{index}-members_add")
        else:
            page.check(f"#id_groups-{index}-catch_all")
    page.screenshot(path=screenshot_dir / "admin-grouping-es.png", full_page=True)
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist")
    assert "Gatos o no" in page.inner_text("#result_list")
    from models_registry.models import ModelVersion

    grouping = ModelVersion.objects.get(name="Gatos o no")
    cat = grouping.label_set.labels.get(index=0)
    assert sorted(m.key for m in cat.members.all()) == sorted(cats.values())
    assert errors == []
    page.context.close()

    (tmp_path / "cat.png").write_bytes(photo("chelsea.png"))
    user_page, user_errors = _signed_in_page(browser, live_server, Client(), user, DESKTOP, "es")
    user_page.goto(live_server.url + reverse("classification:classify"))
    user_page.select_option("#id_model", label="Gatos o no v1")
    user_page.set_input_files("#file-input", str(tmp_path / "cat.png"))
    user_page.click("#classify-button")
    user_page.wait_for_selector("#results .result")
    assert user_page.locator("#results .class-name").first.inner_text() == "Gato"
    assert user_errors == []
