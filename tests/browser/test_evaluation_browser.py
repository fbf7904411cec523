"""Changing the model safely, in Debian's chromium: a user corrects a wrong
answer from the classify page, and an administrator reads the evaluation
pages (report, a confusion cell's photos, comparison) and the replay and inbox
in the admin, at 360x740 and 1280x800 in English and Spanish. Each page must
fit, pass axe-core's serious checks and log no error; screenshots are kept."""

import pytest
from django.test import Client
from django.urls import reverse

from evaluation import services
from evaluation.models import Feedback
from models_registry import services as registry
from tests.accounts.factories import UserFactory
from tests.browser.test_classify_browser import DESKTOP, PHONE, _signed_in_page
from tests.browser.walker import accessibility_problems, layout_problems
from tests.conftest import photo
from tests.evaluation.conftest import colour_models
from tests.evaluation.helpers import classify_colour, colour_photos, zip_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [
    pytest.param(PHONE, "en", id="phone-en"),
    pytest.param(PHONE, "es", id="phone-es"),
    pytest.param(DESKTOP, "en", id="desktop-en"),
    pytest.param(DESKTOP, "es", id="desktop-es"),
]
THANKS = {"en": "your correction was recorded", "es": "su corrección quedó registrada"}


def _size(viewport) -> str:
    return f"{viewport['width']}x{viewport['height']}"


def _check(page, *, admin: bool = False) -> list[str]:
    return layout_problems(page, images=not admin) + accessibility_problems(
        page, exclude=[".help-tooltip.search-label-icon"] if admin else None
    )


@pytest.mark.parametrize(("viewport", "language"), [SIZES[1], SIZES[2]])
def test_a_wrong_answer_is_corrected_from_the_classify_page(
    browser, live_server, client, user, imagenet_model, tmp_path, screenshot_dir, viewport, language
):
    (tmp_path / "coffee.png").write_bytes(photo("coffee.png"))
    page, errors = _signed_in_page(browser, live_server, client, user, viewport, language)
    page.goto(live_server.url + reverse("classification:classify"))
    page.set_input_files("#file-input", str(tmp_path / "coffee.png"))
    page.click("#classify-button")
    page.locator("#results a.result-feedback").click()
    page.wait_for_url("**/history/*/#feedback")
    page.locator("#feedback summary").click()
    page.select_option("#feedback-correct", index=5)
    page.screenshot(
        path=screenshot_dir / f"feedback-form-{language}-{_size(viewport)}.png", full_page=True
    )
    assert _check(page) == []
    page.locator("#feedback input[name=consent]").check()
    page.locator("#feedback button[type=submit]").click()
    page.wait_for_selector("[data-testid=feedback-given]")
    assert THANKS[language] in page.inner_text(".messages")
    feedback = Feedback.objects.get(user=user)
    assert feedback.consent and feedback.status == "inbox"
    assert feedback.correct_key != feedback.predicted_key
    assert errors == []
    page.context.close()


def _staff_site():
    good, worse = colour_models()
    registry.model_alias_point(alias="default", version=good)
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    for colour in ("green", "red", "blue", "green"):
        classify_colour(user, colour)
    services.feedback_give(
        user=user, prediction_id=classify_colour(user, "green").pk, correct="blue", consent=True
    )
    evaluation_set = services.evaluation_set_start(
        name="Colores de prueba",
        label_set=good.label_set,
        archive=zip_of(colour_photos(4)),
        user=staff,
    )
    evaluation_set.refresh_from_db()  # imported at once (the immediate task backend)
    before = services.evaluation_start(version=good, evaluation_set=evaluation_set, user=staff)
    after = services.evaluation_start(version=worse, evaluation_set=evaluation_set, user=staff)
    replay = services.replay_start(candidate=worse, user=staff)
    return staff, {
        "sets": reverse("evaluation:sets"),
        "set": reverse("evaluation:set", args=[evaluation_set.pk]),
        "report": reverse("evaluation:report", args=[after.pk]),
        "report-cell": reverse("evaluation:report", args=[after.pk]) + "?true=1&predicted=2",
        "compare": reverse("evaluation:compare") + f"?before={before.pk}&after={after.pk}",
        "admin-replay": reverse("admin:evaluation_replay_change", args=[replay.pk]),
        "admin-evaluation": reverse("admin:evaluation_evaluation_change", args=[after.pk]),
        "admin-inbox": reverse("admin:evaluation_feedback_changelist"),
        "admin-disagreement": reverse("admin:evaluation_feedback_disagreement"),
    }


@pytest.mark.parametrize(("viewport", "language"), SIZES)
def test_the_evaluation_pages_fit_and_pass_axe(
    browser, live_server, screenshot_dir, viewport, language
):
    staff, pages = _staff_site()
    page, errors = _signed_in_page(browser, live_server, Client(), staff, viewport, language)
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    problems = []
    for name, url in pages.items():
        errors.clear()
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        found = _check(page, admin=name.startswith("admin")) + list(errors)
        problems += [f"{name} {url}: {problem}" for problem in found]
        page.screenshot(
            path=screenshot_dir / f"evaluation-{name}-{language}-{_size(viewport)}.png",
            full_page=True,
        )
    assert problems == []
    # The cell's photos are there and load.
    page.goto(live_server.url + pages["report-cell"])
    images = page.locator("[data-testid=cell-images] img")
    assert images.count() == 4
    images.last.scroll_into_view_if_needed()  # they load lazily
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=cell-images] img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.context.close()
