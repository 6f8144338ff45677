"""Importers of the national sources, each on a small fixture written here that mirrors the source.

Every fixture keeps the source's own layout, field names (those SOURCES.md confirms; the others
the default mappings list as likely, and each test says which), Swedish characters and CRS.
Expected values are worked out by hand from the tiny region of conftest.py (EPSG:3006,
E0 = 580 000, N0 = 6 610 000; plot A E0…+500 × N0…+500, B E0+3000…3400 × N0…+400,
C E0−5000…−4500 × N0…+600).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely import LineString, Point, Polygon, box

from sitematch.cli import main
from sitematch.errors import CRSError
from sitematch.features import compute_features
from sitematch.importers import SourceError, import_files
from sitematch.layers.layerset import LayerSet
from tests.conftest import E0, N0, tiny_plots


@pytest.fixture
def region(tmp_path: Path) -> Path:
    """A region folder that holds the tiny plots and a catalogue naming them."""
    out = tmp_path / "region"
    out.mkdir()
    pyogrio.write_dataframe(tiny_plots(), out / "plots.gpkg", layer="plots")
    (out / "layers.yaml").write_text("name: Testregion\nlayers:\n  plots: {file: plots.gpkg}\n", encoding="utf-8")
    return out


def features(region: Path, columns: list[str], parameters: dict | None = None):
    layers = LayerSet.from_path(region)
    return compute_features(layers["plots"], layers, parameters, columns=columns).set_index("local_ref")


# -- EBH ------------------------------------------------------------------------------------------
def ebh_fixture(path: Path) -> Path:
    """EBH export as GeoJSON in SWEREF 99 TM. Field names EBH_ID, Objektnamn, Riskklass, Bransch: not
    confirmed (the default mapping's first guesses). Risk classes written as the register shows them."""
    rows = [
        ("EBH-1", "Sala silvergruva, varphögar", "Riskklass 1", "Gruvor och gruvavfall", Point(E0 + 250, N0 + 250)),
        ("EBH-2", "Köpings gamla färgeri", "2", "Textilindustri", Point(E0 + 3200, N0 + 1000)),
        ("EBH-3", "Bensinstation Åby", "E", "Drivmedelshantering", Point(E0 - 4750, N0 + 300)),
        ("EBH-4", "Sanerad tomt", "MKM", "Verkstadsindustri", Point(E0 + 9000, N0)),
        ("EBH-5", "Okänt objekt", "okänd", "Övrigt", Point(E0 + 9500, N0)),
    ]
    gdf = gpd.GeoDataFrame(
        [{"EBH_ID": i, "Objektnamn": n, "Riskklass": r, "Bransch": b, "geometry": g} for i, n, r, b, g in rows],
        crs=3006,
    )
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
    return path


def test_ebh_import_and_its_criteria(region: Path, tmp_path: Path) -> None:
    report = import_files("ebh", [ebh_fixture(tmp_path / "ebh.geojson")], region)
    assert report.written["contaminated_sites"][0] == 4
    assert report.dropped == [("contaminated_sites", 1, "risk class not 1–4, E, KM or MKM (okänd)")]
    sites = gpd.read_file(region / "contaminated_sites.gpkg")
    assert sites["risk_class"].tolist() == ["1", "2", "E", "MKM"]
    assert sites["name"].iloc[1] == "Köpings gamla färgeri" and sites.crs.to_epsg() == 3006
    cols = ["distance_to_contaminated_site_class_1_2_m", "contaminated_sites_class_1_2_on_plot_count"]
    f = features(region, cols)
    # A holds EBH-1; B is 600 m below EBH-2; C is 4750 m from EBH-1 (EBH-3 in C is class E: not counted).
    assert f.loc[["A", "B", "C"], cols[0]].tolist() == pytest.approx([0.0, 600.0, 4750.0])
    assert f.loc[["A", "B", "C"], cols[1]].tolist() == [1, 0, 0]


def test_ebh_needs_a_risk_class_field(region: Path, tmp_path: Path) -> None:
    path = tmp_path / "ebh.geojson"
    gpd.GeoDataFrame({"EBH_ID": ["1"], "Klass": ["2"]}, geometry=[Point(E0, N0)], crs=3006).to_file(path)
    with pytest.raises(SourceError, match="found no field for risk_class") as info:
        import_files("ebh", [path], region)
    assert "columns: {risk_class: FIELD}" in str(info.value) and info.value.option == "mapping"
    mapping = tmp_path / "ebh.yaml"
    mapping.write_text("columns: {risk_class: Klass}\n", encoding="utf-8")
    assert import_files("ebh", [path], region, mapping=mapping).written["contaminated_sites"][0] == 1


def test_file_without_crs_needs_one(region: Path, tmp_path: Path) -> None:
    path = tmp_path / "ebh.csv"
    path.write_text(f"EBH_ID,Riskklass,WKT\nX1,1,POINT ({E0} {N0})\n", encoding="utf-8")
    with pytest.raises(CRSError, match="no coordinate reference system"):
        import_files("ebh", [path], region)
    assert import_files("ebh", [path], region, crs="3006").written["contaminated_sites"][0] == 1


# -- SCB ------------------------------------------------------------------------------------------
def test_scb_grid_from_a_table(region: Path, tmp_path: Path) -> None:
    """The grid as SCB's table: rutid_scb (E 6 digits + N 7 digits of the lower-left corner), beftotalt,
    plus a municipality name column nothing maps (reported)."""
    e, n = int(E0), int(N0)
    table = tmp_path / "befolkning_rutor.csv"
    table.write_text(
        "rutid_scb;beftotalt;kommunnamn\n"
        f"{e:06d}{n + 2000:07d};1200;Västerås\n"  # centre (E0+500, N0+2500)
        f"{e + 40000:06d}{n:07d};300;Västerås\n"  # centre (E0+40 500, N0+500)
        f"{e:06d}{n + 4000:07d};;Västerås\n",  # no population: dropped
        encoding="utf-8",
    )
    report = import_files("scb-grid", [table], region)
    assert report.written["population_grid"][0] == 2
    assert report.unmapped["befolkning_rutor.csv"] == ["kommunnamn"]
    grid = gpd.read_file(region / "population_grid.gpkg")
    assert grid.geometry.x.tolist() == [E0 + 500, E0 + 40_500] and grid.geometry.y.tolist() == [N0 + 2500, N0 + 500]
    f = features(region, ["labour_pool_grid_population"], {"labour_pool_radius_m": 30_000})
    # From A the first cell is 2000 m away, the second 40 km: only the first counts within 30 km.
    assert f.loc["A", "labour_pool_grid_population"] == 1200


def test_scb_grid_from_squares_in_rt90(region: Path, tmp_path: Path) -> None:
    squares = gpd.GeoDataFrame(
        {"Rutid": ["a", "b"], "Beftotalt": [10, 20]},
        geometry=[box(E0, N0, E0 + 1000, N0 + 1000), box(E0 + 1000, N0, E0 + 2000, N0 + 1000)],
        crs=3006,
    ).to_crs(3021)
    pyogrio.write_dataframe(squares, tmp_path / "rutor.gpkg")
    import_files("scb-grid", [tmp_path / "rutor.gpkg"], region)
    grid = gpd.read_file(region / "population_grid.gpkg")
    assert grid.geometry.x.round(1).tolist() == [E0 + 500, E0 + 1500]
    assert grid["population"].tolist() == [10, 20]


def test_deso_with_a_population_table(region: Path, tmp_path: Path) -> None:
    areas = gpd.GeoDataFrame(
        {"deso": ["1980C1010", "1980C1020"]},
        geometry=[box(E0 - 1000, N0 - 1000, E0 + 2000, N0 + 1000), box(E0 + 2000, N0 - 1000, E0 + 5000, N0 + 1000)],
        crs=3006,
    )
    pyogrio.write_dataframe(areas, tmp_path / "deso.gpkg")
    (tmp_path / "folkmangd.csv").write_text("deso,folkmangd\n1980C1010,1523\n1980C9999,7\n", encoding="utf-8")
    report = import_files("deso", [tmp_path / "deso.gpkg", tmp_path / "folkmangd.csv"], region)
    assert any("1980C9999" in note for note in report.notes)
    deso = gpd.read_file(region / "deso_areas.gpkg")
    assert deso["municipality_code"].tolist() == ["1980", "1980"] and deso["population"].tolist()[0] == 1523
    assert features(region, ["deso_code"]).loc[["A", "B"], "deso_code"].tolist() == ["1980C1010", "1980C1020"]


# -- grid capacity --------------------------------------------------------------------------------
def test_capacity_joined_by_name_and_id_with_unmatched_reported(region: Path, tmp_path: Path) -> None:
    subs = gpd.GeoDataFrame(
        {"osm_id": ["n1", "w2"], "name": ["Köping transformatorstation", "Västerås Ställverk"]},
        geometry=[Point(E0 + 1000, N0 + 1000), Point(E0 - 4000, N0 + 300)],
        crs=3006,
    ).to_crs(4326)
    pyogrio.write_dataframe(subs, tmp_path / "stationer.gpkg")
    table = tmp_path / "kapacitet.csv"
    table.write_text(
        "station;substation_id;effekt_uttag_mw;effekt_inmatning_mw;nätbolag;datum;metod;källa\n"
        "KÖPING;;40;10;Mälarenergi Elnät;2025-06-30;indikativ;https://example.se/kapacitet\n"
        "Köping;;25;5;Mälarenergi Elnät;2024-01-15;indikativ;https://example.se/gammal\n"
        ";w2;12;0;Ellevio;2023-05-01;fast;https://example.se/ellevio\n"
        "Surahammar;;5;0;Ellevio;2025-01-01;fast;\n",
        encoding="utf-8",
    )
    report = import_files(
        "capacity", [table, tmp_path / "stationer.gpkg"], region, mapping={"options": {"today": "2026-01-01"}}
    )
    assert ("capacity records", 1, "match no substation in stationer.gpkg: Surahammar") in report.dropped
    sub = gpd.read_file(region / "substations.gpkg").set_index("name")
    assert sub.loc["Köping transformatorstation", "available_capacity_mw"] == 40  # the latest record
    assert sub.loc["Köping transformatorstation", "capacity_method"] == "indicative"
    assert sub.loc["Västerås Ställverk", "capacity_method"] == "firm"
    # 2025-06-30 is 185 days before 2026-01-01; 2023-05-01 is 976 days: older than 365, flagged.
    names = ["Köping transformatorstation", "Västerås Ställverk"]
    assert sub.loc[names, "capacity_age_days"].tolist() == [185, 976]
    assert sub.loc[names, "capacity_stale"].tolist() == [False, True]
    assert "Ellevio" in sub.loc["Västerås Ställverk", "source"]
    f = features(region, ["grid_capacity_mw"], {"grid_connection_radius_m": 15_000})
    assert f.loc["A", "grid_capacity_mw"] == 40


def test_cli_import_reports_and_refuses_cleanly(region: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        main, ["layers", "import", "ebh", str(ebh_fixture(tmp_path / "e.geojson")), "--out", str(region)]
    )
    assert ok.exit_code == 0, ok.output
    assert "wrote 4 row(s) to contaminated_sites" in ok.output and "okänd" in ok.output
    bad = runner.invoke(
        main, ["layers", "import", "capacity", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    unknown = runner.invoke(main, ["layers", "import", "lantmateriet", "x", "--out", str(region)])
    assert unknown.exit_code == 2


# -- Trafikverket ---------------------------------------------------------------------------------
def test_nvdb_roads_and_motorways(region: Path, tmp_path: Path) -> None:
    """NVDB homogeniserad as a GeoPackage in SWEREF 99 TM with its confirmed field names (Motorvag,
    F_Hogst_225, B_Hogst_225, Klass_181, Kateg_380, Europ_16, Huvud_13, KOMMUNNR); the street name
    field (Namn_130) is not confirmed."""
    links = [
        (1, 110, 110, 0, 1, 18, None, "E18", [(E0 - 5000, N0 - 1000), (E0 + 5000, N0 - 1000)]),
        (0, 50, None, 6, 2, None, 56, "Köpingsvägen", [(E0, N0 - 1000), (E0, N0 + 3000)]),
        (0, None, None, 9, 4, None, None, "Gårdsvägen", [(E0, N0 + 3000), (E0 + 3000, N0 + 3000)]),
        (0, None, None, None, 4, None, None, "Okänd", [(E0 + 3000, N0 + 3000), (E0 + 3000, N0 + 4000)]),
    ]
    from shapely import LineString

    gdf = gpd.GeoDataFrame(
        [
            {
                "Motorvag": m,
                "Motortrafikled": 0,
                "F_Hogst_225": f,
                "B_Hogst_225": b,
                "Klass_181": k,
                "Kateg_380": c,
                "Europ_16": e,
                "Huvud_13": h,
                "Barig_64": "BK1",
                "KOMMUNNR": "1983",
                "Namn_130": n,
                "geometry": LineString(xy),
            }
            for m, f, b, k, c, e, h, n, xy in links
        ],
        crs=3006,
    )
    pyogrio.write_dataframe(gdf, tmp_path / "nvdb.gpkg", layer="vagnat")
    junction = gpd.GeoDataFrame(
        {"name": ["Tp Köping"], "road": ["E18"], "source": ["example"], "licence": ["CC0"]},
        geometry=[Point(E0, N0 - 1000)],
        crs=3006,
    )
    pyogrio.write_dataframe(junction, region / "tp.gpkg", layer="motorway_junctions")
    with open(region / "layers.yaml", "a", encoding="utf-8") as f:
        f.write("  motorway_junctions: {file: tp.gpkg}\n")
    report = import_files("nvdb", [tmp_path / "nvdb.gpkg"], region)
    assert report.dropped == [("roads", 1, "no speed limit and no functional class")]
    assert "drive_time_to_motorway_junction_min" in report.criteria
    roads = gpd.read_file(region / "roads.gpkg")
    assert roads["speed_kmh"].tolist() == [110, 50, 20]  # Gårdsvägen: class 9's 20 km/h
    assert roads["road"].tolist()[:2] == ["E18", "56"] and roads["name"].tolist()[1] == "Köpingsvägen"
    motorways = gpd.read_file(region / "motorways.gpkg")
    assert motorways["road"].tolist() == ["E18"]
    # A joins Köpingsvägen somewhere on its west edge (N0…N0+500) after 1 min, then drives 1.0–1.5 km
    # south at 50 km/h (1.2 min per km) to the junction: 2.2–2.8 min.
    t = features(region, ["drive_time_to_motorway_junction_min"]).loc["A"].iloc[-1]
    assert 2.2 - 1e-9 <= t <= 2.8 + 1e-9


def test_rail_network_and_sidings(region: Path, tmp_path: Path) -> None:
    """Rail network as a Shapefile in SWEREF 99 TM; field names Bandelnamn, Sparkategori not confirmed."""
    from shapely import LineString

    gdf = gpd.GeoDataFrame(
        {
            "Bandelnamn": ["Mälarbanan", "Sidospår Köpings hamn", None],
            "Sparkategori": ["Huvudspår", "Sidospår", "Huvudspår"],
        },
        geometry=[
            LineString([(E0 + 3200, N0 - 20_000), (E0 + 3200, N0 + 20_000)]),
            LineString([(E0 + 3200, N0 + 1000), (E0 + 4200, N0 + 1000)]),
            LineString([(E0 - 9000, N0), (E0 - 9000, N0 + 5000)]),
        ],
        crs=3006,
    )
    with pytest.warns(RuntimeWarning, match="Sparkatego"):  # a Shapefile's 10-character field names
        pyogrio.write_dataframe(gdf, tmp_path / "jarnvag.shp", encoding="UTF-8")
    report = import_files("jarnvag", [tmp_path / "jarnvag.shp"], region)
    assert report.written["rail"][0] == 2 and report.written["freight_terminals"][0] == 1
    rail = gpd.read_file(region / "rail.gpkg")
    assert rail["line_name"].tolist() == ["Mälarbanan", "järnväg (namn saknas)"]
    terminals = gpd.read_file(region / "freight_terminals.gpkg")
    assert (terminals.geometry.x.iloc[0], terminals.geometry.y.iloc[0]) == (E0 + 3700, N0 + 1000)
    f = features(region, ["distance_to_rail_m", "distance_to_freight_terminal_m"])
    assert f.loc["B", "distance_to_rail_m"] == 0  # Mälarbanan crosses B
    assert f.loc["B", "distance_to_freight_terminal_m"] == pytest.approx(((3700 - 3400) ** 2 + 600**2) ** 0.5)


# -- detaljplaner ---------------------------------------------------------------------------------
def _geojson(geom, crs: int) -> dict:
    return gpd.GeoSeries([geom], crs=3006).to_crs(crs).iloc[0].__geo_interface__


def test_detaljplan_json_and_boundaries_give_zoning_and_status_by_overlay(region: Path, tmp_path: Path) -> None:
    """An NGP detaljplan JSON (spec 4.x layout: feature:typ, beteckning, status, beslutsinformation,
    planbestammelsekatalogreferens, bestammelseformulering) in EPSG:3010 (SWEREF 99 16 30, Västerås's
    zone), with Boverket catalogue UUIDs the mapping resolves; and a Markreglerande bestämmelse
    GeoPackage (field names Aktbeteckning, Namn not confirmed) in EPSG:3010 covering plot C.

    The plan covers A and B; its J provision covers A, its Z provision B; C lies in the old plan."""
    crs = 3010
    feature = lambda typ, props, geom: {  # noqa: E731
        "type": "Feature",
        "feature:typ": typ,
        "properties": props,
        "geometry": _geojson(geom, crs),
    }
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3010"}},
        "features": [
            feature(
                "detaljplan",
                {
                    "kommun": "1980",
                    "beteckning": "1980-P2023/4",
                    "namn": "Detaljplan för kvarteret Smedjan, Västerås",
                    "syfte": "Möjliggöra industri och verksamheter",
                    "status": "lagaKraft",
                    "beslutsinformation": [
                        {"beslutstyp": "antagande", "datumAntagande": "2023-03-01", "datumLagakraft": "2023-04-12"}
                    ],
                },
                box(E0 - 1000, N0 - 1000, E0 + 4000, N0 + 1000),
            ),
            feature(
                "användningsbestämmelse",
                {"planbestammelsekatalogreferens": "7c1a-j2", "bestammelseformulering": "Industri"},
                box(E0 - 1000, N0 - 1000, E0 + 1000, N0 + 1000),
            ),
            feature(
                "användningsbestämmelse",
                {"planbestammelsekatalogreferens": "7c1a-z1", "bestammelseformulering": "Verksamheter"},
                box(E0 + 1000, N0 - 1000, E0 + 4000, N0 + 1000),
            ),
            feature(
                "användningsbestämmelse",
                {"planbestammelsekatalogreferens": "ffff-okänd", "bestammelseformulering": "Skydd"},
                box(E0 + 3500, N0 + 500, E0 + 4000, N0 + 1000),
            ),
            feature(
                "egenskapsbestämmelse",
                {"bestammelseformulering": "Högsta byggnadshöjd 20 meter"},
                box(E0, N0, E0 + 100, N0 + 100),
            ),
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    old = gpd.GeoDataFrame(
        {"Aktbeteckning": ["19-ÖST-123"], "Namn": ["Östra industriområdet"]},
        geometry=[box(E0 - 6000, N0 - 1000, E0 - 4000, N0 + 1000)],
        crs=3006,
    ).to_crs(crs)
    pyogrio.write_dataframe(old, tmp_path / "markreglerande.gpkg")
    mapping = tmp_path / "boverket.yaml"
    mapping.write_text("catalogue:\n  7c1a-j2: DP_KM_J2\n  7c1a-z1: DP_KM_Z1\n", encoding="utf-8")
    report = import_files(
        "detaljplan", [tmp_path / "plan.json", tmp_path / "markreglerande.gpkg"], region, mapping=mapping
    )
    assert (
        "användningsbestämmelser",
        1,
        "catalogue reference not in the mapping's catalogue (ffff-okänd)",
    ) in report.dropped
    assert {"plan_zoning", "plan_status_by_overlay"} <= set(report.criteria)
    plans = gpd.read_file(region / "plan_areas.gpkg")
    assert plans["plan_id"].tolist() == ["1980-P2023/4", "19-ÖST-123"]
    assert plans["plan_status"].tolist() == ["laga_kraft", "laga_kraft"] and plans["plan_date"].iloc[0] == "2023-04-12"
    f = features(region, ["plan_zoning", "plan_status_by_overlay"])
    assert f.loc[["A", "B"], "plan_zoning"].tolist() == ["J", "Z"] and f["plan_zoning"].isna().loc["C"]
    assert f.loc[["A", "B", "C"], "plan_status_by_overlay"].tolist() == ["laga_kraft"] * 3
    assert f["plan_status_by_overlay"].isna().loc["D"]


# The NGP layout, field by field, as Lantmäteriet's Nationella geodataplattformen delivers digital
# plans: Nationell informationsspecifikation Detaljplan 4.1, media type
# application/vnd.lm.detaljplan.v4+json (checked against public generators and readers of NGP
# plans: a QGIS plan-export plugin's tests against the 4.1 JSON schema, and a reader that walks
# plangeometri / bestammelsegeometri). What the fixture keeps:
# - a FeatureCollection with "feature:mediatyp"; every feature "geometry": null;
# - everything in "properties": "feature:typ", "objektidentitet" (UUID), "objektversion",
#   "versionGiltigFran" (UTC, with a Z);
# - the plan: kommun, beteckning, namn, syfte, status, typ, beslutsinformation[{beslutstyp,
#   datumAntagande, datumLagakraft (a list), genomforandetid}], plangeometri;
# - a provision: detaljplan (the plan's objektidentitet), planbestammelsekatalogreferens (a UUID into
#   Boverket's catalogue), bestammelseformulering, bestammelsegeometri;
# - plangeometri / bestammelsegeometri: a list, one entry per part, of {geometri: {typ: yta|linje|punkt,
#   koordinatsystemPlan: "EPSG:30xx", dimension: 2, position: <GeoJSON geometry>}, geometrimetadata};
#   the CRS per geometry, no top-level "crs". Here one plan is drawn in EPSG:3010 (SWEREF 99 16 30,
#   Västerås's zone) and the other, and some provisions, in EPSG:3006: one file, several CRSs.
# Not confirmed: the status code list's values other than "påbörjad" ("lagaKraft" is taken as likely).
P1, P2 = "8b0c2f1e-3a4d-4c5b-9e6f-0a1b2c3d4e5f", "1f2e3d4c-5b6a-4978-8a9b-c0d1e2f3a4b5"
J2, Z1, E2 = (
    "2d3b5e1a-0c4f-4a8e-9b7d-6e5f4a3b2c1d",
    "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
)


def _ngp_geometry(geom, crs: int, typ: str = "yta") -> dict:
    return {
        "geometri": {
            "typ": typ,
            "koordinatsystemPlan": f"EPSG:{crs}",
            "dimension": 2,
            "position": _geojson(geom, crs),
        },
        "geometrimetadata": {"lagesbestamningsmetodIPlan": {"typ": "lägesplacering"}},
    }


def _ngp_feature(feature_type: str, ident: str, when: str, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "feature:typ": feature_type,
            "objektidentitet": ident,
            "objektversion": 1,
            "versionGiltigFran": when,
            **props,
        },
    }


def ngp_plan_fixture(path: Path) -> Path:
    """Two plans: P1 (laga kraft, two parts drawn in EPSG:3010) over A and B with a J use over A and
    a Z use over B (in EPSG:3006, two parts); P2 (påbörjad, EPSG:3006) over C with an E use."""
    doc = {
        "type": "FeatureCollection",
        "feature:mediatyp": "application/vnd.lm.detaljplan.v4+json",
        "features": [
            _ngp_feature(
                "detaljplan",
                P1,
                "2024-05-02T08:00:00Z",
                kommun="Västerås",
                beteckning="1980-P2023/4",
                namn="Detaljplan för kvarteret Smedjan",
                syfte="Möjliggöra industri och verksamheter",
                status="lagaKraft",
                typ="detaljplan",
                beslutsinformation=[
                    {
                        "beslutstyp": "antagande",
                        "diarienummerKommun": "KS 2022/118",
                        "datumAntagande": "2023-03-01",
                        "datumLagakraft": ["2023-04-12", "2023-04-20"],
                        "genomforandetid": 5,
                    }
                ],
                plangeometri=[
                    _ngp_geometry(box(E0 - 1000, N0 - 1000, E0 + 1000, N0 + 1000), 3010),
                    _ngp_geometry(box(E0 + 2500, N0 - 1000, E0 + 4000, N0 + 1000), 3010),
                ],
            ),
            _ngp_feature(
                "detaljplan",
                P2,
                "2025-11-30T10:15:00Z",
                kommun="Västerås",
                beteckning="1980-P2025/7",
                namn="Östra verksamhetsområdet",
                syfte="Tekniska anläggningar",
                status="påbörjad",
                typ="detaljplan",
                beslutsinformation=[{"diarienummerKommun": "KS 2025/12"}],
                plangeometri=[_ngp_geometry(box(E0 - 6000, N0 - 1000, E0 - 4000, N0 + 1000), 3006)],
            ),
            _ngp_feature(
                "användningsbestämmelse",
                "a1000000-0000-4000-8000-000000000001",
                "2024-05-02T08:00:00Z",
                detaljplan=P1,
                planbestammelsekatalogreferens=J2,
                bestammelseformulering="Industri",
                bestammelsegeometri=[_ngp_geometry(box(E0 - 1000, N0 - 1000, E0 + 1000, N0 + 1000), 3010)],
            ),
            _ngp_feature(
                "användningsbestämmelse",
                "a1000000-0000-4000-8000-000000000002",
                "2024-05-02T08:00:00Z",
                detaljplan=P1,
                planbestammelsekatalogreferens=Z1,
                bestammelseformulering="Verksamheter",
                bestammelsegeometri=[
                    _ngp_geometry(box(E0 + 2500, N0 - 1000, E0 + 3200, N0 + 1000), 3006),
                    _ngp_geometry(box(E0 + 3200, N0 - 1000, E0 + 4000, N0 + 1000), 3006),
                ],
            ),
            _ngp_feature(
                "användningsbestämmelse",
                "a1000000-0000-4000-8000-000000000003",
                "2025-11-30T10:15:00Z",
                detaljplan=P2,
                planbestammelsekatalogreferens=E2,
                bestammelseformulering="Tekniska anläggningar",
                bestammelsegeometri=[_ngp_geometry(box(E0 - 6000, N0 - 1000, E0 - 4000, N0 + 1000), 3006)],
            ),
            _ngp_feature(
                "användningsbestämmelse",
                "a1000000-0000-4000-8000-000000000004",
                "2024-05-02T08:00:00Z",
                detaljplan=P1,
                planbestammelsekatalogreferens="ffffffff-0000-4000-8000-00000000okänd",
                bestammelseformulering="Natur",
                bestammelsegeometri=[_ngp_geometry(box(E0 + 3500, N0 + 500, E0 + 4000, N0 + 1000), 3010)],
            ),
            _ngp_feature(
                "egenskapsbestämmelse",
                "e1000000-0000-4000-8000-000000000001",
                "2024-05-02T08:00:00Z",
                detaljplan=P1,
                planbestammelsekatalogreferens="0a0b0c0d-1e1f-4a2b-8c3d-4e5f6a7b8c9d",
                bestammelseformulering="Utfart får inte finnas",
                bestammelsevarde=[],
                bestammelsegeometri=[
                    _ngp_geometry(LineString([(E0 - 1000, N0), (E0 - 1000, N0 + 500)]), 3010, "linje")
                ],
            ),
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_detaljplan_in_the_real_ngp_layout(region: Path, tmp_path: Path) -> None:
    """The 4.1 layout (geometry null, geometry lists with koordinatsystemPlan, no top-level crs) imports
    from the command line with exit 0: plan areas with status and date, uses joined to their plan
    through its objektidentitet, all in EPSG:3006."""
    plan = ngp_plan_fixture(tmp_path / "detaljplan.json")
    mapping = tmp_path / "boverket.yaml"
    mapping.write_text(f"catalogue:\n  {J2}: DP_KM_J2\n  {Z1}: DP_KM_Z1\n  {E2}: DP_KM_E2\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["layers", "import", "detaljplan", str(plan), "--out", str(region), "--mapping", str(mapping)]
    )
    assert result.exit_code == 0, result.output
    assert "dropped 1 användningsbestämmelser row(s)" in result.output
    plans = gpd.read_file(region / "plan_areas.gpkg")
    assert plans.crs.to_epsg() == 3006
    assert plans["plan_id"].tolist() == ["1980-P2023/4", "1980-P2025/7"]
    assert plans["plan_status"].tolist() == ["laga_kraft", "pagaende"]
    assert plans["plan_date"].iloc[0] == "2023-04-20" and plans["plan_date"].isna().iloc[1]  # the later of the list
    # P1's two parts, 2 × 2 km and 1.5 × 2 km, drawn in EPSG:3010 and brought back to 3006.
    assert plans.geometry.area.iloc[0] == pytest.approx(4e6 + 3e6, rel=1e-6)
    assert plans.geometry.iloc[0].bounds == pytest.approx((E0 - 1000, N0 - 1000, E0 + 4000, N0 + 1000), abs=0.01)
    uses = gpd.read_file(region / "plan_uses.gpkg")
    assert uses["zoning"].tolist() == ["J", "Z", "E"]
    assert uses["use_code"].tolist() == ["DP_KM_J2", "DP_KM_Z1", "DP_KM_E2"]
    assert uses["plan_id"].tolist() == ["1980-P2023/4", "1980-P2023/4", "1980-P2025/7"]
    assert uses["plan_status"].tolist() == ["laga_kraft", "laga_kraft", "pagaende"]
    assert uses.geometry.area.iloc[1] == pytest.approx(1500 * 2000, rel=1e-9)  # Z's two parts joined
    f = features(region, ["plan_zoning", "plan_status_by_overlay"])
    assert f.loc[["A", "B", "C"], "plan_zoning"].tolist() == ["J", "Z", "E"]
    assert f.loc[["A", "B", "C"], "plan_status_by_overlay"].tolist() == ["laga_kraft", "laga_kraft", "pagaende"]
    assert f["plan_zoning"].isna().loc["D"]
    cat = LayerSet.from_path(region).catalogue
    # The layers' date: the plans' newest versionGiltigFran, and the catalogue says so.
    assert cat.layers["plan_areas"].date == "2025-11-30" and cat.layers["plan_uses"].date == "2025-11-30"
    assert "versionGiltigFran" in cat.layers["plan_areas"].date_from
    assert "plan_areas dated 2025-11-30, from the plans' newest versionGiltigFran" in result.output


def test_detaljplan_geometry_without_a_crs_is_refused_cleanly(region: Path, tmp_path: Path) -> None:
    plan = ngp_plan_fixture(tmp_path / "detaljplan.json")
    doc = json.loads(plan.read_text(encoding="utf-8"))
    del doc["features"][1]["properties"]["plangeometri"][0]["geometri"]["koordinatsystemPlan"]
    plan.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["layers", "import", "detaljplan", str(plan), "--out", str(region)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no koordinatsystemPlan" in result.output and "crs" in result.output.lower()
    assert not (region / "plan_areas.gpkg").exists()
    # Told the CRS, the same file imports (the geometry is in EPSG:3006).
    result = CliRunner().invoke(
        main, ["layers", "import", "detaljplan", str(plan), "--out", str(region), "--crs", "3006"]
    )
    assert result.exit_code == 0, result.output


# -- NVDB one-way links and the network's extent --------------------------------------------------
def _nvdb_links(path: Path, closed_forward: int, closed_backward: int) -> Path:
    """A newer NVDB export (road numbers in Evag_555 / Huvnr_556_1, one-way in F_/B_ForbjudenFardriktning),
    all at 60 km/h (1 min per km) but E18 at 120 km/h (0.5 min per km); coordinates in km from (E0, N0)::

        (0,3) ──── L2 ────► (2,3)
          ▲                   │
          L1 Köpingsvägen     L3
          │                   ▼
        (0,0)=Tp ── E18 ── (2,0) ── E18 ── (5,0)      E18 from (-5,0)

    L1 is drawn south → north; the flags close it with (F) or against (B) that direction."""
    k = 1000.0
    links = [
        # Evag_555, Huvnr_556_1, speed, F_Forbjuden, B_Forbjuden, Motorvag, name, line
        (18, None, 120, 0, 0, 1, "E18", [(E0 - 5 * k, N0), (E0, N0), (E0 + 2 * k, N0), (E0 + 5 * k, N0)]),
        (None, 56, 60, closed_forward, closed_backward, 0, "Köpingsvägen", [(E0, N0), (E0, N0 + 3 * k)]),
        (None, None, 60, 0, 0, 0, "L2", [(E0, N0 + 3 * k), (E0 + 2 * k, N0 + 3 * k)]),
        (None, None, 60, 0, 0, 0, "L3", [(E0 + 2 * k, N0 + 3 * k), (E0 + 2 * k, N0)]),
        (None, None, 60, 1, 1, 0, "Avstängd", [(E0 + 2 * k, N0 + 3 * k), (E0 + 3 * k, N0 + 4 * k)]),
    ]
    gdf = gpd.GeoDataFrame(
        [
            {
                "Motorvag": m,
                "F_Hogst_225": v,
                "B_Hogst_225": v,
                "Klass_181": 1 if m else 5,
                "Kateg_380": 1 if e else 3,
                "Evag_555": e,
                "Huvnr_556_1": h,
                "F_ForbjudenFardriktning": f,
                "B_ForbjudenFardriktning": b,
                "KOMMUNNR": "1980",
                "Namn_130": n,
                "geometry": LineString(xy),
            }
            for e, h, v, f, b, m, n, xy in links
        ],
        crs=3006,
    )
    pyogrio.write_dataframe(gdf, path, layer="vagnat")
    return path


def _network_region(tmp_path: Path) -> Path:
    """T: a triangle whose tip touches nothing: 100 m west of L1 at (0, 1 km) (access: 1 min, the floor);
    F: a plot 27 km north of every road (outside the network)."""
    from tests.conftest import _gdf, plot_row

    out = tmp_path / "region"
    out.mkdir()
    tip = (E0 - 100, N0 + 1000)
    plots = _gdf(
        [
            plot_row("T", "1980", Polygon([tip, (E0 - 400, N0 + 800), (E0 - 400, N0 + 1200)]), 6.0),
            plot_row("F", "1980", box(E0, N0 + 30_000, E0 + 500, N0 + 30_500), 25.0),
        ]
    )
    pyogrio.write_dataframe(plots, out / "plots.gpkg", layer="plots")
    junction = gpd.GeoDataFrame(
        {"name": ["Tp Köping"], "road": ["E18"], "source": ["example"], "licence": ["CC0"]},
        geometry=[Point(E0, N0)],
        crs=3006,
    )
    pyogrio.write_dataframe(junction, out / "tp.gpkg", layer="motorway_junctions")
    cells = gpd.GeoDataFrame(
        {"cell_id": ["c1"], "population": [500], "source": ["example"], "licence": ["CC0"]},
        geometry=[Point(E0 + 2000, N0 + 1500)],  # on L3
        crs=3006,
    )
    pyogrio.write_dataframe(cells, out / "grid.gpkg", layer="population_grid")
    (out / "layers.yaml").write_text(
        "name: Testregion\nlayers:\n  plots: {file: plots.gpkg}\n  motorway_junctions: {file: tp.gpkg}\n"
        "  population_grid:\n    file: grid.gpkg\n    geometry: Point\n"
        "    columns: {cell_id: str, population: int}\n    source: example\n    licence: CC0\n",
        encoding="utf-8",
    )
    return out


@pytest.mark.parametrize(
    ("closed_forward", "closed_backward", "minutes"),
    [
        # Both ways open: 1 min access, 1 km south on L1 (1 min).
        (0, 0, 2.0),
        # Closed with the line (northwards): south is still open.
        (1, 0, 2.0),
        # Closed against the line (southwards): 2 km north on L1, 2 km east on L2, 3 km south on L3
        # (7 min at 1 min per km), 2 km west on the E18 at 120 km/h (1 min), plus access: 1 + 7 + 1 = 9.
        (0, 1, 9.0),
    ],
)
def test_nvdb_one_way_links_change_drive_times(
    tmp_path: Path, closed_forward: int, closed_backward: int, minutes: float
) -> None:
    region = _network_region(tmp_path)
    nvdb = _nvdb_links(tmp_path / "nvdb.gpkg", closed_forward, closed_backward)
    report = import_files("nvdb", [nvdb], region)
    assert ("roads", 1, "closed in both directions") in report.dropped  # Avstängd
    roads = gpd.read_file(region / "roads.gpkg")
    expected_oneway = {(0, 0): 0, (1, 0): -1, (0, 1): 1}[(closed_forward, closed_backward)]
    assert roads["oneway"].tolist() == [0, expected_oneway, 0, 0]
    assert roads["road"].tolist()[:2] == ["E18", "56"]  # Evag_555, Huvnr_556_1
    assert gpd.read_file(region / "motorways.gpkg")["road"].tolist() == ["E18"]
    assert any(line.startswith("road network extent (EPSG:3006): E 575,000–585,000") for line in report.notes)
    # ... and recorded with the layer: its catalogue description.
    entry = LayerSet.from_path(region).catalogue.layers["roads"]
    assert entry.description.endswith("extent (EPSG:3006) E 575000–585000, N 6610000–6613000")  # Avstängd dropped
    f = features(region, ["drive_time_to_motorway_junction_min"])
    assert f.loc["T", "drive_time_to_motorway_junction_min"] == pytest.approx(minutes)


def test_a_plot_outside_the_road_network_has_unknown_drive_time_and_labour_pool(tmp_path: Path) -> None:
    from sitematch.matching import match
    from sitematch.profile import parse_profile

    region = _network_region(tmp_path)
    import_files("nvdb", [_nvdb_links(tmp_path / "nvdb.gpkg", 0, 0)], region)
    f = features(region, ["drive_time_to_motorway_junction_min", "labour_pool_within_30_min"])
    # T: 2 min to the junction; the cell on L3 (1.5 km up it) reaches T in 1 + 1.5 + 3 + 1 + 1 = 7.5 min.
    assert f.loc["T", "drive_time_to_motorway_junction_min"] == pytest.approx(2.0)
    assert f.loc["T", "labour_pool_within_30_min"] == 500
    # F lies 27 km from every road: not "749 minutes" and not "nobody": unknown.
    assert f.loc["F", ["drive_time_to_motorway_junction_min", "labour_pool_within_30_min"]].isna().all()
    layers = LayerSet.from_path(region)
    for if_unknown, passed, check in (
        ("fail", False, "unknown"),
        ("pass", True, "passed"),
        ("verify", True, "to verify"),
    ):
        profile = parse_profile(
            "name: t\nrequirements:\n"
            f"  max_drive_time_to_motorway_junction_min: {{value: 15, if_unknown: {if_unknown}}}\n"
            f"  min_labour_pool_within_30_min: {{value: 100, if_unknown: {if_unknown}}}\n",
            registry=layers.registry,
        )
        sites = match(profile, layers).sites.set_index("local_ref")
        assert bool(sites.loc["T", "passed"])
        assert bool(sites.loc["F", "passed"]) is passed, if_unknown
        assert sites.loc["F", "check_max_drive_time_to_motorway_junction_min"] == check
        assert sites.loc["F", "check_min_labour_pool_within_30_min"] == check
        if if_unknown == "fail":
            assert sites.loc["F", "missed"].startswith(
                "Drive time to motorway junction: unknown, outside the road network (needs at most 15"
            )


def test_every_importer_declares_what_it_writes_and_its_criteria_parse() -> None:
    """The registry's declarations hold together: each kind written is built in or declared by an
    importer, each criterion needs only such kinds, and all of them read as one catalogue."""
    import yaml

    from sitematch import schema as s
    from sitematch.importers._registry import brought, discover, importer_kinds, parameters_brought
    from sitematch.layers.catalogue import parse_catalogue

    table = discover()
    assert {"osm", "detaljplan", "nvdb", "jarnvag", "ebh", "scb-grid", "deso", "capacity"} <= set(table)
    kinds = importer_kinds()
    known = set(s.LAYERS) | set(kinds)
    for name, cls in table.items():
        assert cls.writes and set(cls.writes) <= known, name
        for criterion, (needs, _spec) in cls.criteria.items():
            assert set(needs) <= known, (name, criterion)
    layers = {
        k: {"file": f"{k}.gpkg", "geometry": v.geometry_type, "columns": {c.name: c.dtype for c in v.columns}}
        for k, v in kinds.items()
    }
    layers.update({k: {"file": "region.gpkg"} for k in s.LAYERS})
    criteria = brought(known, set())
    text = yaml.safe_dump({"layers": layers, "parameters": parameters_brought(), "criteria": criteria})
    cat = parse_catalogue(text)
    assert len(criteria) == sum(len(c.criteria) for c in table.values()) == 14
    assert set(criteria) <= set(cat.registry.criteria)
