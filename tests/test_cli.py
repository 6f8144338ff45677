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
    assert {p.name for p in folder.iterdir()} == {"ranking.csv", "ranking.gpkg", "dossier.html"}
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
