"""Swagger UI and Redoc render from local files; nothing is fetched from another site."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Redoc's side menu shows a logo from its vendor's CDN; the CSP blocks it
# before any connection is made, which is exactly what we want.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize(
    ("path", "marker"), [("/api/docs/", ".swagger-ui .info"), ("/api/redoc/", "redoc h1")]
)
def test_api_docs_render_from_local_files(
    browser, live_server, client, user, path, marker, screenshot_dir
):
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    problems, loaded, blocked = [], [], []
    page.on(
        "console",
        lambda m: m.type == "error" and REDOC_LOGO not in m.text and problems.append(m.text),
    )
    page.on("requestfinished", lambda r: loaded.append(r.url))
    page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    page.goto(live_server.url + path)
    page.wait_for_selector(marker, timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=screenshot_dir / f"api-docs-{path.strip('/').replace('/', '-')}.png")
    assert "Picsort API" in page.inner_text("body")
    assert [
        u for u in loaded if not u.startswith((live_server.url, f"blob:{live_server.url}"))
    ] == []
    assert all(url == REDOC_LOGO and failure == "csp" for url, failure in blocked), blocked
    assert problems == []
    context.close()
