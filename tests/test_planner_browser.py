"""The municipality's and the planner's pages in a real browser: Debian's Chromium driven by Playwright,
against ``sitematch serve`` on loopback with the bundled ``scenarios/`` (two of them confidential leads).

Every request that is not to the server on loopback (or a ``data:`` URL inside the maps) is
blocked and any JavaScript error in any frame fails the test. The municipality's "leads my plots
fit" view names the confidential leads only by their sector — their names, companies, contacts
and references are in neither the page, its map, nor the CSV and JSON it offers. The planner's
kartbild and sheets render offline. No page scrolls sideways at 390×844 or 1024×768. With
``SITEMATCH_SCREENSHOTS=docs/service`` the screenshots (1024×768) are kept there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM
from sitematch.planner.maps import FIT_COLOURS
from tests._service import PASSWORD, ROOT, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
#: What the two confidential scenarios say about their leads (names, companies, contacts, references, descriptions).
SECRETS = (
    "Battery-component plant",
    "BS-2026-114",
    "Cathode-material",
    "Data-centre campus",
    "DC-2026-007",
    "Hyperion",
    "Exempelsson",
    "hyperscale",
)
#: The fit map's sites, by their fill (how many leads each fits).
FIT_PATHS = ", ".join(f"path.leaflet-interactive[fill='{c}']" for c in FIT_COLOURS)
SIZES = ({"width": 1024, "height": 768}, {"width": 390, "height": 844})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("planner-browser"), profiles=ROOT / "scenarios") as srv:
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


class Person:
    """One person's browser: loopback only, every JavaScript error kept."""

    def __init__(self, browser, server, shots: Path, user: str) -> None:
        self.server, self.shots = server, shots
        self.context = browser.new_context(viewport=SIZES[0], accept_downloads=True)
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context.route("**/*", self._route)
        self.context.on("weberror", lambda e: self.errors.append(f"weberror: {e.error}"))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.page.goto(f"{server.url}/login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith((self.server.url, "data:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def open(self, path: str, ready: str) -> None:
        self.page.goto(f"{self.server.url}{path}", timeout=120_000)
        self.page.wait_for_selector(ready, timeout=120_000)

    def no_sideways_scroll(self, name: str) -> None:
        """At each size: the page is no wider than the window; the 1024×768 screenshot is kept."""
        for size in SIZES:
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(300)
            wide = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{name} scrolls {wide} px sideways at {size}"
        self.page.set_viewport_size(SIZES[0])
        self.page.wait_for_timeout(900)  # let a map finish its zoom animation
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=False)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert [u for u in self.blocked if "tile.openstreetmap.org" not in u] == []


def test_municipality_sees_the_leads_its_plots_fit_and_never_a_confidential_leads_name(browser, server, shots) -> None:
    anna = Person(browser, server, shots, "anna")
    anna.open("/municipality/fit", "#fit tr[data-plot]")
    fit = anna.page.inner_text("#fit")
    assert "battery / electrification manufacturing" in fit  # the confidential lead, by its sector
    assert "Regional distribution centre" in fit  # a lead it may see, by name
    sites = anna.page.frame_locator("#fit-map").locator(FIT_PATHS)
    sites.first.wait_for(timeout=60_000)
    assert sites.count() >= len(anna.page.locator("#fit tr[data-plot]").all())  # each plot drawn (and its dot)
    anna.no_sideways_scroll("municipality-fit")
    texts = [anna.page.content(), anna.page.frames[1].content()]
    for path in ("/municipality/fit.csv", "/municipality/fit.json", "/municipality/more"):
        answer = anna.context.request.get(f"{server.url}{path}")
        assert answer.status == 200, path
        texts.append(answer.text())
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    anna.page.click("#more-link")
    anna.page.wait_for_selector("section.lead-gaps")
    assert "Confidential lead" in anna.page.inner_text("main")
    anna.no_sideways_scroll("municipality-more")
    forced = anna.context.request.get(f"{server.url}/municipality/fit?code=0180")
    assert forced.status == 403  # another municipality's view
    anna.close()


def test_planner_sees_the_kartbild_sheets_matrix_and_brownfield_offline(browser, server, shots) -> None:
    pia = Person(browser, server, shots, "pia")
    pia.open("/planner/gaps", "#binding")
    kartbild = pia.page.frame_locator("#kartbild-map")
    areas = kartbild.locator("path.leaflet-interactive[stroke='#2d3748']")  # the choropleth's outline
    areas.first.wait_for(timeout=60_000)
    assert areas.count() >= 5  # the member municipalities, coloured
    assert "Kartbild" in kartbild.locator(".sm-legend").inner_text()
    pia.no_sideways_scroll("planner-gaps")
    pia.page.locator("#kartbild-map").scroll_into_view_if_needed()
    pia.page.wait_for_timeout(600)
    pia.page.screenshot(path=str(shots / "planner-kartbild.png"))

    pia.open("/planner/sheets", "#sheets tr td")
    sheet = pia.page.frame_locator("#sheet")
    sheet.locator("h1").wait_for(timeout=30_000)
    assert sheet.locator("svg").count() >= 1  # the municipality's map
    pia.no_sideways_scroll("planner-sheets")
    pdf = pia.context.request.get(f"{server.url}/planner/sheets/1980.pdf", timeout=120_000)
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"

    pia.open("/planner/matrix", "#matrix tr td")
    assert pia.page.evaluate("document.getElementById('matrix-picture').naturalWidth") > 100  # the heat map
    pia.no_sideways_scroll("planner-matrix")

    pia.open("/brownfield?sort=area", "#brownfield tr td")
    pia.page.frame_locator("#brownfield-map").locator(FIT_PATHS).first.wait_for(timeout=60_000)
    areas_ha = [float(t) for t in pia.page.locator("#brownfield td[data-label='area (ha)']").all_inner_texts()]
    assert len(areas_ha) > 1 and areas_ha == sorted(areas_ha, reverse=True)
    pia.no_sideways_scroll("brownfield")
    pia.close()
