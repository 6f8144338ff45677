"""One new file is a new importer (or measure): written outside sitematch, named by its dotted path.

A temporary package ``sitematch_ext_heat`` on ``sys.path`` holds ``heat.py``: an importer of a
district heating network (a CSV of pipes) that declares the layer kind it writes and the criterion
it brings, and ``shape.py``: a measure of a plot's compactness. No file of sitematch is touched:
``sitematch layers import sitematch_ext_heat.heat`` runs the importer, ``sitematch layers list
--columns`` shows the kind's columns, and a profile's requirement on the criterion ranks the plots.

The tiny region (conftest.py: E0 = 580 000, N0 = 6 610 000; A E0…+500 × N0…+500, B E0+3000…3400 ×
N0…+400, C E0−5000…−4500 × N0…+600, D E0…+500 × N0+30 000…+30 500). Pipes: "Centrum" along
x = E0+1000 from N0−2000 to N0+2000; "Väst" along y = N0+300 from E0−4000 to E0−3000.
Distances by hand: A 500 (E0+500 → E0+1000), B 2000 (E0+3000 → E0+1000), C 500 (E0−4500 → E0−4000),
D √(500² + 28 000²) (its corner (E0+500, N0+30 000) to Centrum's end (E0+1000, N0+2000)).
"""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from sitematch.cli import main
from sitematch.importers._registry import IMPORTERS
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import E0, N0, tiny_plots

HEAT = '''
"""District heating pipes from a CSV (network;x1;y1;x2;y2;spare_mw, SWEREF 99 TM)."""

import geopandas as gpd
import pandas as pd
import shapely

from sitematch.importers import ImportedLayer, Importer


class HeatImporter(Importer):
    name = "district-heating"
    title = "District heating networks (CSV of pipes)"
    source = "Mälarenergi, fjärrvärmenät (example)"
    licence = "CC0"
    suffixes = (".csv",)
    writes = ("district_heating",)
    kinds = """
district_heating:
  geometry: LineString
  description: district heating pipes
  columns:
    network: {type: str, description: "the network's name"}
    spare_mw: {type: float, required: false, description: "heat the network can still deliver, MW"}
"""
    criteria = {
        "distance_to_district_heating_m": (
            ("district_heating",),
            {"measure": "nearest", "layer": "district_heating", "label": "Distance to district heating"},
        )
    }

    def read(self, files, out):
        rows = pd.concat([pd.read_csv(f, sep=";") for f in files], ignore_index=True)
        self.report.read["pipes"] = len(rows)
        lines = shapely.linestrings(
            [[(r.x1, r.y1), (r.x2, r.y2)] for r in rows.itertuples()]
        )
        frame = gpd.GeoDataFrame(
            {"network": rows["network"], "spare_mw": rows["spare_mw"]}, geometry=lines, crs=3006
        )
        source, licence, date = self.provenance("2026-03-01", "the CSV's export date")
        return [ImportedLayer("district_heating", self.to_working(frame, "pipes"), source, licence, date)]
'''

SHAPE = '''
"""A plot's compactness: 4π·area / perimeter² (1 for a circle, π/4 for a square)."""

from dataclasses import dataclass

import numpy as np
import shapely

from sitematch.measures import Measure, Measured


@dataclass(frozen=True)
class Compactness(Measure):
    name = "compactness"
    keys = ()

    def compute(self, sites, ctx, *, max_distance_m=None):
        g = sites.geometry.to_numpy()
        return Measured(4 * np.pi * shapely.area(g) / shapely.length(g) ** 2)

    @classmethod
    def from_spec(cls, spec, path, fail, parameters=()):
        return cls()

    def describe(self):
        return "4π·area / perimeter² of the plot"
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "ext"
    (root / "sitematch_ext_heat").mkdir(parents=True)
    (root / "sitematch_ext_heat" / "__init__.py").write_text("", encoding="utf-8")
    (root / "sitematch_ext_heat" / "heat.py").write_text(textwrap.dedent(HEAT), encoding="utf-8")
    (root / "sitematch_ext_heat" / "shape.py").write_text(textwrap.dedent(SHAPE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    yield root
    IMPORTERS.pop("district-heating", None)
    for name in [m for m in sys.modules if m.startswith("sitematch_ext_heat")]:
        del sys.modules[name]


@pytest.fixture
def region(tmp_path: Path) -> Path:
    out = tmp_path / "region"
    out.mkdir()
    pyogrio.write_dataframe(tiny_plots(), out / "plots.gpkg", layer="plots")
    (out / "layers.yaml").write_text("name: Testregion\nlayers:\n  plots: {file: plots.gpkg}\n", encoding="utf-8")
    return out


def _pipes(path: Path) -> Path:
    path.write_text(
        "network;x1;y1;x2;y2;spare_mw\n"
        f"Centrum;{E0 + 1000};{N0 - 2000};{E0 + 1000};{N0 + 2000};12.5\n"
        f"Väst;{E0 - 4000};{N0 + 300};{E0 - 3000};{N0 + 300};\n",
        encoding="utf-8",
    )
    return path


def test_an_importer_in_one_file_outside_the_package(package: Path, region: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(main, ["layers", "import", "--help"])
    assert "district-heating" not in before.output and "osm" in before.output  # help: the registry's sources
    done = runner.invoke(
        main, ["layers", "import", "sitematch_ext_heat.heat", str(_pipes(tmp_path / "pipes.csv")), "--out", str(region)]
    )
    assert done.exit_code == 0, done.output
    assert "wrote 2 row(s) to district_heating" in done.output
    assert "criteria added to the catalogue: distance_to_district_heating_m" in done.output
    assert "district_heating dated 2026-03-01, from the CSV's export date" in done.output

    listed = runner.invoke(main, ["layers", "list", "--columns", "--layers", str(region)], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    text = listed.output
    assert "district_heating" in text and "network*" in text and "spare_mw" in text and "spare_mw*" not in text
    assert max(len(line) for line in text.splitlines()) <= 80

    layers = LayerSet.from_path(region)
    profile = parse_profile(
        "name: Heat-hungry plant\nrequirements:\n  max_distance_to_district_heating_m: 600\n",
        registry=layers.registry,
    )
    result = match(profile, layers)
    sites = result.sites.set_index("local_ref")
    measured = sites["distance_to_district_heating_m"]
    assert measured.loc[["A", "B", "C"]].tolist() == [500.0, 2000.0, 500.0]
    assert measured.loc["D"] == pytest.approx(math.hypot(500, 28_000))
    assert sorted(result.ranked["local_ref"]) == ["A", "C"]
    assert not sites.loc["B", "passed"]


def test_a_measure_named_by_dotted_path(package: Path, region: Path) -> None:
    with open(region / "layers.yaml", "a", encoding="utf-8") as f:
        f.write(
            "criteria:\n  plot_compactness_ratio:\n    measure: sitematch_ext_heat.shape\n"
            "    unit: ratio\n    label: Compactness\n"
        )
    layers = LayerSet.from_path(region)
    profile = parse_profile("name: t\nrequirements:\n  min_plot_compactness_ratio: 0.78\n", registry=layers.registry)
    sites = match(profile, layers).sites.set_index("local_ref")
    # A and D are squares (π/4 ≈ 0.785); B 400 × 400 too; C is 500 × 600: 4π·300 000 / 2200² ≈ 0.779.
    assert sites.loc["A", "plot_compactness_ratio"] == pytest.approx(math.pi / 4)
    assert sites.loc["C", "plot_compactness_ratio"] == pytest.approx(4 * math.pi * 300_000 / 2200**2)
    assert sites["passed"].to_dict() == {"A": True, "B": True, "C": False, "D": True}


def test_a_dotted_path_that_names_nothing_is_a_clear_error(package: Path, region: Path) -> None:
    result = CliRunner().invoke(main, ["layers", "import", "sitematch_ext_heat.nothing", "x.csv", "--out", str(region)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot import an importer 'sitematch_ext_heat.nothing'" in " ".join(result.output.split())
