"""The bundled region: built reproducibly, valid, honest about what it is."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from sitematch import schema as s
from sitematch.layers.build_demo import build_demo
from sitematch.layers.layerset import LayerSet

ROOT = Path(__file__).parent.parent
CURATED = ROOT / "layers" / "curated"
COMMITTED = ROOT / "layers" / "region.gpkg"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("demo") / "region.gpkg", curated_dir=CURATED)


@pytest.fixture(scope="module")
def layers(built: Path) -> LayerSet:
    return LayerSet.from_path(built)


def test_every_layer_kind_is_present_and_valid(layers: LayerSet) -> None:
    assert sorted(layers.kinds) == sorted(s.LAYERS)
    for kind in layers.kinds:
        assert layers[kind].crs.to_epsg() == 3006
        assert len(layers[kind]) > 0, kind


def test_every_row_says_where_it_comes_from(layers: LayerSet) -> None:
    for kind in layers.kinds:
        gdf = layers[kind]
        assert gdf[s.SOURCE].str.len().gt(0).all() and gdf[s.LICENCE].str.len().gt(0).all(), kind
    status = {
        "motorways": "generalised",
        "rail": "generalised",
        "motorway_junctions": "generalised",
        "freight_terminals": "generalised",
        "substations": "illustrative",
        "plots": "example",
    }
    for kind, word in status.items():
        assert layers[kind][s.SOURCE].str.contains(word).all(), kind
    assert layers["places"][s.LICENCE].str.contains("CC BY").all()


def test_members_table_is_data(layers: LayerSet) -> None:
    assert layers.members is not None and 50 <= len(layers.members) <= 60
    members = layers["municipalities"]
    assert 50 <= int(members[s.MEMBER].sum()) <= 60
    named = set(members.loc[members[s.MEMBER], s.MUNICIPALITY_NAME])
    assert {"Västerås", "Hallstahammar", "Sala", "Köping", "Arboga", "Kungsör", "Karlstad", "Gävle"} <= named
    assert not {"Surahammar", "Fagersta", "Norberg", "Skinnskatteberg"} & named


def test_plots_lie_in_their_member_municipality_with_true_areas(layers: LayerSet) -> None:
    plots, munis = layers["plots"], layers["municipalities"].set_index(s.MUNICIPALITY_CODE)
    assert set(plots[s.MUNICIPALITY_CODE]) <= set(munis.index[munis[s.MEMBER]])
    assert set(munis.index[munis[s.MEMBER]]) <= set(plots[s.MUNICIPALITY_CODE])  # every member has land
    boundary = gpd.GeoSeries(munis.loc[plots[s.MUNICIPALITY_CODE]].geometry.values, crs=plots.crs)
    assert boundary.contains(plots.geometry.reset_index(drop=True)).all()
    assert ((plots.geometry.area / 10_000 - plots[s.AREA_HA]).abs() <= plots[s.AREA_HA] * 0.01).all()
    assert plots[s.PLOT_ID].is_unique
    assert plots[s.BROWNFIELD].sum() >= 10 and plots.loc[plots[s.BROWNFIELD], s.MIFO_RISK_CLASS].between(1, 4).all()


def test_junctions_and_terminals_lie_on_their_network(layers: LayerSet) -> None:
    motorways = shapely.union_all(layers["motorways"].geometry.values)
    rail = shapely.union_all(layers["rail"].geometry.values)
    assert layers["motorway_junctions"].geometry.distance(motorways).max() < 1.0
    assert layers["freight_terminals"].geometry.distance(rail).max() < 1.0
    assert len(layers["motorway_junctions"]) >= 60


def test_build_is_reproducible_and_the_committed_file_is_current(built: Path, tmp_path: Path) -> None:
    again = build_demo(tmp_path / "again.gpkg", curated_dir=CURATED)
    for kind in s.LAYERS:
        a = pyogrio.read_dataframe(built, layer=kind)
        assert_geodataframe_equal(a, pyogrio.read_dataframe(again, layer=kind))
        (
            assert_geodataframe_equal(a, pyogrio.read_dataframe(COMMITTED, layer=kind), check_less_precise=True),
            ("layers/region.gpkg is out of date: run `make layers`"),
        )


def test_a_failed_build_leaves_no_file(tmp_path: Path) -> None:
    from sitematch.errors import LayerError

    with pytest.raises(LayerError, match="no curated tables"):
        build_demo(tmp_path / "region.gpkg", curated_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_line_across_a_lake_is_refused(tmp_path: Path) -> None:
    import shutil

    from sitematch.errors import LayerError

    curated = tmp_path / "curated"
    shutil.copytree(CURATED, curated)
    routes = (curated / "routes.csv").read_text(encoding="utf-8").splitlines()
    # the old E18: straight from Kristinehamn to Karlstad, 20 km across Vänern
    routes.append("motorways,E18,E18 straight across Vänern,Kristinehamn|Karlstad")
    (curated / "routes.csv").write_text("\n".join(routes) + "\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"E18 straight across Vänern crosses \d+\.\d km of water"):
        build_demo(tmp_path / "region.gpkg", curated_dir=curated)
    assert not (tmp_path / "region.gpkg").exists()
