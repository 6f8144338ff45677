"""Tables and dossier: real files, read back."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from sitematch.export.dossier import write_dossier
from sitematch.export.tables import write_csv, write_gpkg
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile

PROFILE = """
name: Export test
lead: {reference: T-1, confidential: true}
parameters: {grid_connection_radius_m: 3000}
requirements: {min_area_ha: 20, min_grid_capacity_mw: 12}
preferences:
  distance_to_motorway_junction_m: {weight: 1, full_at: 1000, zero_at: 5000}
"""


def test_csv_lists_ranked_then_excluded_with_reasons(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    df = pd.read_csv(write_csv(result, tmp_path / "ranking.csv"), dtype={"municipality_code": str})
    assert df["plot_id"].tolist() == ["1980:A", "1980:C", "1980:B"]
    assert df["rank"].tolist()[:1] == [1]
    # C: 10 MW of 12 wanted = 17 % short, a near miss; B: 16 of 20 ha
    c = df.set_index("plot_id").loc["1980:C"]
    assert "10 MW, needs at least 12 MW (2 MW short)" in c["missed"] and bool(c["near_miss"])
    assert {"lon", "lat", "score", "distance_to_rail_m", "points_distance_to_motorway_junction_m"} <= set(df.columns)
    assert df["lat"].between(59, 60).all()


def test_gpkg_has_ranked_excluded_and_sources(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    path = write_gpkg(result, tmp_path / "ranking.gpkg")
    names = {row[0] for row in pyogrio.list_layers(path)}
    assert names == {"ranked", "excluded", "sources"}
    ranked = gpd.read_file(path, layer="ranked")
    assert ranked.crs.to_epsg() == 3006 and ranked["plot_id"].tolist() == ["1980:A"]
    sources = pyogrio.read_dataframe(path, layer="sources", read_geometry=False)
    assert set(sources["layer"]) >= {"plots", "motorway_junctions"}
    assert not list(tmp_path.glob(".ranking-*"))  # no temporary file left behind


def test_dossier_states_requirements_shortlist_near_misses_and_sources(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    html = write_dossier(result, tmp_path / "dossier.html", layers=tiny_layers).read_text(encoding="utf-8")
    assert "Export test" in html and "CONFIDENTIAL" in html
    assert "Area at least 20 ha" in html
    assert "#1 · Plot A" in html
    assert "Grid capacity available 10 MW, needs at least 12 MW" in html
    assert "example: test fixture" in html
    assert "<script" not in html
    # why few pass, the funnel, coordinates in both systems, a map per site and the overview
    assert "Why so few:" in html and "Sites left" in html
    assert "(SWEREF 99 TM)" in html and "° N" in html
    assert html.count("<svg") == 2  # one site on the shortlist, and the overview
    assert "greenfield" in html and "Tp A" in html  # the nearest junction, by name


def test_a_dossier_with_no_passing_site_says_what_to_do(tiny_layers: LayerSet, tmp_path: Path) -> None:
    near = match(parse_profile("name: t\nrequirements: {min_area_ha: 31}\n"), tiny_layers)  # C has 30 ha
    html = write_dossier(near, tmp_path / "a.html").read_text(encoding="utf-8")
    assert "No site meets every requirement." in html and "closest sites are listed below" in html
    assert "Area 30 ha, needs at least 31 ha" in html
    # nothing within 25 %: never a dead end — the closest excluded sites, with their distance to passing:
    # C 30 ha is 270/300 = 90 % short, A 25 ha 275/300 = 92 %, B 16 ha 284/300 = 95 %
    none = match(parse_profile("name: t\nrequirements: {min_area_ha: 300}\n"), tiny_layers)
    html = write_dossier(none, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "No site is that close:" in html
    rows = html[html.index("Short in all") :]
    assert rows.index("1980:C") < rows.index("1980:A") < rows.index("1980:B")
    assert [f">{p} %<" in rows for p in (90, 92, 95)] == [True, True, True]


def test_the_dossier_lists_what_to_verify(tiny_layers: LayerSet, tmp_path: Path) -> None:
    frames = {k: tiny_layers[k] for k in tiny_layers.kinds}
    frames["plots"] = frames["plots"].assign(price_sek_m2=[None, 300.0, 300.0, 300.0])
    result = match(parse_profile("name: t\nrequirements: {max_price_sek_m2: 500}\n"), LayerSet(frames))
    html = write_dossier(result, tmp_path / "d.html").read_text(encoding="utf-8")
    assert "To verify with the municipality" in html and "Price: unknown, to verify (needs at most 500 SEK/m²)" in html


def test_write_all_writes_each_format_and_refuses_unknown_ones(tiny_layers: LayerSet, tmp_path: Path) -> None:
    import pytest

    from sitematch.errors import SitematchError
    from sitematch.export import write_all

    result = match(parse_profile(PROFILE), tiny_layers)
    seen: list[str] = []
    written = write_all(result, tiny_layers, tmp_path / "out", ["csv", "gpkg", "dossier"], progress=seen.append)
    assert {p.name for p in written.values()} == {"ranking.csv", "ranking.gpkg", "dossier.html"} == set(seen)
    assert all(p.parent == tmp_path / "out" for p in written.values())
    with pytest.raises(SitematchError, match="unknown export format"):
        write_all(result, tiny_layers, tmp_path / "x", ["docx"])


def test_tables_carry_the_outcome_of_each_requirement(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    df = pd.read_csv(write_csv(result, tmp_path / "ranking.csv")).set_index("plot_id")
    assert df.loc["1980:B", "check_min_area_ha"] == "failed" and df.loc["1980:B", "shortfall_min_area_ha"] == 0.2
    assert df.loc["1980:A", "check_min_grid_capacity_mw"] == "passed"
    assert not any(c.startswith("why_") for c in df.columns)  # the words are in 'missed'


def test_csv_names_the_municipality_and_neutralises_formulas(tiny_layers: LayerSet, tmp_path: Path) -> None:
    frames = {k: tiny_layers[k] for k in tiny_layers.kinds}
    plots = frames["plots"].copy()
    plots.loc[0, "name"] = '=HYPERLINK("http://evil","click")'
    plots.loc[1, "name"] = "+46 8 123"
    plots.loc[2, "name"] = "@SUM(A1)"
    layers = LayerSet({**frames, "plots": plots})
    result = match(parse_profile(PROFILE), layers)
    df = pd.read_csv(write_csv(result, tmp_path / "ranking.csv")).set_index("plot_id")
    assert df.loc["1980:A", "municipality_name"] == "Västerås"
    assert df.loc["1980:A", "name"] == '\'=HYPERLINK("http://evil","click")'
    assert df.loc["1980:B", "name"] == "'+46 8 123" and df.loc["1980:C", "name"] == "'@SUM(A1)"
    assert df.loc["1980:A", "shortfall"] == 0  # numbers are not touched


def test_the_excel_dialect_opens_in_swedish_excel(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    path = write_csv(result, tmp_path / "ranking.csv", dialect="excel")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM tells Excel it is UTF-8 (å, ä, ö)
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("rank;plot_id;name;municipality_code;municipality_name;score")
    df = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig").set_index("plot_id")
    assert df.loc["1980:C", "shortfall"] == pytest.approx(1 - 10 / 12, abs=1e-5) and "Västerås" in set(
        df["municipality_name"]
    )


def test_write_all_says_when_it_cannot_write_and_leaves_no_stale_file(tiny_layers: LayerSet, tmp_path: Path) -> None:
    import pytest

    from sitematch.errors import SitematchError
    from sitematch.export import write_all

    result = match(parse_profile(PROFILE), tiny_layers)
    with pytest.raises(SitematchError) as err:
        write_all(result, tiny_layers, Path("/proc/sitematch-cannot-write-here"), ["csv"])
    assert err.value.option == "out" and "cannot write the results" in str(err.value)
    folder = tmp_path / "lead"
    write_all(result, tiny_layers, folder, ["csv", "dossier"])
    write_all(result, tiny_layers, folder, ["csv"])  # e.g. a second run without the dossier
    assert sorted(p.name for p in folder.iterdir()) == ["ranking.csv"]
