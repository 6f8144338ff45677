"""The map in a real browser: Debian's headless Chromium, offline, driven by Playwright.

A map whose JavaScript failed to load is a grey page, and a test that only waits for the page to
load passes on it. These tests block every request that is not a file:// URL (the map must carry
everything it needs), fail on any JavaScript error, and assert what a person sees: the drawn
sites, the layer control, the legend, the sources, a popup on click.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.export.map import write_map
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"
    ),
]

PROFILE = """
name: Browser test
parameters: {grid_connection_radius_m: 3000}
requirements: {min_area_ha: 20}
preferences:
  distance_to_motorway_junction_m: {weight: 1, full_at: 1000, zero_at: 5000}
  grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 50}
"""


def _is_tile(url: str) -> bool:
    return "tile.openstreetmap.org" in url


def badge(page, rank: int):
    """The rank badge with exactly this number."""
    return page.locator(".leaflet-marker-pane .sm-rank").filter(has_text=re.compile(rf"^{rank}$")).first


def open_map(path: Path, screenshot: Path | None = None):
    from playwright.sync_api import sync_playwright

    report: dict = {"errors": [], "failed": [], "blocked": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def route(r):
            if r.request.url.startswith(("file://", "data:")):
                return r.continue_()
            report["blocked"].append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: report["errors"].append(f"pageerror: {e}"))
        page.on(
            "console",
            lambda m: (
                report["errors"].append(f"console: {m.text}")
                if m.type == "error" and "ERR_FAILED" not in m.text and "tile" not in m.text
                else None
            ),
        )
        page.on("requestfailed", lambda r: None if _is_tile(r.url) else report["failed"].append(r.url))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-control-layers", timeout=15_000)
        page.wait_for_timeout(500)
        report["paths"] = page.locator("path.leaflet-interactive").count()
        report["overlays"] = [
            t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        ]
        report["legend"] = page.locator(".sm-legend").inner_text()
        report["requirements"] = page.locator(".sm-requirements").inner_text()
        report["sources"] = page.locator(".sm-sources").inner_text()
        report["attribution"] = page.locator(".leaflet-control-attribution").inner_text()
        report["rank_labels"] = page.locator(".leaflet-marker-pane .sm-rank").all_inner_texts()
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        # click the best site's rank badge, as a person would: at its centre
        box = badge(page, 1).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        report["popup"] = page.locator(".leaflet-popup-content").inner_text()
        browser.close()
    non_tiles = [u for u in report["blocked"] if not _is_tile(u)]
    report["non_tile_requests"] = non_tiles
    return report


def test_tiny_map_renders_offline_with_sites_layers_legend_and_popup(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    path = write_map(result, tiny_layers, tmp_path / "map.html")
    r = open_map(path, tmp_path / "shot.png")
    assert r["errors"] == [] and r["failed"] == [] and r["non_tile_requests"] == []
    # 2 ranked + 1 near miss (B, 16 of 20 ha) + 2 municipalities + motorway + rail = 7 paths,
    # plus circle markers: 2 junctions, 1 terminal, 1 port, 2 substations, 1 airport = 7, and the near miss's ring
    assert r["paths"] == 15
    assert any(o.startswith("Ranked sites (2)") for o in r["overlays"])
    assert any(o.startswith("Near misses (1)") for o in r["overlays"])
    for name in (
        "Motorways (generalised)",
        "Rail (generalised)",
        "Grid capacity (illustrative)",
        "Ports (max draught)",
    ):
        assert any(o.strip() == name for o in r["overlays"]), name
    assert "score" in r["legend"] and "near miss" in r["legend"] and "substation" in r["legend"]
    assert "Area at least 20 ha" in r["requirements"] and "Browser test" in r["requirements"]
    assert "Data sources" in r["sources"]
    assert "GeoNames (CC BY 4.0)" in r["attribution"] and "OpenStreetMap" in r["attribution"]
    assert "Nothing in the sources" not in r["sources"]
    assert r["rank_labels"] == ["1", "2"]
    assert "#1 · score 100.0" in r["popup"] and "Grid capacity available" in r["popup"]


def test_demo_region_map_renders(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    layers = LayerSet.from_path(root / "layers")
    from sitematch.profile import load_profile

    result = match(load_profile(root / "scenarios" / "battery_plant.yaml"), layers)
    path = write_map(result, layers, tmp_path / "map.html")
    shot = tmp_path / "demo.png"
    r = open_map(path, shot)
    assert r["errors"] == [] and r["failed"] == [] and r["non_tile_requests"] == []
    n_munis = len(layers["municipalities"])
    expected_sites = len(result.ranked) + len(result.near_misses)
    assert r["paths"] >= n_munis + expected_sites
    assert r["rank_labels"][:3] == ["1", "2", "3"]
    assert shot.stat().st_size > 50_000


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


PANELS = (
    ".sm-requirements",
    ".sm-legend",
    ".sm-sources",
    ".leaflet-control-layers",
    ".leaflet-control-zoom",
    ".leaflet-control-scale",
    ".leaflet-control-attribution",
)


@pytest.fixture(scope="module")
def demo_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(__file__).parent.parent
    from sitematch.profile import load_profile

    layers = LayerSet.from_path(root / "layers")
    result = match(load_profile(root / "scenarios" / "logistics_warehouse.yaml"), layers)
    return write_map(result, layers, tmp_path_factory.mktemp("map") / "map.html")


@pytest.mark.parametrize("viewport", [(1400, 900), (1024, 768)])
def test_the_map_is_readable_at_a_glance(demo_map: Path, viewport: tuple[int, int], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" and "ERR_FAILED" not in m.text else None
        )
        page.goto(demo_map.as_uri())
        page.wait_for_selector(".sm-legend", timeout=15_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(tmp_path / f"map_{viewport[0]}.png"))
        # the best site's badge is the topmost thing at its position, and every top-10 badge is drawn
        first = badge(page, 1)
        box = first.bounding_box()
        hit = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y); return e && e.closest('.sm-rank') ? "
            "e.closest('.sm-rank').textContent : (e ? e.className.baseVal || e.className : null); }",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert hit == "1", f"at #1's badge the browser finds {hit!r}"
        shown = page.locator(".leaflet-marker-pane .sm-rank").all_inner_texts()
        assert {str(i) for i in range(1, 11)} <= set(shown)
        colours = {b.evaluate("e => getComputedStyle(e).backgroundColor") for b in page.locator(".sm-rank").all()[:10]}
        assert len(colours) > 1, "badges are coloured by score"
        assert page.locator(".sm-place").count() >= 5  # town names drawn with no tiles
        # no panel covers another (or the scale bar, the zoom, the attribution)
        boxes = {sel: page.locator(sel).first.bounding_box() for sel in PANELS}
        assert all(boxes.values()), boxes
        pairs = [(a, b) for i, a in enumerate(PANELS) for b in PANELS[i + 1 :] if _overlap(boxes[a], boxes[b])]
        assert pairs == []
        # a popup opens on the badge, and its close button is not under any panel
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".leaflet-popup-close-button", timeout=5000)
        page.wait_for_timeout(600)  # auto-pan
        close = page.locator(".leaflet-popup-close-button").bounding_box()
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert "#1 · score" in popup and "SWEREF 99 TM" in popup and "nearest:" in popup and "greenfield" in popup
        covered = [sel for sel in PANELS if _overlap(close, page.locator(sel).first.bounding_box())]
        assert covered == []
        page.screenshot(path=str(tmp_path / f"popup_{viewport[0]}.png"))
        # the near-miss switch hides and shows them
        rings = page.locator("path.leaflet-interactive[stroke='#dd6b20']").count()
        assert rings > 0
        page.locator("#sm-near-toggle").uncheck()
        assert page.locator("path.leaflet-interactive[stroke='#dd6b20']").count() == 0
        page.locator("#sm-near-toggle").check()
        assert page.locator("path.leaflet-interactive[stroke='#dd6b20']").count() == rings
        browser.close()
    assert errors == []
