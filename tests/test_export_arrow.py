"""Large exports go through Arrow; they must read back exactly as pandas' writer's output does."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sitematch import _io
from sitematch.export import tables
from sitematch.export._wkb import multipolygon_wkb
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from sitematch.result import MatchResult


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    floats = rng.uniform(-1000, 1000, n).round(3)
    floats[::5] = np.round(floats[::5])  # whole numbers in a float column: written "5.0"
    floats[::7] = np.nan
    names = np.array(["Gävle", "a,b", 'say "hi"', "=1+2", "-3", "@x", "", "plain"], dtype=object)
    return pd.DataFrame(
        {
            "value": floats,
            "passed": rng.random(n) < 0.5,
            "name": pd.array(names[np.arange(n) % len(names)], dtype="string"),
            "count": pd.array(np.where(np.arange(n) % 3 == 0, None, np.arange(n)), dtype="Int64"),
            "check": pd.Categorical(np.array(["passed", "failed", "unknown"])[np.arange(n) % 3]),
            "free": np.where(np.arange(n) % 4 == 0, None, "t").astype(object),
        }
    )


def test_arrow_csv_reads_back_as_the_pandas_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _frame(500)
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 10**9)
    by_pandas = tables._write_table(frame, tmp_path / "pandas.csv", "plain")
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)
    by_arrow = tables._write_table(frame, tmp_path / "arrow.csv", "plain")
    assert by_arrow.read_bytes() != by_pandas.read_bytes()  # Arrow did write it (it quotes text)
    a = pd.read_csv(by_arrow, dtype=str, keep_default_na=False)
    b = pd.read_csv(by_pandas, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[3, "name"] == "'=1+2" and a.loc[5, "value"].endswith(".0") and a.loc[0, "passed"] in ("True", "False")


def test_formula_check_through_arrow_equals_the_plain_one() -> None:
    values = np.array(["=a", "+b", "-", "@", "\tx", "\ry", "ok", None, "a=b", ""] * 3000, dtype=object)
    plain = np.fromiter((isinstance(v, str) and v.startswith(_io.FORMULA_STARTS) for v in values), bool)
    assert len(values) >= 20_000
    assert _io._formula_like(values).tolist() == plain.tolist()
    assert plain.sum() == 6 * 3000


# --- a result's tables through Arrow (issue 25: a million rows in seconds) --------------------------------

PROFILE = """
name: Arrow export
parameters: {grid_connection_radius_m: 3000}
requirements: {min_area_ha: 20}
preferences:
  distance_to_motorway_junction_m: {weight: 1, full_at: 1000, zero_at: 5000}
"""


def _awkward_result(layers: LayerSet) -> MatchResult:
    """A match whose sites hold what a CSV writer gets wrong: tiny and huge floats, -0, inf, formulas, a hole."""
    result = match(parse_profile(PROFILE), layers)
    sites = result.sites.copy()
    n = len(sites)
    sites["odd_float"] = np.array([1e-06, 1e15, -0.0, np.inf, 2.5e-05, np.nan, 123.4567891, 5.0][:n])
    sites["odd_text"] = pd.array(['=HYPERLINK("Åre", ö)\nrad', None, "+46 Gävle", "-3", "@x"][:n], dtype="string")
    sites["never_measured_m"] = np.full(n, np.inf)  # a column of sites never measured: all inf
    sites["all_missing"] = pd.array([None] * n, dtype="string")
    hole = shapely.Point(sites.geometry.iloc[0].centroid).buffer(20)
    sites.loc[sites.index[0], "geometry"] = sites.geometry.iloc[0].difference(hole)  # a polygon with a hole
    return dataclasses.replace(result, sites=sites)


def test_result_csv_through_arrow_has_the_cells_pandas_writes(
    tiny_layers: LayerSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _awkward_result(tiny_layers)
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 10**9)
    by_pandas = tables.write_csv(result, tmp_path / "pandas.csv")
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)
    by_arrow = tables.write_csv(result, tmp_path / "arrow.csv")
    with by_pandas.open(encoding="utf-8", newline="") as a, by_arrow.open(encoding="utf-8", newline="") as b:
        cells_pandas, cells_arrow = list(csv.reader(a)), list(csv.reader(b))
    assert cells_arrow == cells_pandas  # every header and every cell, as text
    header = cells_arrow[0]
    odd = [row[header.index("odd_float")] for row in cells_arrow[1:]]
    written = ["1e-06", "1000000000000000.0", "-0.0", "inf", "2.5e-05", "", "123.456789", "5.0"]
    assert len(odd) >= 3 and sorted(odd) == sorted(written[: len(odd)])
    assert {row[header.index("never_measured_m")] for row in cells_arrow[1:]} == {"inf"}
    texts = {row[header.index("odd_text")] for row in cells_arrow[1:]}
    assert {'\'=HYPERLINK("Åre", ö)\nrad', "'+46 Gävle"} <= texts  # formulas neutralised, text kept
    assert by_arrow.read_bytes() != by_pandas.read_bytes()  # Arrow did write it (it quotes text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=50))
def test_float_text_is_what_pandas_writes(values: list[float]) -> None:
    import pyarrow as pa

    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.round(np.array(values, dtype=float), 6)
    frame = pd.DataFrame({"x": rounded})
    expected = frame.to_csv(index=False).splitlines()[1:]
    got = tables.float_text(pa.array(rounded, from_pandas=True)).to_pylist()
    assert [v if v is not None else "" for v in got] == [e.strip('"') for e in expected]


@pytest.mark.parametrize("without_geometry", [False, True])
def test_gpkg_through_arrow_reads_back_as_the_table(
    tiny_layers: LayerSet, tmp_path: Path, without_geometry: bool
) -> None:
    result = _awkward_result(tiny_layers)
    if without_geometry:  # as a Dask result's outcome rows come back: no geometry
        sites = result.sites.copy()
        sites.loc[sites.index[-1], "geometry"] = None
        result = dataclasses.replace(result, sites=sites)
    fast = tables.write_gpkg(result, tmp_path / "fast.gpkg")
    slow = tables._write_gpkg_pandas(result, tmp_path / "slow.gpkg")
    table = tables.ranking_table(result)
    for layer, rows in (("ranked", table[table["passed"]]), ("excluded", table[~table["passed"]])):
        info_fast, info_slow = pyogrio.read_info(fast, layer=layer), pyogrio.read_info(slow, layer=layer)
        assert info_fast["fields"].tolist() == info_slow["fields"].tolist() == [c for c in rows if c != "geometry"]
        assert info_fast["dtypes"].tolist() == info_slow["dtypes"].tolist()
        assert info_fast["geometry_type"] == info_slow["geometry_type"] == "MultiPolygon"
        back = gpd.read_file(fast, layer=layer)
        assert back["plot_id"].tolist() == rows["plot_id"].tolist()  # same rows, same order
        present = rows.geometry.notna().to_numpy()
        assert back.geometry.isna().to_numpy().tolist() == (~present).tolist()
        assert shapely.equals(back.geometry.values[present], rows.geometry.values[present]).all()
        assert back.geometry[present].geom_type.eq("MultiPolygon").all() and back.crs.to_epsg() == 3006
        pd.testing.assert_frame_equal(
            pd.DataFrame(back.drop(columns="geometry")),
            pd.DataFrame(gpd.read_file(slow, layer=layer).drop(columns="geometry")),
        )
        for col in ("score", "odd_float", "area_ha"):
            want = pd.to_numeric(rows[col]).to_numpy(float)
            got = back[col].to_numpy(float)
            assert np.array_equal(np.round(want, 6)[np.isfinite(want)], got[np.isfinite(want)])
        assert back["odd_text"].tolist() == [None if pd.isna(v) else v for v in rows["odd_text"]]
    assert len(pyogrio.read_dataframe(fast, layer="sources", read_geometry=False)) == len(result.provenance)


def test_multipolygon_wkb_is_the_bytes_shapely_writes() -> None:
    ring = shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 4, 4))  # with a hole
    geoms = np.array([shapely.box(0, 0, 1, 1), ring, shapely.MultiPolygon([shapely.box(5, 5, 6, 6), ring])])
    expected = [
        shapely.to_wkb(shapely.multipolygons([g]) if g.geom_type == "Polygon" else g, flavor="iso") for g in geoms
    ]
    assert multipolygon_wkb(geoms).to_pylist() == expected
    assert multipolygon_wkb(np.array([shapely.Point(0, 0)])) is None
    assert multipolygon_wkb(np.array([shapely.Polygon()])) is None
    assert multipolygon_wkb(np.array([None, shapely.box(0, 0, 1, 1)])).to_pylist() == [None, expected[0]]
    assert multipolygon_wkb(np.array([shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)])])) is None


def test_write_all_writes_both_tables_together_as_each_alone(
    tiny_layers: LayerSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitematch.export import write_all

    result = _awkward_result(tiny_layers)
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)
    calls: list[str] = []
    real = tables._arrow_column

    def counted(result: MatchResult, name: str) -> object:
        calls.append(name)
        return real(result, name)

    monkeypatch.setattr(tables, "_arrow_column", counted)
    alone = tables.write_gpkg(result, tmp_path / "alone.gpkg")
    columns = len(calls)
    assert columns == len(tables.table_columns(result.sites.columns)) - 1  # every column but the geometry
    calls.clear()
    written = write_all(result, tiny_layers, tmp_path / "both", ["csv", "gpkg"])
    assert sorted(calls) == sorted(set(calls)) and len(calls) == columns  # once each, for both files
    assert not tables._SHARED  # let go of once both are written
    for layer in ("ranked", "excluded"):
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(written["gpkg"], layer=layer), pyogrio.read_dataframe(alone, layer=layer)
        )
    calls.clear()
    tables.write_csv(result, tmp_path / "alone.csv")
    assert len(calls) == columns  # without write_all, each writer builds its own
    assert written["csv"].read_bytes() == (tmp_path / "alone.csv").read_bytes()


def test_a_failing_geopackage_write_leaves_neither_table(
    tiny_layers: LayerSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _awkward_result(tiny_layers)
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)  # both tables through Arrow, written side by side
    monkeypatch.setattr(tables, "_crs_text", lambda _result: "EPSG:999999")  # GDAL refuses it
    with pytest.raises(Exception, match="999999"):
        tables.write_tables(result, tmp_path / "ranking.csv", tmp_path / "ranking.gpkg")
    assert list(tmp_path.iterdir()) == []  # no table, no temporary file
