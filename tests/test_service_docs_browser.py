"""``/docs``, ``/redoc`` and the OGC API's pages in Debian's Chromium, with every non-loopback request blocked.

Swagger UI and ReDoc are served from the package's vendored files; offline they must still draw
the API (its title and its operations), load nothing from elsewhere and raise no JavaScript error.
The OGC API's HTML views fit a 390 px wide phone without sideways scrolling of the page. With
``SITEMATCH_SCREENSHOTS=<folder>`` the screenshots (1024x768 and 390x844) are kept there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM
from tests._service import EXAMPLE_CSV, auth, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
SIZES = {"desktop": (1024, 768), "phone": (390, 844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("docs")) as srv:
        with srv.client("anna") as anna:
            assert anna.post("/api/plots", files={"file": ("t.csv", EXAMPLE_CSV.read_bytes())}).status_code == 201
        yield srv


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


class Offline:
    """A browser page that reaches only the server on loopback, keeping what it blocked and every JS error."""

    def __init__(self, browser, server, size: tuple[int, int], headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, extra_http_headers=headers or {}
        )
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.loaded: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith((self.server.url + "/", "data:", "about:", "blob:")):
            self.loaded.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_swagger_ui_draws_the_api_offline(browser, server, shots, size) -> None:
    view = Offline(browser, server, SIZES[size])
    view.page.goto(f"{server.url}/docs")
    view.page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    view.page.wait_for_selector(".opblock", timeout=60_000)
    title = view.page.inner_text(".swagger-ui .info .title")
    operations = view.page.locator(".opblock").count()
    view.page.screenshot(path=str(shots / f"docs-swagger-{size}.png"))
    view.close()
    assert "sitematch" in title and "OAS 3.0" in title
    assert operations >= 25  # every route of the API and the OGC API
    assert view.blocked == [] and view.errors == []
    assert any("/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in u for u in view.loaded)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_redoc_draws_the_api_offline(browser, server, shots, size) -> None:
    view = Offline(browser, server, SIZES[size])
    view.page.goto(f"{server.url}/redoc")
    view.page.wait_for_selector("h1", timeout=60_000)
    view.page.wait_for_selector("text=Features, a page at a time", state="attached", timeout=60_000)
    heading = view.page.inner_text("h1")
    view.page.screenshot(path=str(shots / f"docs-redoc-{size}.png"))
    view.close()
    assert "sitematch" in heading
    assert view.blocked == [] and view.errors == []


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize(
    ("name", "path"),
    [("landing", "/ogc/"), ("collections", "/ogc/collections"), ("collection", "/ogc/collections/plots"),
     ("items", "/ogc/collections/plots/items?municipality=1980&limit=5"),
     ("item", "/ogc/collections/plots/items/1980:Å-1")],
)  # fmt: skip
def test_ogc_pages_fit_a_phone(browser, server, shots, size, name, path) -> None:
    view = Offline(browser, server, SIZES[size], {**auth(server.tokens["bo"]), "Accept": "text/html"})
    response = view.page.goto(f"{server.url}{path}")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    overflow = view.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    view.page.screenshot(path=str(shots / f"ogc-{name}-{size}.png"))
    view.close()
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at {size}"
    assert view.blocked == [] and view.errors == []
