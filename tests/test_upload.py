"""Uploads: real-shaped files in every format land the same; every bad file is refused whole.

Fixture plots are three of the bundled region's example plots in Västerås (1980) and Stockholm
(0180), written out the way municipal GIS exports them: own column names, Swedish characters,
local CRSs.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from sitematch.errors import UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import check_file, upload_file

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def region() -> LayerSet:
    return LayerSet.from_path(ROOT / "layers" / "region.gpkg", kinds=["municipalities", "plots"])


@pytest.fixture(scope="module")
def boundaries(region: LayerSet) -> gpd.GeoDataFrame:
    return region["municipalities"]


def municipal_export(region: LayerSet, code: str, n: int = 3) -> gpd.GeoDataFrame:
    """Plots as a municipality's GIS would export them: Swedish names, own columns, EPSG:3006."""
    p = region["plots"]
    p = p[(p["municipality_code"] == code) & ~p["brownfield"]].head(n).reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "Objekt_ID": [f"Å-{i + 1}" for i in range(len(p))],
            "Benämning": [f"Södra industriområdet etapp {i + 1}" for i in range(len(p))],
            "Areal_ha": p["area_ha"].to_numpy(),
            "Användning": ["J", "Z", "J"][: len(p)],
            "Planstatus": ["Laga kraft", "antagen", "laga_kraft"][: len(p)],
            "Ägare": ["Kommunen", "privat", "kommun"][: len(p)],
            "Pris_kr_m2": [450.0, 800.0, None][: len(p)],
            "Byggklar": ["ja", "nej", "ja"][: len(p)],
        },
        geometry=p.geometry.values,
        crs="EPSG:3006",
    )


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def write_zip_shapefile(gdf: gpd.GeoDataFrame, folder: Path, name: str = "tomter", prj: bool = True) -> Path:
    shp_dir = folder / f"{name}_shp"
    shp_dir.mkdir()
    with warnings.catch_warnings():  # a Shapefile cuts 'Användning' to 10 bytes: that is the point of the test
        warnings.filterwarnings("ignore", "Normalized/laundered field name")
        pyogrio.write_dataframe(
            gdf, shp_dir / f"{name}.shp", driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"}
        )
    z = folder / f"{name}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(shp_dir.iterdir()):
            if prj or f.suffix != ".prj":
                zf.write(f, f.name)
    return z


def _formats(tmp: Path, region: LayerSet) -> dict[str, tuple[Path, dict]]:
    ex = municipal_export(region, "1980")
    sthlm = municipal_export(region, "0180")
    files: dict[str, tuple[Path, dict]] = {}
    pyogrio.write_dataframe(ex, tmp / "tomter.gpkg", driver="GPKG")
    files["gpkg_3006"] = (tmp / "tomter.gpkg", {"municipality_code": "1980"})
    files["shp_zip_3011"] = (write_zip_shapefile(sthlm.to_crs(3011), tmp), {"municipality_code": "0180"})
    pyogrio.write_dataframe(ex.to_crs(4326), tmp / "tomter.geojson", driver="GeoJSON")
    files["geojson_4326"] = (tmp / "tomter.geojson", {"municipality_code": "1980"})
    wkt = pd.DataFrame(ex.drop(columns="geometry")).assign(WKT=ex.geometry.to_wkt())
    wkt.to_csv(tmp / "tomter_wkt.csv", index=False, sep=";", decimal=",")
    files["csv_wkt"] = (tmp / "tomter_wkt.csv", {"municipality_code": "1980", "crs": "EPSG:3006"})
    c = ex.geometry.centroid.to_crs(4326)
    lonlat = pd.DataFrame(ex.drop(columns="geometry")).assign(lon=c.x.round(7), lat=c.y.round(7))
    lonlat.to_csv(tmp / "tomter_lonlat.csv", index=False)
    files["csv_lonlat"] = (tmp / "tomter_lonlat.csv", {"municipality_code": "1980"})
    return files


@pytest.mark.parametrize("fmt", ["gpkg_3006", "shp_zip_3011", "geojson_4326", "csv_wkt", "csv_lonlat"])
def test_every_format_lands_with_the_same_geometry_and_canonical_fields(
    fmt: str, tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    path, kw = _formats(tmp_path, region)[fmt]
    store = GeoPackageStore(tmp_path / "store.gpkg")
    summary = upload_file(store, path, uploader="anna", boundaries=boundaries, **kw)
    code = kw["municipality_code"]
    assert len(summary.inserted) == 3
    stored = store.plots(municipality_code=code)
    original = municipal_export(region, code)
    assert stored["plot_id"].tolist() == [f"{code}:Å-1", f"{code}:Å-2", f"{code}:Å-3"]
    assert stored["name"].tolist()[0] == "Södra industriområdet etapp 1"
    assert stored["plan_status"].tolist() == ["laga_kraft", "antagen", "laga_kraft"]
    assert stored["owner"].tolist() == ["kommun", "privat", "kommun"]
    assert stored["ready"].tolist() == [True, False, True]
    assert stored["zoning"].tolist() == ["J", "Z", "J"]
    np.testing.assert_allclose(stored["area_ha"], original["Areal_ha"])
    assert stored.crs.to_epsg() == 3006
    if fmt == "csv_lonlat":  # a point locates the plot: its square has the centroid within 1 m
        d = shapely.distance(shapely.centroid(stored.geometry.values), shapely.centroid(original.geometry.values))
    else:
        d = shapely.hausdorff_distance(stored.geometry.values, original.geometry.values)
    assert np.max(d) < 1.0
    assert stored["source"].str.contains("municipality upload: " + code).all()


def test_reupload_updates_in_place_keeps_history_and_withdraw_keeps_the_plot(
    tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    ex = municipal_export(region, "1980")
    f = tmp_path / "v1.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    upload_file(store, f, municipality_code="1980", uploader="anna", boundaries=boundaries)
    again = upload_file(store, f, municipality_code="1980", uploader="anna", boundaries=boundaries)
    assert again.unchanged == ["1980:Å-1", "1980:Å-2", "1980:Å-3"] and not again.updated  # idempotent
    ex.loc[0, "Pris_kr_m2"] = 399.0
    f2 = tmp_path / "v2.gpkg"
    pyogrio.write_dataframe(ex, f2, driver="GPKG")
    s2 = upload_file(store, f2, municipality_code="1980", uploader="bertil", boundaries=boundaries)
    assert s2.updated == ["1980:Å-1"] and len(store.plots()) == 3
    h = store.history("1980:Å-1")
    assert h["version"].tolist() == [1, 2] and h["uploader"].tolist() == ["anna", "bertil"]
    assert h["price_sek_m2"].tolist() == [450.0, 399.0] and h["valid_to"].notna().tolist() == [True, False]
    store.withdraw("1980:Å-2", uploader="anna", reason="sold")
    assert "1980:Å-2" not in set(store.plots()["plot_id"])
    everything = store.plots(status="all").set_index("plot_id")
    assert everything.loc["1980:Å-2", "status"] == "withdrawn"
    assert store.history("1980:Å-2")["status"].tolist() == ["active", "withdrawn"]


def test_the_store_is_a_real_geopackage(tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame) -> None:
    f = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(municipal_export(region, "1980"), f, driver="GPKG")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    upload_file(store, f, municipality_code="1980", uploader="anna", boundaries=boundaries)
    info = pyogrio.read_info(tmp_path / "store.gpkg", layer="plots")
    assert info["crs"] == "EPSG:3006" and info["features"] == 3 and info["geometry_type"] == "MultiPolygon"
    g = gpd.read_file(tmp_path / "store.gpkg", layer="plots")
    assert g.geometry.is_valid.all()


# -- bad input: each refused with its message, the store byte-for-byte unchanged ---------------


def _bad_files(tmp: Path, region: LayerSet) -> dict[str, tuple[Path, dict, str]]:
    ex = municipal_export(region, "1980")
    out: dict[str, tuple[Path, dict, str]] = {}

    def gpkg(name: str, gdf: gpd.GeoDataFrame) -> Path:
        p = tmp / f"{name}.gpkg"
        pyogrio.write_dataframe(gdf, p, driver="GPKG")
        return p

    nocrs = pd.DataFrame(ex.drop(columns="geometry")).assign(WKT=ex.geometry.to_wkt())
    nocrs.to_csv(tmp / "nocrs.csv", index=False)
    out["no CRS"] = (tmp / "nocrs.csv", {}, "declares no coordinate reference system")
    out["no CRS (shapefile without .prj)"] = (
        write_zip_shapefile(ex, tmp, "noprj", prj=False),
        {},
        "declares no coordinate reference system",
    )
    out["wrong CRS"] = (gpkg("wrongcrs", ex.set_crs(3021, allow_override=True)), {}, "do not lie in Sweden")
    moved = ex.copy()
    moved.loc[1, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[1], 60_000, 0)
    out["outside the municipality"] = (gpkg("outside", moved), {}, "lies outside Västerås (1980)")
    bow = ex.copy()
    x0, y0, x1, y1 = bow.geometry.iloc[0].bounds
    bow.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    out["self-intersecting polygon"] = (gpkg("bowtie", bow), {}, "invalid polygon (Self-intersection")
    pts = ex.copy()
    pts["geometry"] = pts.geometry.centroid
    out["point instead of polygon"] = (gpkg("points", pts), {}, "a Point, not a polygon")
    empty = tmp / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    out["empty file"] = (empty, {}, "holds no rows")
    out["missing required column"] = (
        gpkg("noref", ex.drop(columns="Objekt_ID")),
        {},
        "missing required column 'local_ref'",
    )
    neg = ex.copy()
    neg["Areal_ha"] = neg["Areal_ha"].astype(object)
    neg.loc[2, "Areal_ha"] = -4.0
    out["negative area"] = (gpkg("negative", neg), {}, "negative area")
    text = ex.copy()
    text["Pris_kr_m2"] = ["450", "gratis", "300"]
    out["text in a numeric field"] = (gpkg("text", text), {}, "'gratis' is not a number")
    fake = tmp / "fake.gpkg"
    fake.write_text("Objekt_ID;Areal_ha\nA;3\n", encoding="utf-8")
    out["non-geodata renamed .gpkg"] = (fake, {}, "not a GeoPackage")
    corrupt = tmp / "corrupt.zip"
    good = write_zip_shapefile(ex, tmp, "forcorrupt").read_bytes()
    corrupt.write_bytes(good[: len(good) // 2])
    out["corrupt zip"] = (corrupt, {}, "not a valid zip file")
    zero = tmp / "zero.gpkg"
    zero.write_bytes(b"")
    out["0-byte file"] = (zero, {}, "the file is empty (0 bytes)")
    dup = ex.copy()
    dup.loc[2, "Objekt_ID"] = dup.loc[0, "Objekt_ID"]
    out["duplicate references"] = (gpkg("dup", dup), {}, "reference 'Å-1' appears in rows 1, 3")
    return out


BAD = [
    "no CRS",
    "no CRS (shapefile without .prj)",
    "wrong CRS",
    "outside the municipality",
    "self-intersecting polygon",
    "point instead of polygon",
    "empty file",
    "missing required column",
    "negative area",
    "text in a numeric field",
    "non-geodata renamed .gpkg",
    "corrupt zip",
    "0-byte file",
    "duplicate references",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_whole_and_the_store_is_unchanged(
    case: str, tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    store_path = tmp_path / "store.gpkg"
    store = GeoPackageStore(store_path)
    seed = tmp_path / "seed.gpkg"
    pyogrio.write_dataframe(municipal_export(region, "1980", 2), seed, driver="GPKG")
    upload_file(store, seed, municipality_code="1980", uploader="seed", boundaries=boundaries)
    before_bytes, before = fingerprint(store_path), store.plots(status="all")
    path, kw, needle = _bad_files(tmp_path, region)[case]
    with pytest.raises(UploadError) as err:
        upload_file(store, path, municipality_code="1980", uploader="anna", boundaries=boundaries, **kw)
    assert needle in str(err.value)
    assert "Traceback" not in str(err.value)
    assert fingerprint(store_path) == before_bytes
    pd.testing.assert_frame_equal(pd.DataFrame(store.plots(status="all")), pd.DataFrame(before))


def test_report_lists_every_problem_by_row_and_field(
    tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    ex = municipal_export(region, "1980")
    ex["Areal_ha"] = ex["Areal_ha"].astype(object)
    ex.loc[0, "Areal_ha"] = -1.0
    ex.loc[1, "Användning"] = "Q"
    ex.loc[2, "Pris_kr_m2"] = -5.0
    f = tmp_path / "many.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    report = check_file(f, municipality_code="1980", boundaries=boundaries)
    got = {(p.row, p.field) for p in report.problems}
    assert got == {(1, "area_ha"), (2, "zoning"), (3, "price_sek_m2")}
    assert '"ok": false' in report.to_json()
    assert "row" in report.to_text() and "unknown value 'Q'" in report.to_text()


def test_accept_valid_writes_only_the_valid_rows(
    tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    ex = municipal_export(region, "1980")
    ex.loc[1, "Användning"] = "Q"
    f = tmp_path / "partly.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    store = GeoPackageStore(tmp_path / "store.gpkg")
    summary = upload_file(store, f, municipality_code="1980", uploader="a", boundaries=boundaries, accept_valid=True)
    assert summary.inserted == ["1980:Å-1", "1980:Å-3"] and summary.skipped_rows == 1


def test_repair_fixes_a_self_intersecting_polygon_and_says_so(
    tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame
) -> None:
    path, _, _ = _bad_files(tmp_path, region)["self-intersecting polygon"]
    report = check_file(path, municipality_code="1980", boundaries=boundaries, repair=True)
    assert not any(p.field == "geometry" for p in report.problems)
    assert any("repaired with make_valid" in n for n in report.notes)


def test_mapping_file_and_units(tmp_path: Path, region: LayerSet, boundaries: gpd.GeoDataFrame) -> None:
    ex = municipal_export(region, "1980").rename(columns={"Objekt_ID": "NYCKEL", "Areal_ha": "YTA"})
    ex["YTA"] = ex["YTA"] * 10_000
    ex["Användning"] = ["Industri", "Verksamheter", "Industri"]
    f = tmp_path / "m.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns: {local_ref: NYCKEL, area_ha: YTA}\n"
        "units: {area_ha: m2}\n"
        "values: {zoning: {Industri: J, Verksamheter: Z}}\n",
        encoding="utf-8",
    )
    store = GeoPackageStore(tmp_path / "store.gpkg")
    upload_file(store, f, municipality_code="1980", uploader="a", boundaries=boundaries, mapping=mapping)
    got = store.plots()
    assert got["zoning"].tolist() == ["J", "Z", "J"]
    np.testing.assert_allclose(got["area_ha"], municipal_export(region, "1980")["Areal_ha"])


def test_empty_cells_and_a_partly_outside_multipolygon(tmp_path: Path, boundaries: gpd.GeoDataFrame) -> None:
    inside = shapely.box(587_000, 6_610_000, 587_300, 6_610_300)
    far = shapely.box(687_000, 6_611_000, 687_300, 6_611_300)
    gdf = gpd.GeoDataFrame(
        {
            "local_ref": [None, "B", "C"],
            "zoning": ["J", None, "J"],
            "plan_status": ["laga kraft", "antagen", "antagen"],
            "byggklar": [None, "Ja", "nej"],
        },
        geometry=[inside, shapely.box(587_000, 6_611_000, 587_300, 6_611_300), shapely.MultiPolygon([inside, far])],
        crs="EPSG:3006",
    )
    f = tmp_path / "nulls.geojson"
    pyogrio.write_dataframe(gdf, f, driver="GeoJSON")
    report = check_file(f, municipality_code="1980", boundaries=boundaries)
    got = {(p.row, p.field): p.message for p in report.problems}
    assert set(got) == {(1, "local_ref"), (2, "zoning"), (3, "geometry")}  # an empty yes/no cell means no
    assert "reaching" in got[(3, "geometry")] and "0.0 km" not in got[(3, "geometry")]


def test_swapped_longitude_and_latitude_get_a_hint(tmp_path: Path, boundaries: gpd.GeoDataFrame) -> None:
    f = tmp_path / "swapped.csv"
    f.write_bytes("\ufeffref;zoning;plan_status;lat;lon;area_ha\nA;J;laga kraft;16,55;59,61;3,5\n".encode())
    with pytest.raises(UploadError, match="Are longitude and latitude swapped"):
        check_file(f, municipality_code="1980", boundaries=boundaries)


def test_the_example_upload_keeps_its_price() -> None:
    """Pris_kr_kvm (kronor per kvadratmeter) is a common Swedish header for the price."""
    from sitematch.upload.readers import read_upload
    from sitematch.upload.validate import validate_upload

    raw, notes = read_upload(Path(__file__).parent.parent / "docs" / "examples" / "tomter_1980.csv")
    plots, report = validate_upload(raw, municipality_code="1980", filename="tomter_1980.csv", notes=notes)
    assert report.ok and plots["price_sek_m2"].tolist()[0] == 450.0 and plots["price_sek_m2"].isna().tolist()[1]


def test_a_ring_that_does_not_close_is_refused_naming_its_row(tmp_path: Path, boundaries: gpd.GeoDataFrame) -> None:
    """GDAL reads it, GEOS cannot build it: a clear refusal naming the row, never a traceback."""
    ring_open = [[16.50, 59.62], [16.51, 59.62], [16.51, 59.63], [16.50, 59.63]]  # last point is not the first
    ring_closed = [*ring_open, ring_open[0]]
    features = [
        {
            "type": "Feature",
            "properties": {"Objekt_ID": ref, "Användning": "J", "Planstatus": "antagen", "Ägare": "kommun"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for ref, ring in (("A1", ring_closed), ("A2", ring_open))
    ]
    path = tmp_path / "tomter.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(UploadError) as refused:
        check_file(path, municipality_code="1980", boundaries=boundaries)
    assert "row(s) '2'" in str(refused.value) and "ring must end where it starts" in str(refused.value)
