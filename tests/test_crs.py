"""CRS policy: one CRS inside; the same answer whatever CRS a layer arrives in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from sitematch.crs import parse_crs, to_working_crs
from sitematch.errors import CRSError
from sitematch.features import compute_features
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Parameters
from tests.conftest import tiny_layer_frames

DISTANCES = [
    "distance_to_motorway_junction_m",
    "distance_to_motorway_m",
    "distance_to_rail_m",
    "distance_to_freight_terminal_m",
    "distance_to_port_m",
    "distance_to_airport_m",
    "distance_to_substation_m",
]


def test_stockholm_central_reference_point() -> None:
    g = gpd.GeoDataFrame(geometry=[Point(18.059196, 59.330231)], crs=4326)
    p = to_working_crs(g, what="reference").geometry.iloc[0]
    assert p.x == pytest.approx(674032, abs=1) and p.y == pytest.approx(6580822, abs=1)


@pytest.mark.parametrize("epsg", [4326, 3011, 3021, 3014])
def test_layers_in_other_crs_give_the_same_distances(epsg: int) -> None:
    frames = tiny_layer_frames()
    reference = compute_features(LayerSet(frames)["plots"], LayerSet(frames), Parameters())
    moved = {k: v.to_crs(epsg) for k, v in frames.items()}
    layers = LayerSet(moved)
    assert layers["rail"].crs.to_epsg() == 3006
    feats = compute_features(layers["plots"], layers, Parameters())
    for col in DISTANCES:
        np.testing.assert_allclose(feats[col], reference[col], atol=1.0, err_msg=col)
    np.testing.assert_allclose(feats["area_ha"], reference["area_ha"])


def test_a_layer_without_crs_is_refused_with_how_to_declare_one() -> None:
    frames = tiny_layer_frames()
    frames["ports"] = frames["ports"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError) as err:
        LayerSet(frames, origin="test.gpkg")
    msg = str(err.value)
    assert "layer 'ports' has no coordinate reference system" in msg
    assert "look like EPSG:3006" in msg and "declare it" in msg
    assert err.value.option == "crs" and "--" not in msg  # the CLI shows the flag; the library names the setting


def test_a_wrong_crs_is_refused() -> None:
    frames = tiny_layer_frames()
    # SWEREF 99 TM coordinates declared as RT90: lands far outside Sweden's extent
    frames["ports"] = frames["ports"].set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match="do not lie in Sweden"):
        LayerSet(frames)


def test_parse_crs() -> None:
    assert parse_crs("3011").to_epsg() == 3011
    assert parse_crs("EPSG:4326").to_epsg() == 4326
    assert parse_crs(3006).to_epsg() == 3006
    with pytest.raises(CRSError, match="not a CRS"):
        parse_crs("SWEREF-ish")
