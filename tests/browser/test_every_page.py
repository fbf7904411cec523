"""Every page of the site, signed out, as a user with data and as staff, in
English and Spanish, on a 360 px phone and a 1280 px desktop: none scrolls
sideways, every table column can be reached, no content image is smaller than
40 px, axe-core finds no serious or critical problem, no page fails and the
browser reports no error (a CSP violation is one). A screenshot of each page
goes to artifacts/screenshots/pages/.

One data set per screen size; both languages and all three roles walk it."""

import io
import zipfile
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.accounts.factories import UserFactory
from tests.browser.walker import accessibility_problems, layout_problems
from tests.conftest import photo
from tests.training.examples import TEXTURES, crops

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
LANGUAGES = ("en", "es")
# Django's own filter widget (SelectFilter2.js) puts aria-label on a <span>
# without a role; the grouping admin uses it. Django's markup, not ours.
ADMIN_AXE_EXCLUDE = [".help-tooltip.search-label-icon"]
MAX_HEADER_PX = 72  # one row, on a phone too


@dataclass
class Site:
    user: object
    staff: object
    prediction: int
    batch: int
    classifier: int
    class_id: int
    run: int
    version: int
    model: int
    webhook: int


def _site(imagenet_model) -> Site:
    """A user with classifications, a finished batch, a trained classifier and
    an API token; and an administrator."""
    from training import services as training
    from training.models import TrainingRun

    user = UserFactory(name="Ada Lovelace-Byron")
    staff = UserFactory(is_staff=True, is_superuser=True)
    api = APIClient()
    api.force_authenticate(user)
    files = [SimpleUploadedFile(n, photo(n)) for n in ("coffee.png", "chelsea.png")]
    response = api.post("/api/v1/classifications/", {"file": files}, format="multipart")
    assert response.status_code in (200, 201, 207), response.content
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("coffee.png", "astronaut.png", "rocket.jpg"):
            zipped.writestr(f"a-rather-long-folder-name/{name}", photo(name))
        zipped.writestr("broken.jpg", b"\xff\xd8 not really a photo")
    archive.seek(0)
    archive.name = "photos.zip"
    response = api.post("/api/v1/batches/", {"archive": archive}, format="multipart")
    assert response.status_code == 202, response.content  # run inline (immediate backend)
    api_token_create(user=user, name="My laptop")

    classifier = training.classifier_create(
        user=user, name="Suelos de la finca", class_names=list(TEXTURES)
    )
    from core.uploads import Upload

    training.examples_add(
        classifier=classifier,
        uploads_by_class={
            name: [Upload(f"{name}-{i}.jpg", data) for i, data in enumerate(crops(src, 6, seed=i))]
            for i, (name, src) in enumerate(TEXTURES.items())
        },
    )
    run, _created = training.training_start(classifier=classifier, user=user)  # inline
    run = TrainingRun.objects.get(pk=run.pk)
    assert run.status == "succeeded", run.error
    # Added since: the same photo in two classes and a photo of something else,
    # for the checks on the classifier's page.
    training.examples_add(
        classifier=classifier,
        uploads_by_class={
            "hierba": [
                Upload("ladrillo-0.jpg", crops(TEXTURES["ladrillo"], 6, seed=0)[0]),
                Upload("coffee.png", photo("coffee.png")),
            ]
        },
    )
    training.examples_look(classifier=classifier)
    from classification.models import BatchJob, Prediction

    return Site(
        webhook=_webhook(user),
        user=user,
        staff=staff,
        prediction=Prediction.objects.filter(user=user).order_by("id").first().pk,
        batch=BatchJob.objects.get(user=user).pk,
        classifier=classifier.pk,
        class_id=classifier.classes.order_by("id").first().pk,
        run=run.pk,
        version=run.model_version_id,
        model=imagenet_model.pk,
    )


def _webhook(user) -> int:
    """An endpoint with a long address and a failed delivery (rows written
    directly: its address is public, and nothing is sent from here)."""
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        user=user,
        url="https://hooks.example.org/picsort/a-rather-long-path/that-keeps-going?token=abcdef",
        events=["batch.finished", "training.finished", "training.failed"],
        description="Build server",
        secret="whsec_walker",
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="batch.finished",
        status="failed",
        attempts=6,
        response_status=500,
        error="The receiver answered with HTTP status 500.",
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="webhook.test", status="succeeded", attempts=1, response_status=200
    )
    return endpoint.pk


def _pages(role: str, site: Site) -> dict[str, str]:
    common = {"home": "/", "not-found": "/no-such-page/"}
    if role == "anonymous":
        return {
            **common,
            "login": reverse("account_login"),
            "signup": reverse("account_signup"),
            "password-reset": reverse("account_reset_password"),
            "password-reset-done": reverse("account_reset_password_done"),
            "verification-sent": reverse("account_email_verification_sent"),
        }
    if role == "staff":
        return {
            "admin": reverse("admin:index"),
            "admin-versions": reverse("admin:models_registry_modelversion_changelist"),
            "admin-version": reverse(
                "admin:models_registry_modelversion_change", args=[site.model]
            ),
            "admin-aliases": reverse("admin:models_registry_modelalias_changelist"),
            "admin-grouping-add": reverse("admin:models_registry_grouping_add"),
            "admin-grouping-wordnet": reverse("admin:models_registry_grouping_wordnet"),
            "admin-users": reverse("admin:accounts_user_changelist"),
            "admin-classifiers": reverse("admin:training_classifier_changelist"),
            "classify": reverse("classification:classify"),
            "evaluation-sets": reverse("evaluation:sets"),
        }
    classifier = site.classifier
    return {
        **common,
        "classify": reverse("classification:classify"),
        "classify-with-classifier": reverse("classification:classify") + f"?model={site.version}",
        "history": reverse("classification:history"),
        "history-empty-filter": reverse("classification:history") + "?model=999999",
        "prediction": reverse("classification:prediction_detail", args=[site.prediction]),
        "history-delete-all": reverse("classification:history_delete_all"),
        "batches": reverse("classification:batch_new"),
        "batch": reverse("classification:batch_detail", args=[site.batch]),
        "classifiers": reverse("training:list"),
        "classifier": reverse("training:detail", args=[classifier]),
        "class-examples": reverse("training:examples", args=[classifier, site.class_id]),
        "training-run": reverse("training:run", args=[site.run]),
        "training-run-cell": reverse("training:run", args=[site.run]) + "?true=0&predicted=0",
        "classifier-delete": reverse("training:delete", args=[classifier]),
        "evaluation-sets": reverse("evaluation:sets"),
        "profile": reverse("accounts:profile"),
        "emails": reverse("account_email"),
        "password-change": reverse("account_change_password"),
        "connections": reverse("socialaccount_connections"),
        "tokens-revoke-all": reverse("accounts:token_revoke_all"),
        "webhooks": reverse("webhooks:list"),
        "webhook": reverse("webhooks:detail", args=[site.webhook]),
        "webhook-created": reverse("webhooks:created"),
        "account-delete": reverse("accounts:delete"),
        "logout": reverse("account_logout"),
    }


def _context(browser, live_server, viewport, language, user, scheme="light"):
    context = browser.new_context(viewport=viewport, locale=language, color_scheme=scheme)
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies["sessionid"].value
        cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
    context.add_cookies(cookies)
    return context


def _walk(context, live_server, pages, shots, tag) -> list[str]:
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # the responses tell which
            and errors.append(f"console: {m.text}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            (r.status >= 500 or (r.status >= 400 and r.request.resource_type != "document"))
            and errors.append(f"{r.status} {r.url}")
        ),
    )
    problems = []
    for name, url in pages.items():
        errors.clear()
        response = page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        found = [] if response.status < 400 or name == "not-found" else [f"HTTP {response.status}"]
        # Django's admin is Django's: its 13 px icons are icons, not content.
        admin = name.startswith("admin")
        found += layout_problems(page, images=not admin)
        found += accessibility_problems(page, exclude=ADMIN_AXE_EXCLUDE if admin else None)
        found += errors
        header = page.evaluate(
            "document.querySelector('.site-header')?.getBoundingClientRect().height || 0"
        )
        if header > MAX_HEADER_PX:
            found.append(f"the header is {header:.0f} px tall")
        page.screenshot(path=shots / f"{name}-{tag}.png", full_page=True)
        problems += [f"{name} [{tag}] {url}: {problem}" for problem in found]
    page.close()
    return problems


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_every_page_fits_and_passes_axe(
    browser, live_server, imagenet_model, screenshot_dir, viewport
):
    site = _site(imagenet_model)
    shots = screenshot_dir / "pages"
    shots.mkdir(exist_ok=True)
    size = f"{viewport['width']}x{viewport['height']}"
    users = {"anonymous": None, "user": site.user, "staff": site.staff}
    walks = [(role, language, "light") for language in LANGUAGES for role in users]
    if viewport == DESKTOP:  # dark mode (the system setting): colours and contrast
        walks += [("anonymous", "en", "dark"), ("user", "en", "dark")]
    problems = []
    for role, language, scheme in walks:
        context = _context(browser, live_server, viewport, language, users[role], scheme)
        tag = f"{role}-{language}-{size}" + ("-dark" if scheme == "dark" else "")
        problems += _walk(context, live_server, _pages(role, site), shots, tag)
        context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


BROKEN = """<!DOCTYPE html><html><body style="margin:0">
<main>
  <div style="overflow:hidden;width:200px"><table id="clipped"><tr>
    <td>first</td><td style="white-space:nowrap">a column far too wide to be seen at all</td>
  </tr></table></div>
  <table id="hidden-column"><thead><tr><th>Name</th><th style="display:none">Size</th></tr></thead>
    <tbody><tr><td>a</td><td style="display:none">12 MB</td></tr></tbody></table>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20" alt="">
  <div style="width:500px">wide</div>
</main></body></html>"""


def test_the_walker_sees_what_it_must(browser):
    """Its checks on a page made to fail each of them (no server needed)."""
    page = browser.new_page(viewport=PHONE)
    page.set_content(BROKEN)
    problems = "\n".join(layout_problems(page))
    assert "scrolls sideways: 500 px wide in 360 px" in problems
    assert "table 1 #clipped: “a column far too wide" in problems
    assert "table 2 #hidden-column: the column of “Size”" in problems
    assert "is 20×20 px" in problems
    page.set_content('<main><img src="x.png" alt=""><button></button></main>')
    assert any("button-name" in p for p in accessibility_problems(page))
    page.close()
