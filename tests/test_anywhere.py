"""sitematch runs from any folder: the bundled region ships inside the package; $SITEMATCH_LAYERS, a
config file or --layers choose another; the terminal table fits 80 columns."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from sitematch import settings
from sitematch.cli import main
from tests.conftest import tiny_layer_frames

ROOT = Path(__file__).resolve().parent.parent
LEAD = """\
name: Written by an adviser
requirements: {min_area_ha: 10, zoning: [J, Z]}
preferences:
  distance_to_motorway_junction_m: {weight: 2, full_at: 1000, zero_at: 10000}
  grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 100}
  distance_to_rail_m: {weight: 1, full_at: 500, zero_at: 8000}
  distance_to_port_m: {weight: 1, full_at: 10000, zero_at: 100000}
  labour_pool_population: {weight: 1, zero_at: 20000, full_at: 400000}
"""


@pytest.mark.slow
def test_the_built_wheel_matches_from_a_folder_outside_the_repository(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("sitematch-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # the dependencies come from the test environment; sitematch itself only from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        timeout=300,
    )
    work = tmp_path / "adviser"
    work.mkdir()
    (work / "lead.yaml").write_text(LEAD, encoding="utf-8")
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import sitematch, sitematch.settings as s; print(sitematch.__file__, s.layers_path())"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(site)) and "_region" in where
    archetypes = subprocess.run(  # the planner's sector archetypes ship too: the repository's scenarios/
        [str(python), "-c", "from sitematch.cli_planner import bundled_scenarios as b; "
         "print(*sorted(p.name for p in b().glob('*.yaml')))"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert archetypes == sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    swedish = subprocess.run(  # the compiled Swedish catalogue ships in the wheel
        [str(python), "-c", "from sitematch.i18n import translations as t, LOCALE_DIR as d; "
         "print(t('sv').gettext('Log in'), d.is_relative_to(__import__('sitematch').__path__[0]))"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert swedish == ["Logga", "in", "True"]
    res = subprocess.run(
        [str(python), "-m", "sitematch.cli", "match", "lead.yaml", "--no-map"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "80"},
    )
    assert res.returncode == 0, res.stderr
    assert "Written by an adviser:" in res.stdout and "sites meet every requirement" in res.stdout
    assert (work / "out" / "lead" / "ranking.csv").is_file()


def _region(folder: Path) -> Path:
    folder.mkdir()
    for kind, gdf in tiny_layer_frames().items():
        pyogrio.write_dataframe(gdf, folder / "region.gpkg", layer=kind, driver="GPKG")
    return folder


def test_env_var_and_config_file_choose_the_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    region = _region(tmp_path / "tiny")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    assert settings.layers_path() == settings.bundled_region()
    (tmp_path / "sitematch.toml").write_text('layers = "tiny"\nstore = "shared.gpkg"\n', encoding="utf-8")
    assert settings.layers_path() == region and settings.store_path() == str(tmp_path / "shared.gpkg")
    monkeypatch.setattr(settings, "default_layers", str(ROOT / "layers"))  # what $SITEMATCH_LAYERS sets
    assert settings.layers_path() == ROOT / "layers"
    (tmp_path / "sitematch.toml").write_text("layers = [", encoding="utf-8")
    monkeypatch.setattr(settings, "default_layers", None)
    res = CliRunner().invoke(main, ["layers", "list"])
    assert res.exit_code == 1 and "not a readable TOML config file" in res.output


def test_the_table_fits_80_columns_and_keeps_rank_and_score(tmp_path: Path) -> None:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD, encoding="utf-8")
    res = CliRunner(env={"COLUMNS": "80"}).invoke(
        main, ["match", str(lead), "--no-map", "--out", str(tmp_path / "out"), "--top", "5"]
    )
    assert res.exit_code == 0, res.output
    table = [line for line in res.output.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert table and max(len(line) for line in table) <= 80
    header = next(line for line in table if line.startswith("┃"))
    assert "rank" in header and "score" in header and "plot" in header
    assert all(len(line) <= 80 for line in res.output.splitlines())
    wide = CliRunner(env={"COLUMNS": "160"}).invoke(
        main, ["match", str(lead), "--no-map", "--out", str(tmp_path / "o2"), "--top", "5"]
    )
    wide_header = next(line for line in wide.output.splitlines() if line.startswith("┃"))
    assert wide_header.count("┃") > header.count("┃")  # more room, more columns
    assert "Why:" in res.output and "near miss" in res.output


def test_a_confidential_lead_is_written_under_its_reference_not_its_file_name(tmp_path: Path) -> None:
    lead = tmp_path / "northwind_gigafactory.yaml"
    lead.write_text(
        "name: Cathode plant\nlead: {reference: BS-2026-114, company: Northwind, confidential: true}\n"
        "requirements: {min_area_ha: 10}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(main, ["match", str(lead), "--no-map", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["lead-BS-2026-114"]
    assert "northwind" not in res.output.lower()
