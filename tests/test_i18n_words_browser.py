"""The match form page and a map's what-if panel in Swedish, in Debian's Chromium at 1024×768 and 390×844.

The form: an adviser whose browser asks for Swedish sees the criteria, their groups and the form's own
message in Swedish, and nothing scrolls sideways. The map: a staged match whose exact top is one site
(``settings.exact_top = 1``), so that weights far from the profile's leave that site's rank unproven;
the panel, its slider labels, its reset button, the "?" badge's title and the note are Swedish, and
the scores in the new top ten have a decimal comma. Screenshots go to the test's folder (and to
``$SITEMATCH_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitematch import settings
from sitematch.export.browser import CHROMIUM
from sitematch.export.map import write_map
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests._service import PASSWORD, ROOT, serve
from tests.conftest import tiny_layer_frames

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
SIZES = [(1024, 768), (390, 844)]
PROFILE = """
name: Ordtest
requirements: {min_area_ha: 10}
preferences:
  grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 50}
  area_ha: {weight: 1, zero_at: 10, full_at: 40}
  distance_to_rail_m: {weight: 1, full_at: 500, zero_at: 10000}
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("words-shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("words-browser"), profiles=ROOT / "scenarios") as srv:
        yield srv


@pytest.mark.parametrize("viewport", SIZES)
def test_the_match_form_in_swedish(server, browser, shots, viewport) -> None:
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, extra_http_headers={"Accept-Language": "sv"}
    )
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "bo")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/match")
        assert page.evaluate("document.documentElement.lang") == "sv"
        assert page.input_value("#f-name") == "Nytt ärende"  # the new lead's name, in the page's language
        assert page.get_attribute("#group-plot", "open") is not None  # the new lead asks for an area: open
        plot = page.inner_text("#group-plot")
        assert "Tomten" in plot and "Areal" in plot and "tomtens areal" in plot and "hektar" in plot
        assert "Tillgänglig elnätskapacitet" in page.inner_text("#profile-form")
        page.fill("#f-req\\.min_area_ha", "tio")
        page.click("#run-match")
        page.wait_for_selector("#e-req\\.min_area_ha")
        said = page.inner_text("#e-req\\.min_area_ha")
        assert said.startswith("”tio” är inte ett tal: skriv bara ett tal i hektar"), said
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.locator("#c-area_ha").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"form-sv-{viewport[0]}.png"))
        assert errors == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def swedish_map(tmp_path_factory) -> Path:
    saved = settings.exact_top
    settings.exact_top = 1  # one exact site: the others are only bounded, so a rank can go unproven
    try:
        layers = LayerSet(tiny_layer_frames(), origin="tiny fixture")
        result = match(parse_profile(PROFILE), layers, staged=True)
    finally:
        settings.exact_top = saved
    return write_map(result, layers, tmp_path_factory.mktemp("words-map") / "map.html", lang="sv")


@pytest.mark.parametrize("viewport", SIZES)
def test_the_what_if_panel_in_swedish(swedish_map: Path, browser, shots, viewport) -> None:
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(swedish_map.as_uri())
        page.wait_for_function("window.smWhatIf !== undefined")
        page.click(".sm-whatif summary")
        panel = page.inner_text(".sm-whatif")
        for words in ("Tänk om? Vikter", "Tillgänglig elnätskapacitet", "Areal", "Avstånd till järnväg",
                      "Återställ", "Ny topp tio:"):  # fmt: skip
            assert words in panel, words
        # A (25 ha) scores 75,6 with the profile's weights (hand: grid 50/50 MW = 1, area (25-10)/30 = 0.5,
        # rail 2700 m: (10000-2700)/9500 = 0.768; 100/3 x 2.268 = 75.6)
        assert "1980:A 75,6" in page.inner_text("#sm-whatif-top")
        # all weight on the area: A's 50 points no longer beat what C (30 ha, unmeasured here) could score
        page.evaluate("window.smWhatIf.setWeights([0, 10, 0])")
        assert page.evaluate("window.smWhatIf.ranks()")["1980:A"] is None
        note = page.inner_text("#sm-whatif-note")
        assert note.startswith("1 av 1 tomter: placeringen är inte säker med dessa vikter"), note
        assert page.get_attribute("#sm-whatif-top li", "title") == "placeringen är inte säker"
        badge = page.locator(".sm-rank.sm-unproven").first
        assert (
            badge.get_attribute("title")
            == "placeringen är inte säker med dessa vikter: det kräver en ny körning på servern"
        )
        page.screenshot(path=str(shots / f"whatif-sv-{viewport[0]}.png"))
        page.click("#sm-whatif-reset")
        assert page.inner_text("#sm-whatif-note") == ""
        assert errors == []
    finally:
        page.close()
