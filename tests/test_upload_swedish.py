"""Uploads as Swedish municipal GIS exports write them: Swedish headers and values, extra columns kept.

The fixture is a municipal GeoPackage in EPSG:3011 (SWEREF 99 18 00) with three plots in Västerås
(1980), drawn by hand in EPSG:3006 as rectangles near Finnslätten (200 × 250 m = 5 ha,
150 × 250 m = 3.75 ha, 400 × 300 m = 12 ha) and written in EPSG:3011. Headers and values are as
people type them; "Kontaktperson", "Elanslutning (kW)" and "Anmärkning" are columns sitematch does
not use. Every expected value below is written by hand from that table.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sitematch.cli import main
from sitematch.errors import UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from sitematch.store import export_plots
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import check_file, upload_file
from tests._postgis import postgis_url  # noqa: F401 - the fixture
from tests._service import add_accounts, post_login

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BOXES_3006 = [
    shapely.box(584000, 6611000, 584200, 6611250),  # 5 ha
    shapely.box(584500, 6611000, 584650, 6611250),  # 3.75 ha
    shapely.box(585000, 6611000, 585400, 6611300),  # 12 ha
]
REFS = ["Västerås Finnslätten 1:12", "Västerås Finnslätten 1:13", "Västerås Hacksta 3:4"]
EXTRA_COLUMNS = ["Kontaktperson", "Elanslutning (kW)", "Anmärkning"]


def swedish_export() -> gpd.GeoDataFrame:
    """The municipality's table, as typed (text cells where people type text, decimal commas)."""
    return gpd.GeoDataFrame(
        {
            "Fastighetsbeteckning": REFS,
            "Benämning": ["Finnslätten norra", "Finnslätten södra", "Hacksta verksamhetsområde"],
            "Detaljplan": ["Laga kraft", "Lagakraftvunnen", "Pågående"],
            "Areal (ha)": ["5,0", "3,75", "12"],
            "Användning": ["Industri", "Verksamheter", "J1"],
            "Markägare": ["Västerås stad", "Kommunen", "Privat"],
            "Pris kr/kvm": ["450", "1 200", ""],
            "Kontaktperson": ["Anna Berg", "Anna Berg", "Olle Ek"],
            "Byggklar": ["Ja", "Nej", "X"],
            "Förorenad": ["Nej", "nej", "Ja"],
            "Elanslutning (kW)": [800.0, 1500.0, None],
            "Anmärkning": ["Nära E18, trafikplats Finnslätten", "Ledningsrätt i norr", None],
        },
        geometry=BOXES_3006,
        crs="EPSG:3006",
    ).to_crs("EPSG:3011")


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return LayerSet.from_path(ROOT / "layers" / "region.gpkg", kinds=["municipalities"])["municipalities"]


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "Lediga tomter Västerås.gpkg"
    swedish_export().to_file(path, layer="tomter", driver="GPKG")
    assert pyogrio.read_info(path, layer="tomter")["crs"] == "EPSG:3011"
    return path


EXPECTED = pd.DataFrame(
    {
        "plot_id": [f"1980:{r}" for r in REFS],
        "local_ref": REFS,
        "name": ["Finnslätten norra", "Finnslätten södra", "Hacksta verksamhetsområde"],
        "area_ha": [5.0, 3.75, 12.0],
        "zoning": ["J", "Z", "J"],
        "plan_status": ["laga_kraft", "laga_kraft", "pagaende"],
        "owner": ["kommun", "kommun", "privat"],
        "price_sek_m2": [450.0, 1200.0, None],
        "ready": [True, False, True],
        "brownfield": [False, False, True],
    }
)
EXPECTED_EXTRAS = [
    {"Kontaktperson": "Anna Berg", "Elanslutning (kW)": 800.0, "Anmärkning": "Nära E18, trafikplats Finnslätten"},
    {"Kontaktperson": "Anna Berg", "Elanslutning (kW)": 1500.0, "Anmärkning": "Ledningsrätt i norr"},
    {"Kontaktperson": "Olle Ek"},
]


def _check_stored(plots: gpd.GeoDataFrame) -> None:
    plots = plots.sort_values("plot_id").reset_index(drop=True)
    for col in EXPECTED.columns:
        got = plots[col].astype(object).where(plots[col].notna(), None).tolist()
        want = EXPECTED[col].astype(object).where(EXPECTED[col].notna(), None).tolist()
        assert got == want, col
    assert [json.loads(x) for x in plots["extras"]] == EXPECTED_EXTRAS
    areas = plots.geometry.area.to_numpy() / 10_000  # back in EPSG:3006 from 3011: the drawn rectangles
    assert areas == pytest.approx([5.0, 3.75, 12.0], abs=0.001)
    assert plots.geometry.iloc[0].bounds == pytest.approx((584000, 6611000, 584200, 6611250), abs=0.01)


def test_a_swedish_export_is_stored_without_a_mapping_file(gpkg: Path, boundaries, tmp_path: Path) -> None:
    report = check_file(gpkg, municipality_code="1980", boundaries=boundaries)
    assert report.ok, report.to_text()
    assert report.mapping == {
        "local_ref": "Fastighetsbeteckning",
        "name": "Benämning",
        "area_ha": "Areal (ha)",
        "zoning": "Användning",
        "plan_status": "Detaljplan",
        "owner": "Markägare",
        "price_sek_m2": "Pris kr/kvm",
        "ready": "Byggklar",
        "brownfield": "Förorenad",
    }
    assert report.extras == EXTRA_COLUMNS
    translated = {(t["field"], t["value"]): (t["to"], t["rows"]) for t in report.translated}
    assert translated == {
        ("zoning", "Industri"): ("J", 1),
        ("zoning", "Verksamheter"): ("Z", 1),
        ("zoning", "J1"): ("J", 1),
        ("plan_status", "Laga kraft"): ("laga_kraft", 1),
        ("plan_status", "Lagakraftvunnen"): ("laga_kraft", 1),
        ("plan_status", "Pågående"): ("pagaende", 1),
        ("owner", "Västerås stad"): ("kommun", 1),
        ("owner", "Kommunen"): ("kommun", 1),
        ("owner", "Privat"): ("privat", 1),
        ("ready", "Ja"): ("true", 1),
        ("ready", "Nej"): ("false", 1),
        ("ready", "X"): ("true", 1),
        ("brownfield", "Nej"): ("false", 1),
        ("brownfield", "nej"): ("false", 1),
        ("brownfield", "Ja"): ("true", 1),
    }
    text = report.to_text()
    assert "    Pris kr/kvm → price_sek_m2\n" in text and "kept as extra attributes:\n    Kontaktperson\n" in text
    assert "    owner        'Västerås stad' → kommun (1 row)\n" in text

    store = GeoPackageStore(tmp_path / "plots.gpkg")
    summary = upload_file(store, gpkg, municipality_code="1980", uploader="anna", boundaries=boundaries)
    assert sorted(summary.inserted) == sorted(EXPECTED["plot_id"])
    _check_stored(store.plots())

    # the export returns the extra columns under their own names, and a re-upload of it keeps them
    for suffix in (".csv", ".gpkg", ".geojson"):
        out = export_plots(store.plots(), tmp_path / f"export{suffix}")
        table = pd.read_csv(out) if suffix == ".csv" else gpd.read_file(out)
        assert [c for c in table.columns if c in EXTRA_COLUMNS] == EXTRA_COLUMNS, suffix
        table = table.sort_values("plot_id").reset_index(drop=True)
        assert table["Kontaktperson"].tolist() == ["Anna Berg", "Anna Berg", "Olle Ek"], suffix
        assert table["Elanslutning (kW)"].iloc[:2].tolist() == [800.0, 1500.0], suffix
        assert "extras" not in table.columns
    again = upload_file(store, tmp_path / "export.gpkg", municipality_code="1980", uploader="anna",
                        boundaries=boundaries)  # fmt: skip
    assert sorted(again.unchanged) == sorted(EXPECTED["plot_id"])  # extras read back: nothing changed


def test_cli_export_carries_the_extras(gpkg: Path, boundaries, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "plots.gpkg"
    upload_file(GeoPackageStore(store), gpkg, municipality_code="1980", uploader="anna", boundaries=boundaries)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["plots", "export", "--store", str(store), "tomter.csv"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "tomter.csv").sort_values("plot_id")
    assert table["Anmärkning"].tolist()[:2] == ["Nära E18, trafikplats Finnslätten", "Ledningsrätt i norr"]


def test_a_changed_extra_is_a_new_version_and_the_history_keeps_the_old(gpkg: Path, boundaries, tmp_path) -> None:
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    upload_file(store, gpkg, municipality_code="1980", uploader="anna", boundaries=boundaries)
    changed = swedish_export()
    changed.loc[2, "Kontaktperson"] = "Eva Lund"
    path = tmp_path / "v2.gpkg"
    changed.to_file(path, driver="GPKG")
    summary = upload_file(store, path, municipality_code="1980", uploader="anna", boundaries=boundaries)
    assert summary.updated == ["1980:Västerås Hacksta 3:4"] and len(summary.unchanged) == 2
    h = store.history("1980:Västerås Hacksta 3:4")
    assert [json.loads(x)["Kontaktperson"] for x in h["extras"]] == ["Olle Ek", "Eva Lund"]


def test_an_older_store_gains_the_extras_column(gpkg: Path, boundaries, tmp_path: Path) -> None:
    path = tmp_path / "plots.gpkg"
    store = GeoPackageStore(path)
    upload_file(store, ROOT / "docs/examples/tomter_1980.csv", municipality_code="1980", uploader="anna")
    with contextlib.closing(sqlite3.connect(path)) as con, con:  # as a store made before extras existed
        con.execute("ALTER TABLE plots DROP COLUMN extras")
        con.execute("ALTER TABLE plot_versions DROP COLUMN extras")
    before = len(GeoPackageStore(path).plots())  # opening migrates; the old plots have no extras
    old = GeoPackageStore(path).plots()
    assert before == 2 and old["extras"].isna().all()
    upload_file(GeoPackageStore(path), gpkg, municipality_code="1980", uploader="anna", boundaries=boundaries)
    _check_stored(GeoPackageStore(path).plots().query("plot_id.str.contains('Västerås')"))


def test_a_value_the_aliases_cannot_translate_names_the_mapping_key(gpkg: Path, boundaries, tmp_path) -> None:
    odd = swedish_export()
    odd.loc[1, "Markägare"] = "Sveaskog"
    odd.loc[2, "Detaljplan"] = "Vilande"
    path = tmp_path / "odd.gpkg"
    odd.to_file(path, driver="GPKG")
    store = tmp_path / "plots.gpkg"
    with pytest.raises(UploadError) as err:
        upload_file(GeoPackageStore(store), path, municipality_code="1980", uploader="anna", boundaries=boundaries)
    problems = {(p.row, p.field): p.message for p in err.value.report.problems}
    assert set(problems) == {(2, "owner"), (3, "plan_status")}
    assert "unknown value 'Sveaskog'" in problems[(2, "owner")]
    assert "mapping file under values.owner" in problems[(2, "owner")]
    assert "values: {owner: {'Sveaskog': kommun}}" in problems[(2, "owner")]
    assert "values.plan_status" in problems[(3, "plan_status")]
    assert err.value.report.unknown_values == {"owner": ["Sveaskog"], "plan_status": ["Vilande"]}
    assert not store.exists()
    # the key it names works
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("values:\n  owner: {Sveaskog: statlig}\n  plan_status: {Vilande: antagen}\n", encoding="utf-8")
    upload_file(GeoPackageStore(store), path, municipality_code="1980", uploader="anna", mapping=mapping,
                boundaries=boundaries)  # fmt: skip
    stored = GeoPackageStore(store).plots().set_index("local_ref")
    assert stored.loc[REFS[1], "owner"] == "statlig" and stored.loc[REFS[2], "plan_status"] == "antagen"


def test_excel_csv_with_swedish_settings(boundaries, tmp_path: Path) -> None:
    """Excel's "CSV (semikolonavgränsad)" with Swedish settings: cp1252, ';', decimal comma, N/E columns."""
    rows = ["Fastighetsbeteckning;Användning;Detaljplan;Markägare;Yta m²;N;E;Kommun;Övrigt"]
    for ref, (e, n) in zip(REFS[:2], [(584100, 6611125), (584575, 6611125)], strict=True):
        rows.append(f"{ref};Industri;Laga kraft;Västerås stad;50 000,0;{n},5;{e},5;Västerås;fiber finns")
    path = tmp_path / "tomter.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    report = check_file(path, municipality_code="1980", crs="EPSG:3006", boundaries=boundaries)
    assert report.ok, report.to_text()
    assert report.mapping["area_ha"] == "Yta m² (m² → ha)" and report.extras == ["Övrigt"]
    assert report.mapping["municipality_code"].startswith("Kommun")
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    upload_file(store, path, municipality_code="1980", uploader="anna", crs="EPSG:3006", boundaries=boundaries)
    plots = store.plots()
    assert plots["area_ha"].tolist() == [5.0, 5.0] and plots["zoning"].tolist() == ["J", "J"]
    assert [json.loads(x) for x in plots["extras"]] == [{"Övrigt": "fiber finns"}] * 2


def test_a_kommun_column_naming_another_municipality_is_refused(boundaries, tmp_path: Path) -> None:
    table = swedish_export().assign(Kommun=["Västerås", "Västerås stad", "Sala"])
    path = tmp_path / "t.gpkg"
    table.to_file(path, driver="GPKG")
    report = check_file(path, municipality_code="1980", boundaries=boundaries)
    assert [(p.row, p.field) for p in report.problems] == [(3, "plot_id")]


# -- the service ----------------------------------------------------------------------------------
@pytest.fixture
def app(tmp_path: Path):
    application = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    tokens = add_accounts(tmp_path / "data")
    return application, tokens


def _login(app, user: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = post_login(client, user)
    assert r.status_code == 303, r.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/municipality").text).group(1)
    return client, csrf


def test_the_upload_page_and_the_api_carry_the_extras(app, gpkg: Path) -> None:
    application, tokens = app
    client, csrf = _login(application, "anna")
    with gpkg.open("rb") as f:
        r = client.post("/municipality/upload", data={"csrf_token": csrf},
                        files={"file": (gpkg.name, f, "application/geopackage+sqlite3")})  # fmt: skip
    assert r.status_code == 201, r.text
    page = r.text
    assert "3 nya, 0 uppdaterade" in page  # the summary in the page's language (Swedish: a municipality)
    assert re.search(r"<td>Pris kr/kvm</td><td>price_sek_m2</td>", page)
    # a municipality's page is Swedish by default (the browser sends no Accept-Language here)
    assert "Sparade som extra uppgifter: Kontaktperson, Elanslutning (kW), Anmärkning" in page
    assert re.search(r"<td>owner</td><td>Västerås stad</td><td>kommun</td><td>1</td>", page)
    assert "Kontaktperson: Olle Ek" in page  # the plot table shows the extra attributes

    api = TestClient(application, base_url="https://testserver", headers={"Authorization": f"Bearer {tokens['bo']}"})
    features = api.get("/api/plots").json()["features"]
    by_id = {f["id"]: f["properties"] for f in features}
    assert [by_id[f"1980:{r}"]["extras"] for r in REFS] == EXPECTED_EXTRAS
    one = api.get("/api/plots/1980:Västerås Hacksta 3:4").json()
    assert one["properties"]["extras"] == {"Kontaktperson": "Olle Ek"}
    ogc = api.get("/ogc/collections/plots/items", params={"limit": 1000, "municipality_code": "1980"}).json()
    assert {f["id"]: f["properties"]["extras"] for f in ogc["features"]}["1980:" + REFS[0]] == EXPECTED_EXTRAS[0]
    history = client.get("/plots/1980:Västerås Finnslätten 1:12/history").text
    assert "Elanslutning (kW): 800.0" in history


def test_the_page_maps_unknown_values_and_saves_the_mapping(app, gpkg: Path, tmp_path: Path) -> None:
    application, _ = app
    client, csrf = _login(application, "anna")
    odd = swedish_export()
    odd.loc[1, "Markägare"] = "Sveaskog"
    path = tmp_path / "odd.gpkg"
    odd.to_file(path, driver="GPKG")
    with path.open("rb") as f:
        r = client.post("/municipality/upload", data={"csrf_token": csrf},
                        files={"file": (path.name, f, "application/geopackage+sqlite3")})  # fmt: skip
    assert r.status_code == 422
    assert 'name="from:owner:1" value="Sveaskog"' in r.text and 'name="value:owner:1"' in r.text
    assert "values.owner" in r.text
    # mapped in the page, saved for next time
    with path.open("rb") as f:
        r = client.post("/municipality/upload",
                        data={"csrf_token": csrf, "from:owner:1": "Sveaskog", "value:owner:1": "statlig",
                              "save_mapping": "true"},
                        files={"file": (path.name, f, "application/geopackage+sqlite3")})  # fmt: skip
    assert r.status_code == 201, r.text
    assert "Översättningen är sparad" in r.text  # "The mapping is saved", on a Swedish page
    page = client.get("/municipality").text
    assert "sparad av anna" in page and "Sveaskog: statlig" in page  # shown, in the text box used by default
    # a mapping file works as well, and a bad one is refused with the page kept
    with path.open("rb") as f:
        r = client.post("/municipality/upload", data={"csrf_token": csrf},
                        files={"file": (path.name, f, "application/geopackage+sqlite3"),
                               "mapping_file": ("m.yaml", b"values: [1, 2]", "application/yaml")})  # fmt: skip
    assert r.status_code == 422 and "values" in r.text and "Traceback" not in r.text


@pytest.mark.postgis
@pytest.mark.slow
def test_postgis_keeps_extras_with_history_and_migrates(gpkg: Path, boundaries, postgis_url: str) -> None:  # noqa: F811
    import psycopg

    from sitematch.store import open_store

    with psycopg.connect(postgis_url) as con:
        con.execute("DROP TABLE IF EXISTS plots, plot_versions")
    store = open_store(postgis_url)
    upload_file(store, ROOT / "docs/examples/tomter_1980.csv", municipality_code="1980", uploader="anna")
    with psycopg.connect(postgis_url) as con:  # as a store made before extras existed
        con.execute("ALTER TABLE plots DROP COLUMN extras")
        con.execute("ALTER TABLE plot_versions DROP COLUMN extras")
    store = open_store(postgis_url)  # opening migrates
    assert store.plots()["extras"].isna().all()
    upload_file(store, gpkg, municipality_code="1980", uploader="anna", boundaries=boundaries)
    _check_stored(store.plots().query("plot_id.str.contains('Västerås')"))
    changed = swedish_export()
    changed.loc[2, "Kontaktperson"] = "Eva Lund"
    path = gpkg.with_name("v2.gpkg")
    changed.to_file(path, driver="GPKG")
    summary = upload_file(store, path, municipality_code="1980", uploader="anna", boundaries=boundaries)
    assert summary.updated == ["1980:Västerås Hacksta 3:4"]
    h = store.history("1980:Västerås Hacksta 3:4")
    assert [json.loads(x)["Kontaktperson"] for x in h["extras"]] == ["Olle Ek", "Eva Lund"]
    with psycopg.connect(postgis_url) as con:  # kept as JSON, in the file's column order
        text = con.execute("SELECT extras::text FROM plots WHERE local_ref = %s", (REFS[0],)).fetchone()[0]
        kind = con.execute("SELECT json_typeof(extras) FROM plots WHERE local_ref = %s", (REFS[0],)).fetchone()[0]
    assert kind == "object" and list(json.loads(text)) == EXTRA_COLUMNS


def test_hostile_extras_are_kept_as_text_and_neutralised_at_the_sinks(boundaries, tmp_path: Path) -> None:
    table = swedish_export().drop(columns=EXTRA_COLUMNS)
    table["=HYPERLINK(1)"] = ['=HYPERLINK("http://evil")', "<script>alert(1)</script>", "ok"]
    path = tmp_path / "t.gpkg"
    table.to_file(path, driver="GPKG")
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    upload_file(store, path, municipality_code="1980", uploader="anna", boundaries=boundaries)
    raw = export_plots(store.plots(), tmp_path / "out.csv").read_text(encoding="utf-8")
    header = raw.splitlines()[0]
    assert header.endswith(",'=HYPERLINK(1),wkt")  # a header a spreadsheet would run gets a leading '
    assert '\'=HYPERLINK(""http://evil"")' in raw
    bad = swedish_export().assign(Anteckning=["x" * 1001, "", ""])  # over upload_max_text_chars (1,000)
    bad_path = tmp_path / "bad.gpkg"
    bad.to_file(bad_path, driver="GPKG")
    report = check_file(bad_path, municipality_code="1980", boundaries=boundaries)
    assert [(p.row, p.field) for p in report.problems] == [(1, "Anteckning")]
    assert "1,001 characters, more than the 1,000 allowed" in report.problems[0].message
