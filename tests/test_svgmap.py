"""The dossier's SVG maps: drawn from the region's cached arrays, the same as from the layers one shape at a time."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from sitematch import schema as s
from sitematch.export._svgmap import _Canvas, _layer_geoms, site_map
from sitematch.layers.layerset import LayerSet


def _one_by_one(canvas: _Canvas, geoms, style: str) -> list[str]:
    """What drawing shapes was before: each geometry clipped and tested on its own."""
    out = []
    for geom in geoms:
        clipped = shapely.clip_by_rect(geom, *canvas.box.bounds)
        if clipped.is_empty or clipped.geom_type in ("Point", "MultiPoint"):
            continue
        out.append(f'<path d="{canvas._d(clipped)}" {style}/>')
    return out


def test_shapes_draws_what_clipping_each_shape_on_its_own_draws() -> None:
    canvas = _Canvas((0.0, 0.0, 100.0, 75.0), 400, 300)
    geoms = [
        Polygon([(10, 10), (50, 10), (50, 40), (10, 40)]),  # inside
        Polygon([(90, 60), (200, 60), (200, 200), (90, 200)]),  # half outside: clipped
        Polygon([(500, 500), (600, 500), (600, 600)]),  # outside: left out
        LineString([(-10, 5), (110, 5)]),  # crosses: clipped
        Point(5, 5),  # points are not drawn here
        MultiPoint([(1, 1), (2, 2)]),
        LineString([(0, 80), (100, 80)]).buffer(10).boundary,  # a ring cut by the frame's top
    ]
    want = _one_by_one(canvas, geoms, 'fill="none"')
    assert len(want) == 4
    canvas.shapes(geoms, 'fill="none"')
    assert canvas.parts == want
    again = _Canvas((0.0, 0.0, 100.0, 75.0), 400, 300)
    again.shapes(np.asarray(geoms, dtype=object), 'fill="none"')  # an array, as the cache holds them
    again.shapes([], 'fill="none"')
    assert again.parts == want


def test_layer_geoms_from_the_cache_are_the_layers_own() -> None:
    layers = LayerSet.from_path("layers")
    box = shapely.box(*layers["motorway_junctions"].total_bounds)
    for kind in ("motorway_junctions", "substations", "ports", "motorways"):
        gdf = layers[kind]
        hits = gdf.sindex.query(box, predicate="intersects")
        want = gdf[s.NAME].iloc[hits].astype(str).tolist() if s.NAME in gdf.columns else [""] * len(hits)
        for _ in range(2):  # cold, then from the cache
            geoms, names = _layer_geoms(layers, kind, box)
            assert names == want and len(names) == len(hits) > 0, kind
            assert list(geoms) == list(gdf.geometry.iloc[hits])


def test_a_site_map_drawn_again_from_the_cache_is_the_same() -> None:
    layers = LayerSet.from_path("layers")
    site = layers["plots"].geometry.iloc[0]
    first = site_map(site, layers, colour="#1a9641", label="1", named=["x"])
    assert any(k[0] == "svgmap" for k in layers._cache)
    assert site_map(site, layers, colour="#1a9641", label="1", named=["x"]) == first
    assert first.count("<path") > 5
