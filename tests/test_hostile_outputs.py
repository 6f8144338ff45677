"""Hostile text in every field that reaches a browser, a spreadsheet or a terminal (issue 13).

The tiny region with a payload in every text field of every layer and of the profile: plot names
and references, sources and licences, municipality, road, junction, rail, terminal, port,
substation, place and airport names, the profile's name, sector, description and lead. The map
and the dossier are opened in Debian's Chromium with every site and layer hovered and clicked:
no dialog may open and no injected script may run. The terminal prints the payloads as text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sitematch.cli import main
from sitematch.export import write_all
from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import build_profile
from tests.conftest import tiny_layer_frames

#: Each payload, if it ran, would count up window.__xss or open a dialog.
PAYLOADS = (
    '<img src=x onerror="window.__xss=(window.__xss||0)+1;alert(1)">',
    "<script>window.__xss=(window.__xss||0)+1</script>",
    "`;window.__xss=(window.__xss||0)+1;alert(2);`",
    "${(window.__xss=(window.__xss||0)+1)}",
    "\\x3cimg src=x onerror=window.__xss=1\\x3e",
    "</script><script>window.__xss=(window.__xss||0)+1</script>",
    '"><svg onload="alert(3)">',
    "[/x] [link=http://example.invalid]y[/link] \x1b[31mred",
    '=HYPERLINK("http://example.invalid","x")',
)

TEXT_FIELDS = {
    "plots": ("name", "local_ref", "source", "licence"),
    "municipalities": ("municipality_name", "source"),
    "motorways": ("road", "name"),
    "motorway_junctions": ("name", "road"),
    "rail": ("line_name",),
    "freight_terminals": ("name", "kind"),
    "ports": ("name", "locode", "operator"),
    "substations": ("name", "grid_company"),
    "places": ("name",),
    "airports": ("name", "iata"),
}


def hostile_layers() -> LayerSet:
    frames = tiny_layer_frames()
    for kind, fields in TEXT_FIELDS.items():
        gdf = frames[kind]
        for j, field in enumerate(fields):
            gdf[field] = [PAYLOADS[(i + j) % len(PAYLOADS)] + f" {i}" for i in range(len(gdf))]
        if kind == "plots":
            gdf["plot_id"] = gdf["municipality_code"] + ":" + gdf["local_ref"]
        if kind == "places":
            gdf["population"] = 100_000  # labelled on the map
    return LayerSet(frames)


def hostile_profile():
    return build_profile(
        {
            "name": PAYLOADS[0],
            "sector": PAYLOADS[2],
            "description": PAYLOADS[1],
            "lead": {"reference": PAYLOADS[3], "confidential": True},
            "parameters": {"grid_connection_radius_m": 3000},
            "requirements": {"min_area_ha": 20},
            "preferences": {"grid_capacity_mw": {"weight": 1, "zero_at": 0, "full_at": 50}},
        }
    )


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)")
def test_no_payload_runs_in_the_map_or_the_dossier(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    layers = hostile_layers()
    result = match(hostile_profile(), layers)
    files = write_all(result, layers, tmp_path, ["map", "dossier"])
    dialogs: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name in ("map", "dossier"):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(files[name].as_uri())
            page.wait_for_timeout(1000)
            if name == "map":
                # every overlay on, then hover and click everything a person could
                for box in page.locator(".leaflet-control-layers-selector").all():
                    box.evaluate("e => { if (!e.checked) e.click(); }")
                page.wait_for_timeout(300)
                targets = page.locator(".leaflet-interactive").all()
                assert len(targets) > 10
                popups = 0
                for target in targets:
                    where = target.bounding_box()
                    if where is None or where["width"] == 0:
                        continue
                    x = min(max(where["x"] + where["width"] / 2, 1), 1399)
                    y = min(max(where["y"] + where["height"] / 2, 1), 899)
                    page.mouse.move(x, y)
                    page.mouse.click(x, y)
                    page.wait_for_timeout(30)
                    popups += page.locator(".leaflet-popup-content").count()
                page.locator(".sm-panel summary").first.click()
                assert popups >= 3  # the clicks did open popups (sites and badges)
            text = page.locator("body").inner_text()
            assert "window.__xss" in text  # shown as text …
            assert page.evaluate("window.__xss") is None, name  # … never run
            assert page.locator("body img[src='x'], body svg[onload], body script:not([src])").count() <= (
                0 if name == "dossier" else page.locator("head script").count()
            )
            page.close()
        browser.close()
    assert dialogs == [] and not [e for e in errors if "__xss" in e]


def test_the_map_page_forbids_inline_handlers(tmp_path: Path) -> None:
    layers = hostile_layers()
    page = write_all(match(hostile_profile(), layers), layers, tmp_path, ["map"])["map"].read_text(encoding="utf-8")
    policy = page.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    scripts = policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in scripts and "data:" not in scripts
    assert 'onerror="' not in page and "<script>window.__xss" not in page


def test_spreadsheets_get_no_live_formula(tmp_path: Path) -> None:
    layers = hostile_layers()
    files = write_all(match(hostile_profile(), layers), layers, tmp_path, ["csv", "funnel"])
    table = pd.read_csv(files["csv"], dtype=str)
    for column in table.columns:
        cells = table[column].dropna()
        assert not cells.str.match(r"^[=+\-@\t\r]").any(), column


def test_the_terminal_prints_payloads_as_text(tmp_path: Path) -> None:
    layers = hostile_layers()
    folder = tmp_path / "region"
    folder.mkdir()
    import pyogrio

    for kind in layers.kinds:
        pyogrio.write_dataframe(layers[kind], folder / "region.gpkg", layer=kind, driver="GPKG")
    lead = tmp_path / "lead.yaml"
    lead.write_text(
        'name: "[bold]Lead[/bold] [link=http://example.invalid]x[/link] \\e[31mred"\n'
        "parameters: {grid_connection_radius_m: 3000}\nrequirements: {min_area_ha: 20}\n"
        "preferences: {grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 50}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        main, ["match", str(lead), "--layers", str(folder), "--no-map", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert "[bold]Lead[/bold] [link=http://example.invalid]x[/link]" in res.output
    assert "\x1b" not in res.output
    assert "[bold]Lead[/bold] [link=http://example.invalid]x[/link] [31mred" in res.output  # ESC removed
    assert "1980:<script>wi" in res.output and "<img src=x" in res.output  # plot ids and names as written
