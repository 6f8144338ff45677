"""LayerSet: reading real GeoPackages and folders; refusing invalid layers with every problem listed."""

from __future__ import annotations

import re
from pathlib import Path

import pyogrio
import pytest

from sitematch.errors import LayerError
from sitematch.layers.layerset import LayerSet
from tests.conftest import tiny_layer_frames


def test_reads_a_geopackage_and_a_folder_of_files(tmp_path: Path) -> None:
    frames = tiny_layer_frames()
    gpkg = tmp_path / "region.gpkg"
    folder = tmp_path / "folder"
    folder.mkdir()
    for kind, gdf in frames.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=kind, driver="GPKG")
        # a folder may hold any format and CRS, one file per kind
        pyogrio.write_dataframe(gdf.to_crs(4326), folder / f"{kind}.geojson", driver="GeoJSON")
    a, b = LayerSet.from_path(gpkg), LayerSet.from_path(folder)
    assert sorted(a.kinds) == sorted(b.kinds) == sorted(frames)
    assert b["rail"].crs.to_epsg() == 3006
    assert a["plots"]["ready"].dtype == "boolean" and a["plots"]["area_ha"].dtype == "float64"
    assert LayerSet.from_path(tmp_path).origin.endswith("region.gpkg")  # a folder holding region.gpkg


def test_every_problem_is_listed(tmp_path: Path) -> None:
    frames = tiny_layer_frames()
    frames["ports"] = frames["ports"].drop(columns=["max_draught_m", "licence"])
    with pytest.raises(LayerError) as err:
        LayerSet(frames, origin="x.gpkg")
    assert "missing required column(s) max_draught_m, licence" in str(err.value)


def test_wrong_geometry_and_empty_values_are_refused() -> None:
    frames = tiny_layer_frames()
    frames["rail"] = frames["ports"].assign(line_name="x")
    with pytest.raises(LayerError, match="expected LineString geometries, found Point"):
        LayerSet(frames)
    frames = tiny_layer_frames()
    frames["plots"].loc[1, "source"] = None
    with pytest.raises(LayerError, match="column 'source' is empty in 1 row"):
        LayerSet(frames)


def test_unknown_kind_and_missing_layer() -> None:
    with pytest.raises(LayerError, match="unknown layer kind"):
        LayerSet({"roads": tiny_layer_frames()["rail"]})
    layers = LayerSet({"rail": tiny_layer_frames()["rail"]})
    with pytest.raises(LayerError, match="has no 'ports' layer"):
        layers["ports"]


def test_provenance_counts_rows_by_source() -> None:
    prov = LayerSet(tiny_layer_frames()).provenance()
    assert prov.set_index("layer").loc["plots", "rows"] == 4
    assert set(prov["source"]) == {"example: test fixture"}


def test_values_that_cannot_be_read_are_refused_not_lost() -> None:
    """A Swedish decimal comma, a thousands space or 'kanske' is a problem naming the column, never a silent NaN."""
    frames = tiny_layer_frames()
    frames["substations"]["available_capacity_mw"] = ["40,5", "10"]
    frames["places"]["population"] = ["12 000"]
    frames["plots"]["ready"] = ["ja", "nej", "kanske", True]
    for kind, needle in (
        ("substations", "'available_capacity_mw' has 1 value(s) that are not numbers (e.g. '40,5')"),
        ("places", "'population' has 1 value(s) that are not whole numbers (e.g. '12 000')"),
        ("plots", "'ready' has 1 value(s) that are not yes/no values (e.g. 'kanske')"),
    ):
        with pytest.raises(LayerError, match=re.escape(needle)):
            LayerSet({kind: frames[kind]})
    ok = tiny_layer_frames()
    ok["plots"]["ready"] = ["ja", "nej", 1, 0.0]  # words, and GDAL's integer booleans, are yes/no
    assert LayerSet({"plots": ok["plots"]})["plots"]["ready"].tolist() == [True, False, True, False]


def test_missing_values_are_written_as_null_and_read_back_typed(tmp_path: Path) -> None:
    from sitematch._io import for_ogr

    plots = LayerSet(tiny_layer_frames())["plots"]
    pyogrio.write_dataframe(for_ogr(plots), tmp_path / "p.gpkg", layer="plots")
    again = LayerSet({"plots": pyogrio.read_dataframe(tmp_path / "p.gpkg", layer="plots")})["plots"]
    assert again["mifo_risk_class"].isna().all() and again["ready"].dtype == "boolean"


def test_a_region_and_a_result_survive_pickling() -> None:
    """Dask, process pools and caches copy them with plain pickle (read-only mappings included)."""
    import pickle

    from sitematch.matching import match
    from sitematch.profile import parse_profile

    layers = LayerSet.from_path(Path(__file__).parent.parent / "layers")
    again = pickle.loads(pickle.dumps(layers))
    assert again.registry["distance_to_port_m"].label == layers.registry["distance_to_port_m"].label
    assert again.fingerprint() == layers.fingerprint()
    result = match(parse_profile("name: t\nrequirements: {min_area_ha: 20}\n"), layers)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.ranked["plot_id"].tolist() == result.ranked["plot_id"].tolist()
    assert copy.run == result.run


def test_cached_builds_each_key_once_and_different_keys_side_by_side() -> None:
    """Concurrent matches in the service share one region: a slow index must not hold up the others."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    layers = LayerSet(tiny_layer_frames())
    builds: list[str] = []
    slow_started, fast_done = threading.Event(), threading.Event()

    def slow() -> str:
        builds.append("slow")
        slow_started.set()
        assert fast_done.wait(10), "the other key waited for this build"
        return "slow value"

    def fast() -> str:
        builds.append("fast")
        return "fast value"

    with ThreadPoolExecutor(4) as pool:
        first = [pool.submit(layers.cached, ("slow",), slow) for _ in range(2)]
        assert slow_started.wait(10)
        assert layers.cached(("fast",), fast) == "fast value"
        fast_done.set()
        assert [f.result(timeout=10) for f in first] == ["slow value", "slow value"]
    assert sorted(builds) == ["fast", "slow"]
