"""The sitematch command: thin over the library, clean errors, meaningful exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from sitematch.cli import main
from tests.conftest import tiny_layer_frames

PROFILE = """\
name: CLI test
parameters: {grid_connection_radius_m: 3000}
requirements: {min_area_ha: 20}
preferences:
  grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 50}
"""


@pytest.fixture
def region_gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "region.gpkg"
    for kind, gdf in tiny_layer_frames().items():
        pyogrio.write_dataframe(gdf, path, layer=kind, driver="GPKG")
    return path


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    p = tmp_path / "cli_test.yaml"
    p.write_text(PROFILE, encoding="utf-8")
    return p


def test_match_writes_tables_and_dossier_and_prints_the_top(
    region_gpkg: Path, profile_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["match", str(profile_file), "--layers", str(region_gpkg), "--out", str(out), "--no-map", "--top", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "CLI test: 2 of 3 sites meet every requirement" in res.output
    assert "1980:A" in res.output
    assert "1 excluded (1 near misses), 1 outside the region" in res.output
    folder = out / "cli_test"
    from sitematch.export.pdf import pdf_available

    expected = {"ranking.csv", "funnel.csv", "ranking.gpkg", "dossier.html"} | (
        {"dossier.pdf"} if pdf_available() else set()
    )
    assert {p.name for p in folder.iterdir()} == expected
    assert pd.read_csv(folder / "ranking.csv")["plot_id"].tolist() == ["1980:A", "1980:C", "1980:B"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sitematch.cli", *args], capture_output=True, text=True, timeout=120)


def test_bad_profile_exits_1_with_a_message_and_no_traceback(region_gpkg: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrequirements:\n  max_distance_to_rail_km: 2\n", encoding="utf-8")
    res = _run("match", str(bad), "--layers", str(region_gpkg), "--out", str(tmp_path / "o"), "--no-map")
    assert res.returncode == 1
    assert "bad.yaml, line 3: 'requirements.max_distance_to_rail_km'" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "o").exists()  # nothing written for a refused profile


def test_missing_layers_exit_1(profile_file: Path, tmp_path: Path) -> None:
    res = _run("match", str(profile_file), "--layers", str(tmp_path / "nowhere"), "--no-map")
    assert res.returncode == 1 and "no such layer file or folder" in res.stderr
    assert "Traceback" not in res.stderr


def test_not_a_geopackage_exits_1(profile_file: Path, tmp_path: Path) -> None:
    fake = tmp_path / "region.gpkg"
    fake.write_text("this is not a GeoPackage", encoding="utf-8")
    res = _run("match", str(profile_file), "--layers", str(fake), "--no-map")
    assert res.returncode == 1 and "not a readable GeoPackage" in res.stderr
    assert "Traceback" not in res.stderr


def test_usage_error_exits_2() -> None:
    res = CliRunner().invoke(main, ["match"])
    assert res.exit_code == 2


def test_help_shows_an_example() -> None:
    res = CliRunner().invoke(main, ["match", "--help"])
    assert res.exit_code == 0 and "sitematch match scenarios/battery_plant.yaml" in res.output


def test_layers_list(region_gpkg: Path) -> None:
    res = CliRunner().invoke(main, ["layers", "list", "--layers", str(region_gpkg)])
    assert res.exit_code == 0, res.output
    assert "motorway_junctions" in res.output and "example: test fixture" in res.output


def test_an_error_names_the_flag_that_fixes_it(profile_file: Path, tmp_path: Path) -> None:
    res = _run("match", str(profile_file), "--layers", str(tmp_path / "nowhere"), "--no-map")
    assert "(use --layers)" in res.stderr


def test_profile_schema_and_check(tmp_path: Path) -> None:
    import json

    res = CliRunner().invoke(main, ["profile", "schema"])
    assert res.exit_code == 0, res.output
    schema = json.loads(res.output)
    assert "max_distance_to_port_m" in schema["properties"]["requirements"]["properties"]
    res = CliRunner().invoke(main, ["profile", "check", "scenarios/battery_plant.yaml"])
    assert res.exit_code == 0 and "valid — Battery-component plant" in res.output
    assert "requires Area at least 25 ha" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrequirements: {min_area: 3}\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["profile", "check", str(bad)])
    assert res.exit_code == 1 and "Did you mean 'min_area_ha'" in res.output


def test_criteria_lists_the_catalogues_own(tmp_path: Path) -> None:
    (tmp_path / "layers.yaml").write_text(
        "layers:\n  schools: {file: s.geojson, geometry: Point, columns: {name: str}}\n"
        "criteria:\n  distance_to_school_m: {measure: nearest, layer: schools}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(main, ["criteria", "--layers", str(tmp_path)], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "distance_to_school_m" in res.output and "nearest feature of 'schools'" in res.output
    assert "distance_to_port_m" in res.output  # built-in ones too
    res = CliRunner().invoke(main, ["profile", "schema", "--layers", str(tmp_path)])
    assert "max_distance_to_school_m" in res.output


def test_match_reads_a_json_profile(region_gpkg: Path, tmp_path: Path) -> None:
    lead = tmp_path / "web_lead.json"
    lead.write_text('{"name": "From a form", "requirements": {"min_area_ha": 20}}', encoding="utf-8")
    res = CliRunner().invoke(
        main, ["match", str(lead), "--layers", str(region_gpkg), "--out", str(tmp_path / "o"), "--no-map"]
    )
    assert res.exit_code == 0, res.output
    assert "From a form: 2 of 3 sites meet every requirement" in res.output
    assert (tmp_path / "o" / "web_lead" / "ranking.csv").is_file()
