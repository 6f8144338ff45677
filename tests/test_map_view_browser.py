"""The map's first view in Debian's Chromium: the best sites open visible and clickable.

At 1024×768 and at phone width (390×844), on the bundled region and on a lead whose ranked sites
lie at the region's far corners (so the fitted view puts them at the map's edges, where the
panels are): the badges of ranks 1–3 are inside the viewport and ``document.elementFromPoint``
at each badge's centre is that badge — not a panel, not another badge.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.export.map import write_map
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import load_profile, parse_profile

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"),
]

ROOT = Path(__file__).resolve().parent.parent
VIEWPORTS = [(1024, 768), (390, 844)]
#: Only the plots of Gävle (north-east; the only plots in county 21), Linköping (south) and
#: Karlskoga (west): the fitted view has ranked sites at three of its edges.
EDGES = """
name: Edge lead
region: {counties: ["21"], include_municipalities: ["0580", "1883"]}
requirements: {min_area_ha: 5}
preferences:
  area_ha: {weight: 1, zero_at: 0, full_at: 60}
"""

HITS = """() => {
  const out = {};
  for (const r of ['1', '2', '3']) {
    const e = [...document.querySelectorAll('.leaflet-marker-pane .sm-rank')].find(x => x.textContent === r);
    if (!e) { out[r] = null; continue; }
    const b = e.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    const hit = document.elementFromPoint(x, y);
    const panel = hit && hit.closest('.leaflet-control') ? 'panel ' : '';
    const what = hit ? panel + String(hit.className.baseVal ?? hit.className) : null;
    out[r] = {x, y, inside: x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight,
              hit: hit && hit.closest('.sm-rank') ? hit.closest('.sm-rank').textContent : what};
  }
  return out;
}"""


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    layers = LayerSet.from_path(ROOT / "layers")
    out = tmp_path_factory.mktemp("maps")
    leads = {
        "logistics": load_profile(ROOT / "scenarios" / "logistics_warehouse.yaml"),
        "battery": load_profile(ROOT / "scenarios" / "battery_plant.yaml"),
        "edges": parse_profile(EDGES),
    }
    paths = {}
    for name, lead in leads.items():
        result = match(lead, layers)
        assert len(result.ranked) >= 3, name
        paths[name] = write_map(result, layers, out / f"{name}.html")
    return paths


def _open(page, path: Path) -> list[str]:
    errors: list[str] = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(".sm-legend", timeout=15_000)
    page.wait_for_timeout(800)
    return errors


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
@pytest.mark.parametrize("lead", ["logistics", "battery", "edges"])
def test_the_best_three_badges_open_visible_and_on_top(maps, lead: str, viewport, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        errors = _open(page, maps[lead])
        page.screenshot(path=str(tmp_path / f"{lead}_{viewport[0]}.png"))
        hits = page.evaluate(HITS)
        small = viewport[0] < 700
        folded = page.evaluate("() => [...document.querySelectorAll('.sm-panel details')].map(d => d.open)")
        browser.close()
    assert errors == []
    for rank in ("1", "2", "3"):
        h = hits[rank]
        assert h is not None, f"#{rank} has no badge"
        assert h["inside"], f"#{rank}'s badge is outside the viewport: {h}"
        assert h["hit"] == rank, f"at #{rank}'s badge the browser finds {h['hit']!r}"
    if small:
        assert folded and not any(folded), "on a phone the panels open folded"
    else:
        assert folded[0], "on a laptop the lead's panel opens"


def test_group_counts_do_not_look_like_rank_badges(maps) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        errors = _open(page, maps["logistics"])
        group = page.locator(".leaflet-marker-pane .marker-cluster div").first
        badge = page.locator(".leaflet-marker-pane .sm-rank").first
        style = "e => [getComputedStyle(e).borderRadius, getComputedStyle(e).backgroundColor]"
        g_radius, g_colour = group.evaluate(style)
        b_radius, b_colour = badge.evaluate(style)
        count = group.evaluate("e => getComputedStyle(e.querySelector('span'), '::before').content")
        legend = page.locator(".sm-legend").inner_text()
        browser.close()
    assert errors == []
    assert g_radius != b_radius and g_colour != b_colour  # a square dark count, not a round score colour
    assert count == '"+"'  # read as "+3 more", not as rank 3
    assert "more ranked sites here" in legend


def test_a_map_first_shown_in_a_frame_without_size_is_fitted_once_it_has_one(maps, tmp_path: Path) -> None:
    """A map loaded in a hidden (zero-sized) frame fits its sites when the frame is shown, not the world."""
    from playwright.sync_api import sync_playwright

    shutil.copy(maps["logistics"], tmp_path / "map.html")
    frame = tmp_path / "frame.html"
    frame.write_text('<!doctype html><iframe id="f" src="map.html" style="width:0;height:0;border:0"></iframe>')
    zoom = "() => Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k].getZoom())[0]"
    show = "() => { const f = document.getElementById('f'); f.style.width = '800px'; f.style.height = '600px'; }"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(frame.as_uri())
        page.frame_locator("#f").locator(".sm-legend").wait_for(state="attached", timeout=15_000)
        page.wait_for_timeout(500)
        page.evaluate(show)
        page.wait_for_timeout(1000)
        shown = page.frame_locator("#f").locator("body").evaluate(zoom)
        browser.close()
    assert errors == []
    assert shown >= 5, f"the map opened at zoom {shown}: the world, not the region's sites"
