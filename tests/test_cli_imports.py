"""A CLI match without map or PDF loads none of the heavy parts it does not use (issue 25: a fresh
process answers in about a second; every module loaded is import time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages (and sitematch modules) a match with --no-map --no-pdf must not import.
NOT_NEEDED = (
    "folium", "branca", "matplotlib", "playwright", "weasyprint", "dask", "distributed", "numba",
    "scipy", "fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg", "sitematch.service",
    "sitematch.planner", "sitematch.bench", "sitematch.cli_plots", "sitematch.cli_leads",
    "sitematch.cli_planner", "sitematch.export.map",
)  # fmt: skip

PROBE = """
import json, sys
from click.testing import CliRunner
from sitematch.cli import main
args = ["match", sys.argv[1], "--layers", sys.argv[2], "--no-map", "--no-pdf", "--out", sys.argv[3]]
result = CliRunner().invoke(main, args)
print(json.dumps({"code": result.exit_code, "output": result.output, "modules": sorted(sys.modules)}))
"""


def test_a_match_without_map_or_pdf_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SITEMATCH_LAYERS_CACHE": str(tmp_path / "cache")}
    scenario = ROOT / "scenarios" / "logistics_warehouse.yaml"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(scenario), str(ROOT / "layers"), str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600, check=True,
    )  # fmt: skip
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0, seen["output"]
    assert (tmp_path / "out" / "logistics_warehouse" / "dossier.html").is_file()  # --no-pdf keeps the dossier
    loaded = [m for m in seen["modules"] if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED)]
    assert loaded == []
    assert "geopandas" in seen["modules"] and "sitematch.export.tables" in seen["modules"]  # the probe did match
