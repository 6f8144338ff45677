"""LayerSet: reading real GeoPackages and folders; refusing invalid layers with every problem listed."""

from __future__ import annotations

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
