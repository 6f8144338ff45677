"""The map in a real browser: Debian's headless Chromium, offline, driven by Playwright.

A map whose JavaScript failed to load is a grey page, and a test that only waits for the page to
load passes on it. These tests block every request that is not a file:// URL (the map must carry
everything it needs), fail on any JavaScript error, and assert what a person sees: the drawn
sites, the layer control, the legend, the sources, a popup on click.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.export.map import write_map
from sitematch.layers.layerset import LayerSet
from sitematch.match import match
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
        report["legend"] = page.locator(".legend").count() + page.locator("svg text", has_text="Score").count()
        report["requirements"] = page.locator(".sm-requirements").inner_text()
        report["sources"] = page.locator(".sm-sources").inner_text()
        report["attribution"] = page.locator(".leaflet-control-attribution").inner_text()
        report["rank_labels"] = page.locator(".sm-rank").all_inner_texts()
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        # click the best site's rank label position: click the polygon under it
        page.locator(".sm-rank", has_text="1").first.evaluate("e => e.parentElement.style.pointerEvents='none'")
        box = page.locator(".sm-rank", has_text="1").first.bounding_box()
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
    # plus circle markers: 2 junctions, 1 terminal, 1 port, 2 substations, 1 airport = 7
    assert r["paths"] == 14
    assert any(o.startswith("Ranked sites (2)") for o in r["overlays"])
    assert any(o.startswith("Near misses (1)") for o in r["overlays"])
    for name in (
        "Motorways (generalised)",
        "Rail (generalised)",
        "Grid capacity (illustrative)",
        "Ports (max draught)",
    ):
        assert any(o.strip() == name for o in r["overlays"]), name
    assert r["legend"] >= 1
    assert "Area at least 20 ha" in r["requirements"] and "Browser test" in r["requirements"]
    assert "Data sources" in r["sources"]
    assert "GeoNames (CC BY 4.0)" in r["attribution"] and "OpenStreetMap" in r["attribution"]
    assert r["rank_labels"] == ["1", "2"]
    assert "#1 · score 100.0" in r["popup"] and "Grid capacity available" in r["popup"]


def test_demo_region_map_renders(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    layers = LayerSet.from_path(root / "layers" / "region.gpkg")
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
