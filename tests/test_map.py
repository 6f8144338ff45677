"""The map HTML without a browser: self-contained, honest about its data, light at scale."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import box

from sitematch.export._assets import REPLACEMENTS, manifest
from sitematch.export.map import write_map
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import E0, N0, plot_row, tiny_layer_frames

PROFILE = (
    "name: Map test\nrequirements: {min_area_ha: 20}\npreferences:\n  area_ha: {weight: 1, zero_at: 0, full_at: 50}\n"
)


def test_map_html_loads_nothing_from_the_internet(tiny_layers: LayerSet, tmp_path: Path) -> None:
    html = write_map(match(parse_profile(PROFILE), tiny_layers), tiny_layers, tmp_path / "map.html").read_text()
    external = re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"(https?://[^\"]+)\"", html)
    assert external == []
    assert "example: test fixture" in html  # the provenance panel
    assert "GeoNames (CC BY 4.0)" in html and "OpenStreetMap" in html


def test_every_shipped_asset_has_its_licence_and_version() -> None:
    names = {m["package"] for m in manifest()}
    assert {"leaflet", "jquery", "bootstrap", "@fortawesome/fontawesome-free", "leaflet.markercluster", "d3"} <= names
    assets = Path(__file__).parent.parent / "sitematch" / "export" / "assets"
    for parts in REPLACEMENTS.values():
        for p in parts or ():
            folder = (assets / p).parent
            assert (assets / p).is_file(), p
            assert any(f.name.upper().startswith(("LICENSE", "MIT-LICENCE")) for f in folder.iterdir()), folder


def test_large_results_stay_light(tmp_path: Path) -> None:
    frames = tiny_layer_frames()
    n = 3000
    rng = np.random.default_rng(1)
    xs, ys = E0 - 15_000 + rng.uniform(0, 30_000, n), N0 - 15_000 + rng.uniform(0, 30_000, n)
    plots = gpd.GeoDataFrame(
        [
            plot_row(f"X{i}", "1980", box(x, y, x + 500, y + 500), 25.0)
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))
        ],
        geometry="geometry",
        crs="EPSG:3006",
    )
    layers = LayerSet({**frames, "plots": pd.concat([frames["plots"], plots], ignore_index=True)})
    result = match(parse_profile(PROFILE), layers)
    small = write_map(result, layers, tmp_path / "a.html", max_polygons=50).stat().st_size
    big = write_map(result, layers, tmp_path / "b.html", max_polygons=1000).stat().st_size
    # polygons beyond max_polygons become compact clustered points
    assert small < big
    assert "Further ranked sites" in (tmp_path / "a.html").read_text()
