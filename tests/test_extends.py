"""A catalogue that extends another: a deployment adds and replaces layers without copying the bundled data.

The deployment's folder holds its own ``layers.yaml`` (``extends: bundled``), one new layer
(district heating pipes) and one replacement (its own grid capacity at one substation). The pipe
runs north–south 100 m east of the bundled plot 0114:P01's eastern edge, along its whole height,
so that plot is exactly 100 m from it; the substation sits on the plot's centre with 40 MW.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import yaml
from shapely import LineString

from sitematch.errors import CatalogueError
from sitematch.importers import import_files
from sitematch.layers.catalogue import read_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from sitematch.settings import bundled_region
from tests.test_importers import ebh_fixture

PLOT = "0114:P01"


@pytest.fixture(scope="module")
def bundled() -> LayerSet:
    return LayerSet.from_path(bundled_region())


def deployment(folder: Path, bundled: LayerSet) -> Path:
    folder.mkdir()
    plot = bundled["plots"].set_index("plot_id").geometry.loc[PLOT]
    _xmin, ymin, xmax, ymax = plot.bounds
    pipe = gpd.GeoDataFrame(
        {"network": ["Upplands Väsby fjärrvärme"], "source": ["example"], "licence": ["CC0"]},
        geometry=[LineString([(xmax + 100, ymin), (xmax + 100, ymax)])],
        crs=3006,
    )
    pyogrio.write_dataframe(pipe, folder / "heat.geojson", driver="GeoJSON")
    station = gpd.GeoDataFrame(
        {
            "name": ["Väsby N"],
            "available_capacity_mw": [40.0],
            "capacity_date": ["2026-06-01"],
            "source": ["Ellevio (example)"],
            "licence": ["CC0"],
        },
        geometry=[plot.centroid],
        crs=3006,
    )
    pyogrio.write_dataframe(station, folder / "capacity.gpkg", layer="substations")
    (folder / "layers.yaml").write_text(
        """\
name: Väsby deployment
extends: bundled
layers:
  district_heating:
    file: heat.geojson
    geometry: LineString
    columns: {network: str}
    source: "Mälarenergi (example)"
    licence: CC0
    date: "2026-05-01"
  substations: {file: capacity.gpkg, source: "Ellevio (example)", licence: CC0, date: "2026-06-01"}
criteria:
  distance_to_district_heating_m:
    measure: nearest
    layer: district_heating
    label: Distance to district heating
""",
        encoding="utf-8",
    )
    return folder


def test_a_region_extends_the_bundled_one_and_adds_a_layer(tmp_path: Path, bundled: LayerSet) -> None:
    region = deployment(tmp_path / "vasby", bundled)
    layers = LayerSet.from_path(region)
    assert set(layers.kinds) == set(bundled.kinds) | {"district_heating"}
    assert len(layers["plots"]) == len(bundled["plots"]) and len(layers["substations"]) == 1  # replaced
    assert layers.catalogue.extends == (str(bundled_region()),)
    profile = parse_profile(
        "name: Heat-hungry plant\nrequirements:\n"
        "  max_distance_to_district_heating_m: 150\n"
        "  max_distance_to_motorway_junction_m: 20000\n"
        "  min_grid_capacity_mw: 30\n",
        registry=layers.registry,
    )
    sites = match(profile, layers).sites.set_index("plot_id")
    assert sites.loc[PLOT, "distance_to_district_heating_m"] == pytest.approx(100.0)
    assert sites.loc[PLOT, "grid_capacity_mw"] == 40.0  # the deployment's substation, not the bundled ones
    # The bundled layers measure as they do in the bundled region itself.
    alone = match(parse_profile("name: t\nrequirements: {max_distance_to_motorway_junction_m: 20000}"), bundled)
    same = alone.sites.set_index("plot_id")["distance_to_motorway_junction_m"]
    assert sites["distance_to_motorway_junction_m"].equals(same.loc[sites.index])
    assert bool(sites.loc[PLOT, "passed"])
    assert (sites.loc[sites["passed"], "distance_to_district_heating_m"] <= 150).all()
    # The folder holds the deployment's own files, no copy of the bundled region's.
    assert sorted(p.name for p in region.iterdir()) == ["capacity.gpkg", "heat.geojson", "layers.yaml"]


def test_an_import_into_an_extending_region_writes_only_the_new_layers(tmp_path: Path, bundled: LayerSet) -> None:
    region = deployment(tmp_path / "vasby", bundled)
    report = import_files("ebh", [ebh_fixture(tmp_path / "ebh.geojson")], region)
    assert list(report.written) == ["contaminated_sites"]
    data = yaml.safe_load((region / "layers.yaml").read_text(encoding="utf-8"))
    assert data["extends"] == "bundled"
    assert list(data["layers"]) == ["district_heating", "substations", "contaminated_sites"]
    assert sorted(p.name for p in region.iterdir()) == [
        "capacity.gpkg",
        "contaminated_sites.gpkg",
        "heat.geojson",
        "layers.yaml",
    ]
    layers = LayerSet.from_path(region)
    assert {"plots", "ports", "district_heating", "contaminated_sites"} <= set(layers.kinds)
    assert "distance_to_contaminated_site_class_1_2_m" in layers.registry


def test_extends_a_folder_by_path_and_refuses_a_loop(tmp_path: Path, bundled: LayerSet) -> None:
    base = deployment(tmp_path / "vasby", bundled)
    child = tmp_path / "child"
    child.mkdir()
    (child / "layers.yaml").write_text("extends: ../vasby\n", encoding="utf-8")
    cat = read_catalogue(child)
    assert "district_heating" in cat.layers and cat.layers["district_heating"].file == base / "heat.geojson"
    assert cat.extends == (str(base), str(bundled_region()))
    (base / "layers.yaml").write_text("extends: ../child\nlayers: {}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="a loop"):
        read_catalogue(child)
    (child / "layers.yaml").write_text("extends: ../nowhere\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"line 1: 'extends': .*no such catalogue"):
        read_catalogue(child)


def test_the_built_in_kinds_are_a_catalogue_the_same_reader_reads() -> None:
    from importlib.resources import files

    from sitematch import schema as s

    cat = read_catalogue(Path(str(files("sitematch") / "kinds.yaml")))
    assert dict(cat.kinds) == s.LAYERS and not cat.layers
    ports = cat.kinds["ports"]
    assert ports.geometry_type == "Point"
    assert [(c.name, c.dtype, c.required) for c in ports.columns] == [
        ("name", "str", True),
        ("locode", "str", True),
        ("max_draught_m", "float", True),
        ("rail_connected", "bool", True),
        ("operator", "str", False),
    ]


def test_a_region_declares_a_kind_and_lists_its_columns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sitematch.cli import main

    region = tmp_path / "r"
    region.mkdir()
    schools = gpd.GeoDataFrame(
        {"name": ["Skolan"], "pupils": [300], "source": ["example"], "licence": ["CC0"]},
        geometry=[LineString([(600_000, 6_600_000), (600_100, 6_600_000)]).centroid],
        crs=3006,
    )
    pyogrio.write_dataframe(schools, region / "schools.gpkg", layer="schools")
    (region / "layers.yaml").write_text(
        "extends: bundled\nkinds:\n  schools:\n    geometry: Point\n    description: schools\n"
        "    columns: {name: str, pupils: {type: int, required: false, description: pupils enrolled}}\n"
        "layers:\n  schools: {file: schools.gpkg}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(main, ["layers", "list", "--columns", "--layers", str(region)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    assert "schools" in res.output and "pupils enrolled" in res.output and "pupils*" not in res.output
    assert "max_draught_m*" in res.output  # the bundled ports' columns, from the built-in kinds
    (region / "layers.yaml").write_text(
        "kinds:\n  schools: {geometry: Circle}\nlayers:\n  schools: {file: schools.gpkg}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"line 2: 'kinds.schools.geometry': unknown geometry 'Circle'"):
        read_catalogue(region)
