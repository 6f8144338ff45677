"""Partitioned GeoParquet plots and the match on a two-worker Dask LocalCluster reading them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from sitematch import settings
from sitematch.bench.dask_scaling import FULL_MEASURE_PROFILE, write_layers
from sitematch.bench.synthetic import synthetic_layers
from sitematch.cli import main
from sitematch.errors import LayerError
from sitematch.funnel import funnel
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.partition import read_manifest, read_partition, read_partitioned, write_partitioned
from sitematch.profile import parse_profile
from sitematch.result import MatchResult

PROFILE = """
name: Dask test
requirements: {min_area_ha: 5, zoning: [J, Z], max_distance_to_motorway_junction_m: 40000}
preferences:
  distance_to_motorway_junction_m: {weight: 2, full_at: 2000, zero_at: 40000}
  distance_to_rail_m: {weight: 1, full_at: 500, zero_at: 30000}
  labour_pool_population: {weight: 1, zero_at: 10000, full_at: 500000}
"""

N_SITES = 6500  # above settings.staged_above: the staged plan (screens, top-K cut) applies


# -- the export ---------------------------------------------------------------------------------


def test_partitions_are_sorted_and_carry_their_metadata(tmp_path: Path) -> None:
    plots = synthetic_layers(2000, seed=5)["plots"]
    folder = write_partitioned(plots, tmp_path / "plots.parquet", 4)
    manifest = read_manifest(folder)
    assert [p.path.name for p in manifest.parts] == [f"part-0000{i}.parquet" for i in range(4)]
    assert manifest.rows == 2000 and manifest.crs == "EPSG:3006"
    assert dict(manifest.municipality_counts()) == plots["municipality_code"].value_counts().to_dict()
    for part in manifest.parts:
        meta = json.loads(pq.read_schema(part.path).metadata[b"sitematch"])
        frame = read_partition(part.path)
        assert meta["rows"] == part.rows == len(frame) == 500
        assert meta["bbox"] == pytest.approx(list(frame.total_bounds))
        assert list(part.bbox) == pytest.approx(list(frame.total_bounds))
        assert frame.crs.to_epsg() == 3006
    # spatially sorted: the partitions' boxes cover far less than four copies of the whole extent
    whole = plots.total_bounds
    area = sum((p.bbox[2] - p.bbox[0]) * (p.bbox[3] - p.bbox[1]) for p in manifest.parts)
    assert area < 2 * (whole[2] - whole[0]) * (whole[3] - whole[1])
    back = read_partitioned(folder)
    assert sorted(back["plot_id"]) == sorted(plots["plot_id"])
    assert list(back.columns) == list(plots.columns)


def test_a_failed_write_leaves_nothing_and_an_overwrite_keeps_the_old_folder(
    tmp_path: Path, tiny_layers: LayerSet
) -> None:
    plots = tiny_layers["plots"]
    bad = plots.assign(unwritable=[object() for _ in range(len(plots))])  # parquet cannot hold it
    with pytest.raises(Exception, match="object"):
        write_partitioned(bad, tmp_path / "plots.parquet", 2)
    assert list(tmp_path.iterdir()) == []  # no folder, no half-written temporary folder
    folder = write_partitioned(plots, tmp_path / "plots.parquet", 2)
    before = sorted(f.name for f in folder.iterdir())
    with pytest.raises(Exception, match="object"):
        write_partitioned(bad, folder, 3, overwrite=True)
    assert sorted(f.name for f in folder.iterdir()) == before and [f.name for f in tmp_path.iterdir()] == [folder.name]
    write_partitioned(plots, folder, 3, overwrite=True)
    assert len(read_manifest(folder).parts) == 3 and [f.name for f in tmp_path.iterdir()] == [folder.name]


def test_the_export_refuses_a_foreign_crs_and_any_other_folder(tmp_path: Path, tiny_layers: LayerSet) -> None:
    plots = tiny_layers["plots"]
    with pytest.raises(LayerError, match="EPSG:3006"):
        write_partitioned(plots.to_crs(3011), tmp_path / "a.parquet")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(LayerError, match="already exists"):
        write_partitioned(plots, other, overwrite=True)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(LayerError, match="not a partitioned plots folder"):
        read_manifest(other)


# -- the command line ---------------------------------------------------------------------------


def test_cli_partitions_a_region_and_matches_it_in_one_process(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    profile = Path(__file__).parents[1] / "scenarios" / "battery_plant.yaml"
    run = CliRunner().invoke
    res = run(main, ["plots", "partition", "plots.parquet", "--partitions", "3"])
    assert res.exit_code == 0, res.output
    assert "in 3 partitions" in res.output
    res = run(main, ["plots", "partition", "plots.parquet"])
    assert res.exit_code == 1 and "already exists" in res.output and "Traceback" not in res.output
    res = run(main, ["match", str(profile), "--plots", "plots.parquet", "--no-map", "--out", "a", "--top", "3"])
    assert res.exit_code == 0, res.output
    res_region = run(main, ["match", str(profile), "--no-map", "--out", "b", "--top", "3"])
    first = lambda text: [line for line in text.splitlines() if "meet every requirement" in line]  # noqa: E731
    assert first(res.output) == first(res_region.output) != []
    ranking = pd.read_csv(next(Path("a").glob("*/ranking.csv")))
    assert ranking["plot_id"].tolist() == pd.read_csv(next(Path("b").glob("*/ranking.csv")))["plot_id"].tolist()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--plots", "missing.parquet", "--workers", "2"], "no such folder"),
        (["--plots", "foreign"], "not a partitioned plots folder"),
        (["--plots", "broken.parquet"], "cannot read the partition"),
        (["--plots", "plots.parquet", "--store", "x.gpkg"], "not both"),
    ],
)
def test_cli_says_what_is_wrong_with_a_plots_folder(
    tmp_path: Path, monkeypatch, tiny_layers: LayerSet, args: list[str], words: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("foreign").mkdir()
    write_partitioned(tiny_layers["plots"], Path("plots.parquet"), 2)
    broken = write_partitioned(tiny_layers["plots"], Path("broken.parquet"), 2)
    (broken / "part-00001.parquet").write_bytes(b"not parquet at all")
    profile = Path(__file__).parents[1] / "scenarios" / "battery_plant.yaml"
    res = CliRunner().invoke(main, ["match", str(profile), "--no-map", *args])
    assert res.exit_code == 1, res.output
    assert words in res.output and "Traceback" not in res.output


# -- the same answer on a two-worker cluster ----------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as lc,
        Client(lc) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LayerSet, Path, Path]]:
    work = tmp_path_factory.mktemp("national")
    layers = synthetic_layers(N_SITES, seed=3)
    previous = settings.screen_cache_dir
    settings.screen_cache_dir = str(work / "screens")  # built once here, memory-mapped by the workers
    yield layers, write_layers(layers, work / "region.gpkg"), write_partitioned(layers["plots"], work / "p.parquet", 4)
    settings.screen_cache_dir = previous


def _ranked(result: MatchResult) -> pd.DataFrame:
    r = result.ranked[result.ranked["rank"].notna()]
    return pd.DataFrame(r[["plot_id", "rank", "score"]]).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize(("text", "exact_top"), [(PROFILE, None), (PROFILE, 40), (FULL_MEASURE_PROFILE, 60)])
def test_dask_reading_partitions_gives_the_ranking_of_one_process(
    cluster: object, national: tuple[LayerSet, Path, Path], monkeypatch, text: str, exact_top: int | None
) -> None:
    from sitematch.distributed import match_distributed

    layers, layers_path, plots_path = national
    if exact_top is not None:
        monkeypatch.setattr(settings, "exact_top", exact_top)
    profile = parse_profile(text)
    single = match(profile, layers)
    dist = match_distributed(profile, plots_path, layers_path, client=cluster)
    assert single.run.staged and dist.run.staged and dist.run.exact_top == single.run.exact_top
    assert dist.run.dask_workers == 2 and dist.run.dask_partitions == 4
    passing = int(single.sites["passed"].sum())
    assert len(dist.sites) == len(single.sites) and int(dist.sites["passed"].sum()) == passing
    # ranks: one process's proven ranking and the cluster's agree as far as both go, and both reach
    # at least the exact top (the cluster may prove a few more: each partition made its own top exact)
    a, b = _ranked(single), _ranked(dist)
    k = min(len(a), len(b))
    assert k >= min(single.run.exact_top or passing, passing) and k > 30
    pd.testing.assert_frame_equal(a.head(k), b.head(k))
    if exact_top is None:
        assert passing <= settings.exact_top and len(a) == len(b) == passing  # no cut: every rank, everywhere
    cols = ["plot_id", "shortfall", "n_missed", "missed"]
    near_a, near_b = single.near_misses[cols].reset_index(drop=True), dist.near_misses[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(near_a), pd.DataFrame(near_b))
    if profile.requirements:
        assert len(near_a) > 20
    outcome = ["plot_id", "passed", "near_miss", "n_missed", "missed"]
    by_id = lambda r: pd.DataFrame(r.sites[outcome]).sort_values("plot_id").reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(by_id(single), by_id(dist))
    pd.testing.assert_frame_equal(funnel(single), funnel(dist))


@pytest.mark.slow
def test_a_dask_result_exports_the_map_tables_and_dossier(
    cluster: object, national: tuple[LayerSet, Path, Path], tmp_path: Path
) -> None:
    from sitematch.distributed import match_distributed, region_layers
    from sitematch.export import write_all

    _, layers_path, plots_path = national
    region = region_layers(layers_path)
    profile = parse_profile(PROFILE)
    dist = match_distributed(profile, plots_path, layers_path, layers=region, client=cluster)
    written = write_all(dist, region, tmp_path, ["map", "csv", "gpkg", "dossier"])
    assert {p.name for p in written.values()} >= {"map.html", "ranking.csv", "ranking.gpkg", "dossier.html"}
    table = pd.read_csv(tmp_path / "ranking.csv")
    assert (
        len(table) == len(dist.sites) and table["plot_id"].head(10).tolist() == dist.ranked["plot_id"].head(10).tolist()
    )
    ranked = gpd.read_file(tmp_path / "ranking.gpkg", layer="ranked")
    assert ranked.geometry.notna().head(int(dist.ranked["rank"].notna().sum())).all()
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert dist.ranked["plot_id"].iloc[0] in html


def _tables(result: MatchResult, layers: LayerSet, folder: Path) -> tuple[bytes, dict[str, gpd.GeoDataFrame]]:
    from sitematch.export import write_all

    written = write_all(result, layers, folder, ["csv", "gpkg"])
    layers_back = {name: gpd.read_file(written["gpkg"], layer=name) for name in ("ranked", "excluded")}
    return written["csv"].read_bytes(), layers_back


@pytest.mark.slow
@pytest.mark.parametrize(("n", "exact", "by_workers"), [(1500, "top", False), (N_SITES, "all", False),
                                                        (1500, "top", True), (N_SITES, "all", True)])  # fmt: skip
def test_a_dask_run_writes_the_tables_one_process_writes(
    cluster: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, exact: str, by_workers: bool
) -> None:
    """Every site with every value and its polygon, in the same order: not only the shortlist's.

    1,500 sites: no staged plan, every value exact in both; 6,500 with ``exact="all"``.
    ``by_workers``: the tables through Arrow (as from 20,000 sites), the workers making the
    export columns of their sites.
    """
    from sitematch.distributed import match_distributed, region_layers
    from sitematch.export import _parts, tables

    made_here: list[str] = []
    if by_workers:
        monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)
        real = tables.arrow_of

        def counted(parts: list[pd.DataFrame], name: str, *, floats: bool) -> object:
            made_here.append(name)
            return real(parts, name, floats=floats)

        monkeypatch.setattr(tables, "arrow_of", counted)

    layers = synthetic_layers(n, seed=11)
    layers_path = write_layers(layers, tmp_path / "region.gpkg")
    plots_path = write_partitioned(layers["plots"], tmp_path / "plots.parquet", 4)
    region = region_layers(layers_path)
    profile = parse_profile(PROFILE)
    single = match(profile, layers, exact=exact)
    dist = match_distributed(profile, plots_path, layers_path, layers=region, client=cluster, exact=exact)
    csv_single, gpkg_single = _tables(single, layers, tmp_path / "single")
    made_here.clear()
    csv_dist, gpkg_dist = _tables(dist, region, tmp_path / "dask")
    if by_workers:  # the driver made only the columns the workers cannot know
        assert id(dist) in _parts._PREPARED and set(made_here) == {"rank", "in_region"}
    assert csv_dist.count(b"\n") == n + 1  # a header and every site (all in the region)
    assert csv_dist == csv_single  # every row, every cell, in the same order
    for name in ("ranked", "excluded"):
        a, b = gpkg_single[name], gpkg_dist[name]
        assert len(a) > 10 and a.geometry.notna().all()
        attributes = [pd.DataFrame(f.drop(columns="geometry")) for f in (b, a)]
        pd.testing.assert_frame_equal(*attributes)
        assert b.geometry.geom_equals_exact(a.geometry, tolerance=0).all()
    excluded = pd.read_csv(tmp_path / "dask" / "ranking.csv").query("not passed")
    assert excluded["distance_to_rail_m"].notna().all()  # the values of sites outside the shortlist too
