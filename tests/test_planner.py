"""The planner's questions on small drawn fixtures (see conftest.py for the tiny region).

Extra plots drawn here (EPSG:3006 metres from E0, N0; S1 = 50 MW at (1000, 1000), S2 = 10 MW at
(-4000, 300); junction Tp A at (0, -1000); rail at E = 3200)::

    1980:A   (0…500, 0…500)        25 ha J   S1 at 707 m          passes
    1980:B   (3000…3400, 0…400)    16 ha J   S1 at 2088 m: 0 MW   area and grid
    1980:C   (-5000…-4500, 0…600)  30 ha Z   S2 at 500 m: 10 MW   grid and zoning
    1980:E   (1200…1500, 1200…1500) 22 ha J  S1 within reach      price unknown (the lead: fail)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import CRS, E0, N0, plot_row, tiny_layer_frames
from shapely import box

import sitematch
from sitematch.assembly import candidate_pairs
from sitematch.criteria import BUILTIN
from sitematch.layers.layerset import LayerSet
from sitematch.planner import (
    assembled_sites,
    evaluate_profiles,
    fit,
    gap_summary,
    pareto_front,
    sensitivity,
    smallest_changes,
)
from sitematch.profile import build_profile
from sitematch.result import MatchResult, RunInfo

GRID_RADIUS = {"grid_connection_radius_m": 2000}


def _layers(plots: list[dict]) -> LayerSet:
    frames = tiny_layer_frames()
    frames["plots"] = gpd.GeoDataFrame(plots, geometry="geometry", crs=CRS)
    return LayerSet(frames, origin="planner fixture")


def _at(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


@pytest.fixture
def four() -> LayerSet:
    return _layers(
        [
            plot_row("A", "1980", _at(0, 0, 500, 500), 25.0),
            plot_row("B", "1980", _at(3000, 0, 3400, 400), 16.0),
            plot_row("C", "1980", _at(-5000, 0, -4500, 600), 30.0, zoning="Z"),
            plot_row("E", "1980", _at(1200, 1200, 1500, 1500), 22.0, price_sek_m2=None),
        ]
    )


def _lead(**extra) -> object:
    return build_profile(
        {
            "name": "Lead",
            "sector": "test",
            "parameters": GRID_RADIUS,
            "requirements": {
                "min_area_ha": 20,
                "min_grid_capacity_mw": 40,
                "zoning": ["J"],
                "max_price_sek_m2": {"value": 500, "if_unknown": "fail"},
            },
            "preferences": {"distance_to_motorway_junction_m": {"weight": 1, "full_at": 0, "zero_at": 10000}},
            **extra,
        }
    )


def test_fit_gaps_in_words_and_numbers(four: LayerSet) -> None:
    found = fit(evaluate_profiles([_lead()], four))
    rows = found.table.set_index("plot_id")
    assert rows.loc["1980:A", "passed"] and rows.loc["1980:A", "lacks"] == ""
    # B: 4 ha of 20 short (0.2) before 40 MW of 40 (1.0): smallest first
    assert rows.loc["1980:B", "lacks"] == "needs 4 ha more area; needs 40 MW more grid capacity"
    # C: 10 MW at S2 (30 short of 40), then the zoning: a plan change
    assert rows.loc["1980:C", "lacks"] == "needs 30 MW more grid capacity; zoning Z, needs J: a plan change"
    assert rows.loc["1980:E", "lacks"] == "price unknown: ask the municipality (price at most 500 SEK/m²)"
    gaps = found.gaps.set_index(["plot_id", "requirement"])
    assert gaps.loc[("1980:C", "min_grid_capacity_mw"), "missing"] == pytest.approx(30.0)
    assert gaps.loc[("1980:B", "min_area_ha"), "missing"] == pytest.approx(4.0)
    assert gaps.loc[("1980:E", "max_price_sek_m2"), "outcome"] == "unknown"
    # would-be score: 100 · (1 − distance to Tp A / 10 km); A passes alone, at 1000 m → 90
    assert rows.loc["1980:A", "score"] == pytest.approx(90.0)
    assert rows.loc["1980:A", "rank"] == 1
    b_distance = np.hypot(3000, 1000)  # B's corner (3000, 0) to Tp A (0, -1000)
    assert rows.loc["1980:B", "score"] == pytest.approx(100 * (1 - b_distance / 10000), abs=1e-4)
    assert rows.loc["1980:B", "rank"] == 2 and rows.loc["1980:C", "rank"] == 2  # below A's 90, among 1 passing
    assert (found.table["ranked_of"] == 1).all()


def test_fit_orders_profiles_by_how_little_is_missing(four: LayerSet) -> None:
    easy = build_profile({"name": "Easy", "requirements": {"min_area_ha": 10}})
    hard = _lead()
    small = build_profile(
        {"name": "Small grid", "parameters": GRID_RADIUS, "requirements": {"min_grid_capacity_mw": 12}}
    )
    found = fit(evaluate_profiles([hard, small, easy], four), ["1980:C"])
    # C passes Easy; misses 2 MW of 12 for Small grid (1 miss); misses two for Lead
    assert found.table["profile"].tolist() == ["Easy", "Small grid", "Lead"]
    assert found.table["passed"].tolist() == [True, False, False]


def test_gap_summary_alone_and_only_miss_differ(four: LayerSet) -> None:
    summary = gap_summary(evaluate_profiles([_lead()], four))
    t = summary.table
    region = t[t["scope"] == "region"].set_index("requirement")
    # grid excludes B (16 ha) and C (30 ha) on its own, but neither has it as its only miss
    assert region.loc["min_grid_capacity_mw", ["excluded", "excluded_ha", "only_miss"]].tolist() == [2, 46.0, 0]
    # zoning excludes C (Z), with the grid; an unknown price excludes E, and only that
    assert region.loc["zoning", ["excluded", "excluded_ha", "only_miss", "only_miss_ha"]].tolist() == [1, 30.0, 0, 0.0]
    assert region.loc["max_price_sek_m2", ["excluded", "only_miss", "only_miss_ha"]].tolist() == [1, 1, 22.0]
    assert region.loc["min_area_ha", ["excluded", "only_miss"]].tolist() == [1, 0]
    muni = t[(t["scope"] == "municipality") & (t["code"] == "1980")].set_index("requirement")
    assert muni.loc["max_price_sek_m2", "only_miss"] == 1 and muni.loc["min_grid_capacity_mw", "excluded"] == 2
    binding = summary.binding
    top = binding[binding["scope"] == "region"].iloc[0]
    assert top["requirement"] == "max_price_sek_m2"  # the only one that is anybody's only miss
    assert "only miss for 22.0 ha" in top["sentence"]
    county = binding[binding["scope"] == "county"].iloc[0]
    assert county["code"] == "19"


def test_one_substation_upgrade_opens_exactly_three_plots() -> None:
    layers = _layers(
        [
            plot_row("A", "1980", _at(0, 0, 500, 500), 25.0),  # passes on S1's 50 MW
            # three J plots near S2 (10 MW), beyond S1's reach: each misses only the grid, 30 MW short
            plot_row("F1", "1980", _at(-4300, 500, -4000, 800), 21.0),
            plot_row("F2", "1980", _at(-3800, 500, -3500, 800), 22.0),
            plot_row("F3", "1980", _at(-4300, -300, -4000, 0), 23.0),
            plot_row("C", "1980", _at(-5000, 0, -4500, 600), 30.0, zoning="Z"),  # grid and zoning: not opened
        ]
    )
    changes = smallest_changes(evaluate_profiles([_lead()], layers), layers)
    grid = changes[changes["kind"] == "grid"]
    assert len(grid) == 1
    row = grid.iloc[0]
    assert (row["where"], row["amount"], row["plots"], row["profiles"]) == ("S2", 30.0, 3, 1)
    assert row["plot_ids"] == "1980:F1, 1980:F2, 1980:F3"
    assert row["ha"] == pytest.approx(66.0)
    assert row["change"] == "+30 MW at S2 would let 3 plots pass 1 profile"
    assert row["pairs"] == 3


def test_plan_change_suggestion_names_the_plots(four: LayerSet) -> None:
    layers = _layers(
        [
            plot_row("A", "1980", _at(0, 0, 500, 500), 25.0),
            plot_row("Z1", "1980", _at(600, 0, 900, 300), 21.0, zoning="Z"),
            plot_row("Z2", "1980", _at(0, 600, 300, 900), 21.0, zoning="Z"),
        ]
    )
    changes = smallest_changes(evaluate_profiles([_lead()], layers), layers)
    plan = changes[changes["kind"] == "plan"].iloc[0]
    assert plan["plot_ids"] == "1980:Z1, 1980:Z2"
    assert plan["change"] == "a plan change (zoning Z to J) on 2 plots in Västerås would let them pass 1 profile"


# --- assembly ---------------------------------------------------------------------------------


@pytest.fixture
def parcels() -> LayerSet:
    return _layers(
        [
            plot_row("A1", "1980", _at(0, 0, 400, 300), 12.0, price_sek_m2=300.0),
            plot_row(
                "A2", "1980", _at(500, 0, 900, 300), 10.0, plan_status="antagen", owner="privat", price_sek_m2=400.0
            ),
            plot_row("A3", "1980", _at(1300, 0, 1700, 300), 10.0),  # 400 m from A2: too far
            plot_row("A4", "1981", _at(0, 350, 400, 650), 10.0),  # 50 m from A1, another municipality
            plot_row("A5", "1980", _at(-450, 0, -50, 300), 10.0, zoning="Z"),  # 50 m from A1, zoning Z
        ]
    )


def _assembling(gap: float = 200.0) -> object:
    return build_profile(
        {
            "name": "Big lead",
            "requirements": {"min_area_ha": 20, "plan_status": ["laga_kraft", "antagen"]},
            "preferences": {"distance_to_rail_m": {"weight": 1, "full_at": 0, "zero_at": 10000}},
            "assembly": {"max_gap_m": gap},
        }
    )


def test_assembly_finds_the_one_compatible_pair(parcels: LayerSet) -> None:
    extra = assembled_sites(parcels["plots"], _assembling())
    assert extra["plot_id"].tolist() == ["1980:A1+1980:A2"]
    row = extra.iloc[0]
    assert row["area_ha"] == 22.0
    assert row["plan_status"] == "antagen"  # the less certain of laga_kraft and antagen
    assert row["owner"] == "kommun+privat"
    assert row["price_sek_m2"] == pytest.approx((12 * 300 + 10 * 400) / 22)
    assert row["assembled_from"] == "1980:A1, 1980:A2"
    # a gap of 50 m is too small for A1–A2 (100 m apart): nothing
    assert len(assembled_sites(parcels["plots"], _assembling(gap=50))) == 0


def test_assembly_rejects_each_incompatible_pair(parcels: LayerSet) -> None:
    plots = parcels["plots"]
    ids = plots["plot_id"].to_numpy()
    pairs = {tuple(sorted(ids[p])) for p in candidate_pairs(plots, _assembling())}
    assert ("1980:A2", "1980:A3") not in pairs  # 400 m apart
    assert ("1980:A1", "1981:A4") not in pairs  # across municipalities
    assert ("1980:A1", "1980:A5") not in pairs  # J with Z
    assert pairs == {("1980:A1", "1980:A2")}


def test_assembled_site_is_scored_from_the_union(parcels: LayerSet) -> None:
    (result,) = evaluate_profiles([_assembling()], parcels)
    sites = result.sites.set_index("plot_id")
    assert {"1980:A1", "1980:A2", "1980:A3", "1980:A5"} <= set(sites.index)  # the single plots stay
    pair = sites.loc["1980:A1+1980:A2"]
    assert bool(pair["passed"]) and not bool(sites.loc["1980:A1", "passed"])
    union = shapely.union(_at(0, 0, 400, 300), _at(500, 0, 900, 300))
    rail = shapely.LineString([(E0 + 3200, N0 - 20_000), (E0 + 3200, N0 + 20_000)])
    assert pair["distance_to_rail_m"] == pytest.approx(shapely.distance(union, rail)) == pytest.approx(2300.0)
    assert pair["distance_to_motorway_junction_m"] == pytest.approx(1000.0)  # Tp A below A1's edge
    assert pair["rank"] == 1


def test_a_match_offers_the_assembled_site_and_keeps_the_plots(parcels: LayerSet) -> None:
    """``sitematch.match`` itself (the CLI's and the service's call) adds a profile's assembled sites."""
    result = sitematch.match(_assembling(), parcels)
    assert result.ranked["plot_id"].tolist() == ["1980:A1+1980:A2"]  # no single plot has 20 ha
    assert {"1980:A1", "1980:A2", "1980:A3", "1980:A5"} <= set(result.sites["plot_id"])
    without = sitematch.match(
        build_profile(
            {
                "name": "Big lead",
                "requirements": {"min_area_ha": 20, "plan_status": ["laga_kraft", "antagen"]},
                "preferences": {"distance_to_rail_m": {"weight": 1, "full_at": 0, "zero_at": 10000}},
            }
        ),
        parcels,
    )
    assert len(without.ranked) == 0 and "1980:A1+1980:A2" not in set(without.sites["plot_id"])


def test_profile_assembly_validation() -> None:
    from sitematch.errors import ProfileError

    with pytest.raises(ProfileError, match="max_gap_m"):
        build_profile({"name": "x", "requirements": {"min_area_ha": 1}, "assembly": {"max_gap_m": -5}})
    with pytest.raises(ProfileError, match="assembly"):
        build_profile({"name": "x", "requirements": {"min_area_ha": 1}, "assembly": {"gap": 5}})
    p = _assembling(150)
    assert p.assembly.max_gap_m == 150.0 and p.to_data()["assembly"] == {"max_gap_m": 150.0}
    assert "assembly" not in build_profile({"name": "x", "requirements": {"min_area_ha": 1}}).to_data()


# --- robustness -------------------------------------------------------------------------------


def _result(profile, rows: list[dict]) -> MatchResult:
    sites = gpd.GeoDataFrame(
        pd.DataFrame(rows).assign(geometry=[shapely.Point(E0 + i, N0) for i in range(len(rows))]),
        geometry="geometry",
        crs=CRS,
    )
    run = RunInfo("test", RunInfo.now(), "fixture", "x", profile.digest(), False, len(rows))
    return MatchResult(profile=profile, sites=sites, provenance=pd.DataFrame(), run=run, registry=BUILTIN)


def test_sensitivity_rank_ranges_match_a_hand_computation() -> None:
    # value scores = area/100 and price/100 (linear, zero at 0, full at 100); weights 2 and 1
    profile = build_profile(
        {
            "name": "Weights",
            "preferences": {
                "area_ha": {"weight": 2, "full_at": 100, "zero_at": 0},
                "price_sek_m2": {"weight": 1, "full_at": 100, "zero_at": 0},
            },
        }
    )
    sites = [  # (V1, V2): s1 (1, 0), s2 (0, 1), s3 (0.6, 0.7), s4 (0.9, 0.05)
        {"plot_id": "s1", "passed": True, "area_ha": 100.0, "price_sek_m2": 0.0},
        {"plot_id": "s2", "passed": True, "area_ha": 0.0, "price_sek_m2": 100.0},
        {"plot_id": "s3", "passed": True, "area_ha": 60.0, "price_sek_m2": 70.0},
        {"plot_id": "s4", "passed": True, "area_ha": 90.0, "price_sek_m2": 5.0},
        {"plot_id": "x", "passed": False, "area_ha": 100.0, "price_sek_m2": 100.0},  # excluded: not ranked
    ]
    ranges = {r.plot_id: r for r in sensitivity(_result(profile, sites), change=0.25, samples=500, seed=1)}
    # base (2, 1): s1 .667, s3 .633, s4 .617, s2 .333. By r = w1/w2 the order is s1 > s3 iff r > 1.75,
    # s3 > s4 iff r < 2.17, s1 > s4 and all > s2 always. One at a time r ∈ {1.5, 2.5, 2.67, 1.6}:
    # s1 {1, 2, 1, 1, 2}, s3 {2, 1, 3, 3, 1}, s4 {3, 3, 2, 2, 3}; jointly r ∈ [1.2, 3.33]: the same.
    assert [ranges[k].rank for k in ("s1", "s3", "s4", "s2")] == [1, 2, 3, 4]
    assert (ranges["s1"].best_one, ranges["s1"].worst_one) == (1, 2)
    assert (ranges["s3"].best_one, ranges["s3"].worst_one) == (1, 3)
    assert (ranges["s4"].best_one, ranges["s4"].worst_one) == (2, 3)
    assert (ranges["s2"].best_one, ranges["s2"].worst_one) == (4, 4)
    assert [(ranges[k].best_joint, ranges[k].worst_joint) for k in ("s1", "s3", "s4", "s2")] == [
        (1, 2),
        (1, 3),
        (2, 3),
        (4, 4),
    ]
    assert "x" not in ranges


def test_sensitivity_with_small_change_is_stable() -> None:
    profile = build_profile({"name": "W", "preferences": {"area_ha": {"weight": 1, "full_at": 100, "zero_at": 0}}})
    sites = [{"plot_id": f"s{i}", "passed": True, "area_ha": 10.0 * i} for i in range(1, 5)]
    ranges = sensitivity(_result(profile, sites), change=0.25)
    assert all(r.stable for r in ranges)  # one preference: weights cannot reorder
    assert [r.plot_id for r in ranges] == ["s4", "s3", "s2", "s1"]


def test_pareto_front_is_the_non_dominated_set() -> None:
    profile = build_profile({"name": "P", "requirements": {"min_area_ha": 1}})
    rows = [  # (area, grid), both higher is better
        ("p1", 10.0, 50.0, True),
        ("p2", 20.0, 40.0, True),
        ("p3", 15.0, 30.0, True),  # dominated by p2
        ("p4", 20.0, 40.0, True),  # equal to p2: neither dominates
        ("p5", 5.0, 50.0, True),  # dominated by p1
        ("p6", 30.0, 10.0, True),
        ("p7", 25.0, 5.0, True),  # dominated by p6
        ("p8", 100.0, 100.0, False),  # would dominate all, but does not pass
    ]
    result = _result(
        profile, [{"plot_id": p, "area_ha": a, "grid_capacity_mw": g, "passed": ok} for p, a, g, ok in rows]
    )
    front = pareto_front(result, "area_ha", "grid_capacity_mw")
    assert sorted(front["plot_id"]) == ["p1", "p2", "p4", "p6"]
    # distance is lower-is-better: p2 (20, 40) beats p1 (10, 50); p3 (15, 30) is nearer than both
    rows2 = [{"plot_id": p, "area_ha": a, "distance_to_port_m": g, "passed": True} for p, a, g, _ in rows[:3]]
    front2 = pareto_front(_result(profile, rows2), "area_ha", "distance_to_port_m")
    assert sorted(front2["plot_id"]) == ["p2", "p3"]


def test_fit_map_outlines_an_assembled_site_with_its_parts(parcels: LayerSet, tmp_path) -> None:
    from sitematch.planner.maps import fit_map, write_map_html
    from sitematch.planner.write import site_frame

    results = evaluate_profiles([_assembling()], parcels)
    found = fit(results, ["1980:A1+1980:A2", "1980:A3"])
    every = site_frame(results)
    shown = every[every["plot_id"].isin(["1980:A1+1980:A2", "1980:A3"])]
    page = write_map_html(fit_map(found, shown, parcels, parts_of=every), tmp_path / "m.html").read_text("utf-8")
    assert "Assembled sites (parts outlined)" in page and "Parts of assembled sites" in page
    assert "part: 1980:A1" in page and "part: 1980:A2" in page
    assert "assembled from 1980:A1, 1980:A2" in page


def test_headline_changes_keep_the_smallest_step_and_the_biggest_per_place() -> None:
    from sitematch.planner.changes import CHANGE_COLUMNS, headline_changes

    rows = [  # (where, amount, pairs)
        ("S1", 3.0, 10),
        ("S1", 15.0, 12),
        ("S1", 55.0, 20),
        ("S2", 5.0, 4),
        ("S2", 9.0, 4),  # as many pairs as the smaller step: not shown
    ]
    frame = pd.DataFrame(
        [{**dict.fromkeys(CHANGE_COLUMNS, ""), "where": w, "amount": a, "pairs": p} for w, a, p in rows]
    )
    head = headline_changes(frame)
    assert list(zip(head["where"], head["amount"], strict=True)) == [("S1", 3.0), ("S1", 55.0), ("S2", 5.0)]


def test_match_map_outlines_an_assembled_site_with_its_parts_and_keeps_the_single_plots(
    parcels: LayerSet, tmp_path
) -> None:
    from sitematch.export.map import write_map

    (result,) = evaluate_profiles([_assembling()], parcels)  # A1 + A2 (22 ha) is the one site passing 20 ha
    page = write_map(result, parcels, tmp_path / "map.html").read_text("utf-8")
    assert "Assembled sites and their parts (1)" in page
    assert "assembled site 1980:A1+1980:A2: 1980:A1, 1980:A2" in page
    assert "part of 1980:A1+1980:A2: 1980:A1" in page and "part of 1980:A1+1980:A2: 1980:A2" in page
    assert "part of 1980:A1+1980:A2: 1980:A3" not in page  # A3 is no part of it
    assert page.count("1980:A3") >= 1  # the single plots stay on the map


def test_match_map_without_assembled_sites_has_no_such_layer(parcels: LayerSet, tmp_path) -> None:
    from sitematch import match
    from sitematch.export.map import write_map

    profile = build_profile({"name": "Small lead", "requirements": {"min_area_ha": 5}})
    page = write_map(match(profile, parcels), parcels, tmp_path / "map.html").read_text("utf-8")
    assert "Assembled sites and their parts" not in page
