"""A region's catalogue: new layer kinds and criteria on them with no code change, and clear errors.

The fixture region is the tiny one of conftest.py, written to files, plus two layers only the
catalogue knows (coordinates EPSG:3006, E0 = 580 000, N0 = 6 610 000):

- ``district_heating`` (LineString, written in EPSG:3011): a pipe along E = E0+1000, N0-5 km … N0+5 km.
  Plot A (E0…E0+500) is 500 m from it, B (E0+3000…) 2000 m, C (…E0-4500) 5500 m.
- ``flood_zones`` (Polygon): E0+3200…E0+3600 × N0-100…N0+1000, covering half of plot B
  (200 m × 400 m of its 400 m × 400 m), none of A or C.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely import LineString, box

from sitematch.errors import CatalogueError, ProfileError
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import E0, N0, tiny_layer_frames

CATALOGUE = """\
name: Test region with district heating
layers:
  municipalities: {file: region.gpkg}
  plots: {file: region.gpkg}
  motorways: {file: region.gpkg}
  motorway_junctions: {file: region.gpkg}
  district_heating:
    file: heat.geojson
    geometry: LineString
    columns:
      network: str
      operator: {type: str, required: false}
    source: "example: district heating network (test fixture)"
    licence: CC0
    date: 2026-01-15
  flood_zones:
    file: flood.gpkg
    layer: zones
    geometry: Polygon
    columns: {return_period_years: int}
    source: "example: flood zones (test fixture)"
    licence: CC0
parameters:
  heat_radius_m: {default: 3000, label: Heat connection radius}
criteria:
  distance_to_district_heating_m:
    measure: nearest
    layer: district_heating
    name_column: network
    names_as: nearest_heat_network
    label: Distance to district heating
  flood_zone_share:
    measure: overlay
    layer: flood_zones
    how: share
    where: "return_period_years <= 100"
    label: Share in a 100-year flood zone
  heat_networks_within_radius_count:
    measure: aggregate
    layer: district_heating
    how: count
    radius_parameter: heat_radius_m
    label: District heating networks nearby
"""


@pytest.fixture
def region(tmp_path: Path) -> Path:
    frames = tiny_layer_frames()
    for kind in ("municipalities", "plots", "motorways", "motorway_junctions"):
        pyogrio.write_dataframe(frames[kind], tmp_path / "region.gpkg", layer=kind, driver="GPKG")
    heat = gpd.GeoDataFrame(
        {"network": ["Fjärrvärme Öst"]},  # no source column: the catalogue's fills it
        geometry=[LineString([(E0 + 1000, N0 - 5000), (E0 + 1000, N0 + 5000)])],
        crs="EPSG:3006",
    ).to_crs("EPSG:3011")
    pyogrio.write_dataframe(heat, tmp_path / "heat.geojson", driver="GeoJSON")
    zones = gpd.GeoDataFrame(
        {"return_period_years": [100, 1000]},
        geometry=[box(E0 + 3200, N0 - 100, E0 + 3600, N0 + 1000), box(E0 - 6000, N0, E0 - 4000, N0 + 600)],
        crs="EPSG:3006",
    )
    pyogrio.write_dataframe(zones, tmp_path / "flood.gpkg", layer="zones", driver="GPKG")
    (tmp_path / "layers.yaml").write_text(CATALOGUE, encoding="utf-8")
    return tmp_path


def test_a_new_layer_kind_and_criterion_only_through_the_catalogue(region: Path) -> None:
    layers = LayerSet.from_path(region)
    assert set(layers.kinds) >= {"district_heating", "flood_zones"}
    assert layers["district_heating"].crs.to_epsg() == 3006
    assert layers["district_heating"]["source"].tolist() == ["example: district heating network (test fixture)"]
    profile = parse_profile(
        "name: Heat-hungry lead\n"
        "requirements:\n"
        "  max_distance_to_district_heating_m: 2000\n"
        "  max_flood_zone_share: 0.6\n"
        "preferences:\n"
        "  distance_to_district_heating_m: {weight: 1, full_at: 0, zero_at: 4000}\n",
        registry=layers.registry,
    )
    result = match(profile, layers)
    ranked = result.ranked.set_index("plot_id")
    assert ranked.index.tolist() == ["1980:A", "1980:B"]
    assert ranked["distance_to_district_heating_m"].tolist() == pytest.approx([500.0, 2000.0], abs=1e-6)
    assert ranked["flood_zone_share"].tolist() == pytest.approx([0.0, 0.5])
    assert ranked["score"].tolist() == pytest.approx([100 * (1 - 500 / 4000), 100 * (1 - 2000 / 4000)])
    assert ranked["nearest_heat_network"].tolist() == ["Fjärrvärme Öst", "Fjärrvärme Öst"]
    # the 1000-year zone over C does not count (where: return_period_years <= 100)
    c = result.excluded.set_index("plot_id").loc["1980:C"]
    assert c["flood_zone_share"] == 0.0
    assert c["missed"] == "Distance to district heating 5.5 km, needs at most 2.0 km (3.5 km over)"
    assert c["check_max_distance_to_district_heating_m"] == "failed" and c["check_max_flood_zone_share"] == "passed"
    assert result.breakdown("1980:A")[0].label == "Distance to district heating"
    # the count within the catalogue's own parameter: one network within 3 km of A and B, none of C
    counts = match(
        parse_profile(
            "name: t\npreferences: {heat_networks_within_radius_count: {weight: 1, zero_at: 0, full_at: 1}}",
            registry=layers.registry,
        ),
        layers,
    ).sites.set_index("plot_id")["heat_networks_within_radius_count"]
    assert counts.to_dict() == {"1980:A": 1.0, "1980:B": 1.0, "1980:C": 0.0}


def test_an_overlay_requirement_gives_a_near_miss_with_its_shortfall(region: Path) -> None:
    layers = LayerSet.from_path(region)
    profile = parse_profile("name: Dry feet\nrequirements: {max_flood_zone_share: 0.4}", registry=layers.registry)
    b = match(profile, layers).excluded.set_index("plot_id").loc["1980:B"]
    assert b["shortfall"] == pytest.approx(0.25) and bool(b["near_miss"])
    assert b["missed"] == "Share in a 100-year flood zone 0.5 share, needs at most 0.4 share (0.1 share over)"


def test_the_catalogue_is_shown_in_provenance_and_the_fingerprint(region: Path) -> None:
    layers = LayerSet.from_path(region)
    prov = layers.provenance().set_index("layer")
    assert prov.loc["district_heating", "date"] == "2026-01-15"
    assert len(layers.fingerprint()) == 16
    (region / "layers.yaml").write_text(
        CATALOGUE.replace("heat_radius_m: {default: 3000", "heat_radius_m: {default: 4000")
    )
    assert LayerSet.from_path(region).fingerprint() != layers.fingerprint()


def test_a_profile_using_a_catalogue_criterion_needs_that_catalogue(region: Path) -> None:
    text = "name: t\nrequirements: {max_distance_to_district_heating_m: 2000}\n"
    with pytest.raises(ProfileError, match="unknown key"):
        parse_profile(text, where="lead.yaml")  # the built-in criteria do not know it
    profile = parse_profile(text, registry=LayerSet.from_path(region).registry)
    with pytest.raises(ProfileError, match=r"does not declare; add it to the region's layers\.yaml"):
        match(profile, LayerSet(tiny_layer_frames()))


def test_a_layer_file_the_catalogue_names_must_exist(region: Path) -> None:
    (region / "heat.geojson").unlink()
    with pytest.raises(Exception, match=r"heat\.geojson"):
        LayerSet.from_path(region)


BASE = "layers:\n  schools: {file: s.geojson, geometry: Point, columns: {name: str, pupils: int}}\ncriteria:\n"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            BASE + "  distance_to_school_m: {measure: closest, layer: schools}\n",
            4,
            "unknown measure 'closest'",
        ),
        (BASE + "  distance_to_school_m: {measure: nearest, layer: school}\n", 4, "no layer 'school'"),
        (BASE + "  distance_to_school_m: {measure: nearest, layr: schools}\n", 4, "Did you mean 'layer'"),
        (BASE + "  school_distance: {measure: nearest, layer: schools}\n", 4, "unit in its name"),
        (
            BASE + "  pupils_count: {measure: aggregate, layer: schools, how: sum, radius_parameter: r_m}\n",
            4,
            "missing 'column'",
        ),
        (
            BASE + "  pupils_count: {measure: aggregate, layer: schools, how: count, radius_parameter: r_m}\n",
            4,
            "no parameter 'r_m' is declared",
        ),
        (
            BASE + "  school_share: {measure: overlay, layer: schools, how: share}\n",
            4,
            "needs a polygon layer",
        ),
        (
            BASE + "  distance_to_school_m: {measure: nearest, layer: schools, where: 'pupils >= big'}\n",
            4,
            "neither a number",
        ),
        (
            BASE + "  distance_to_school_m: {measure: nearest, layer: schools, where: 'size > 3'}\n",
            4,
            "has no column 'size'",
        ),
        (BASE + "  distance_to_port_m: {measure: nearest, layer: schools}\n", 4, "already declared"),
        ("layers:\n  schools: {file: s.geojson}\n", 2, "needs 'geometry'"),
        ("layers:\n  schools: {file: s.geojson, geometry: Circle}\n", 2, "unknown geometry 'Circle'"),
        ("layers:\n  schools: {file: s.geojson, geometry: Point, colums: {}}\n", 2, "Did you mean 'columns'"),
        ("layers:\n  rail: {file: r.gpkg, geometry: Point}\n", 2, "'rail' layers hold LineStrings"),
        ("layer:\n  rail: {file: r.gpkg}\n", 1, "Did you mean 'layers'"),
        ("layers: {}\n", 1, "declare at least one layer"),
        ("layers:\n  rail: {file: r.gpkg}\nparameters:\n  radius: {default: 5}\n", 4, "put the unit in the name"),
        ("layers:\n  rail: {file: r.gpkg}\nparameters:\n  r_m: {default: .nan}\n", 4, "expected a finite number"),
        ("layers:\n  rail: {layer: rail}\n", 2, "missing 'file'"),
        ("layers:\n  rail: {file: r.gpkg, description: [a]}\n", 2, "expected text"),
        (
            BASE + "  pupils_sum_count: {measure: aggregate, layer: schools, how: sum, column: name, radius_parameter: "
            "labour_pool_radius_m}\n",
            4,
            "'name' holds str values; this needs float or int",
        ),
        (BASE + "  distance_to_school_m: {measure: nearest, layer: schools, kind: flag}\n", 4, "kind must be numeric"),
        (
            BASE + "  distance_to_school_m: {measure: nearest, layer: schools, where: 'name == true'}\n",
            4,
            "with a bool",
        ),
        (
            BASE + "  distance_to_school_m: {measure: nearest, layer: schools, names_as: municipality_code, "
            "name_column: name}\n",
            4,
            "already use",
        ),
        (BASE + "  rank: {measure: nearest, layer: schools, kind: numeric, unit: m}\n", 4, "already use"),
        (BASE + "  check_school_m: {measure: nearest, layer: schools}\n", 4, "already use"),
    ],
)
def test_bad_catalogues_name_the_line_and_key(text: str, line: int, needle: str) -> None:
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(text, where="layers.yaml")
    assert str(err.value).startswith(f"layers.yaml, line {line}")
    assert needle in str(err.value)
