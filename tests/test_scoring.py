"""Scoring on the tiny fixture, checked against hand-computed values (see conftest.py)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import Preference, parse_profile
from sitematch.scoring import value_score
from tests.conftest import E0, N0, plot_row, tiny_layer_frames

PROFILE = """
name: Hand-checked
parameters: {grid_connection_radius_m: 3000}
requirements:
  min_area_ha: 10
preferences:
  distance_to_motorway_junction_m: {weight: 1, full_at: 1000, zero_at: 5000}
  grid_capacity_mw: {weight: 1, zero_at: 0, full_at: 50}
"""


def test_hand_computed_ranking(tiny_layers: LayerSet) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    ranked = result.ranked.set_index("plot_id")
    # junction distances: A 1000 m; B hypot(3000, 1000); C hypot(4500, 1000)
    d_b, d_c = math.hypot(3000, 1000), math.hypot(4500, 1000)
    assert ranked.loc["1980:B", "distance_to_motorway_junction_m"] == pytest.approx(d_b)
    # grid within 3 km: A and B reach S1 (50 MW), C only S2 (10 MW)
    assert ranked["grid_capacity_mw"].to_dict() == {"1980:A": 50.0, "1980:B": 50.0, "1980:C": 10.0}
    expected = {
        "1980:A": 50 * (1.0 + 1.0),
        "1980:B": 50 * ((d_b - 5000) / (1000 - 5000) + 1.0),
        "1980:C": 50 * ((d_c - 5000) / (1000 - 5000) + 0.2),
    }
    for pid, score in expected.items():
        assert ranked.loc[pid, "score"] == pytest.approx(score, abs=1e-4)
    assert list(ranked.index) == ["1980:A", "1980:B", "1980:C"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    # points explain the score: they add up to it
    pts = ranked[["points_distance_to_motorway_junction_m", "points_grid_capacity_mw"]].sum(axis=1)
    np.testing.assert_allclose(pts, ranked["score"], atol=1e-4)
    # D is in a non-member municipality: not ranked, counted
    assert "1981:D" not in set(result.sites["plot_id"])
    assert result.outside_region == 1


def test_breakdown_explains_each_point(tiny_layers: LayerSet) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    lines = result.breakdown("1980:C")
    assert [b.criterion for b in lines] == ["distance_to_motorway_junction_m", "grid_capacity_mw"]
    assert lines[1].value == "10 MW" and lines[1].max_points == pytest.approx(50)
    assert lines[1].points == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("requirement", "failing", "words", "shortfall"),
    [
        ("min_area_ha: 20", "1980:B", "Area 16 ha, needs at least 20 ha (4 ha short)", 0.2),
        (
            "min_grid_capacity_mw: 40",
            "1980:C",
            "Grid capacity available 10 MW, needs at least 40 MW (30 MW short)",
            0.75,
        ),
        (
            "max_distance_to_motorway_junction_m: 4000",
            "1980:C",
            "Distance to motorway junction 4.6 km, needs at most 4.0 km",
            None,
        ),
        (
            "max_distance_to_rail_m: 3000",
            "1980:C",
            "Distance to rail line 7.7 km, needs at most 3.0 km (4.7 km over)",
            None,
        ),
        ("max_distance_to_port_m: 12000", "1980:B", "Distance to port (meeting the depth)", None),
        (
            "zoning: [J]",
            "1980:C",
            "Zoning (plan use code) verksamheter / business (Z), needs one of industri / industry (J)",
            None,
        ),
        ("owner: [kommun]", "1980:C", "Owner privat (private), needs one of kommun (municipality)", None),
        ("min_labour_pool_population: 150000", "1980:A", "Labour pool", None),
        ("ready: false", "1980:A", "Build-ready (byggklar): yes, needs no", None),
    ],
)
def test_each_hard_constraint_excludes_and_reports_its_near_miss(
    tiny_layers: LayerSet, requirement: str, failing: str, words: str, shortfall: float | None
) -> None:
    profile = parse_profile(
        f"name: t\nparameters: {{grid_connection_radius_m: 3000}}\nrequirements:\n  {requirement}\n"
    )
    result = match(profile, tiny_layers)
    excluded = result.excluded.set_index("plot_id")
    assert failing in excluded.index
    assert failing not in set(result.ranked["plot_id"])
    assert words in excluded.loc[failing, "missed"]
    assert excluded.loc[failing, "n_missed"] == 1
    if shortfall is not None:
        assert excluded.loc[failing, "shortfall"] == pytest.approx(shortfall)
        assert bool(excluded.loc[failing, "near_miss"]) is (shortfall <= profile.near_miss_tolerance)


def test_brownfield_not_allowed_excludes_brownfield() -> None:
    frames = tiny_layer_frames()
    frames["plots"].loc[0, "brownfield"] = True
    frames["plots"].loc[0, "mifo_risk_class"] = 2
    layers = LayerSet(frames)
    result = match(parse_profile("name: t\nrequirements: {brownfield_allowed: false}"), layers)
    assert "brownfield" in result.excluded.set_index("plot_id").loc["1980:A", "missed"]
    allowed = match(parse_profile("name: t\nrequirements: {brownfield_allowed: true, min_area_ha: 1}"), layers)
    assert "1980:A" in set(allowed.ranked["plot_id"])
    risk = match(parse_profile("name: t\nrequirements: {min_mifo_risk_class: 3}"), layers)
    # class 2 is riskier than allowed; sites never assessed have no class and fail as unknown
    assert "MIFO" in risk.excluded.set_index("plot_id").loc["1980:A", "missed"]


def test_several_misses_are_all_reported(tiny_layers: LayerSet) -> None:
    profile = parse_profile("name: t\nrequirements: {min_area_ha: 20, zoning: [J], max_distance_to_rail_m: 100}")
    c = match(profile, tiny_layers).excluded.set_index("plot_id").loc["1980:C"]
    assert c["n_missed"] == 2 and not c["near_miss"]
    assert "Zoning" in c["missed"] and "rail" in c["missed"]


def _ranked_ids(layers: LayerSet, profile_text: str) -> list[str]:
    return match(parse_profile(profile_text), layers).ranked["plot_id"].tolist()


def test_rank_stability_when_a_plot_is_added_or_removed() -> None:
    base = tiny_layer_frames()
    before = _ranked_ids(LayerSet(base), PROFILE)
    # add an outstanding plot and a poor one: the others keep their relative order and scores
    extra = gpd.GeoDataFrame(
        [
            plot_row("E", "1980", box(E0 + 100, N0 - 900, E0 + 600, N0 - 400), 25.0),
            plot_row("F", "1980", box(E0 + 15_000, N0 + 15_000, E0 + 15_400, N0 + 15_400), 16.0),
        ],
        geometry="geometry",
        crs="EPSG:3006",
    )
    grown = dict(base)
    grown["plots"] = pd.concat([base["plots"], extra], ignore_index=True)
    after = _ranked_ids(LayerSet(grown), PROFILE)
    assert [p for p in after if p in before] == before
    assert set(after) - set(before) == {"1980:E", "1980:F"}
    shrunk = dict(base)
    shrunk["plots"] = base["plots"][base["plots"]["plot_id"] != "1980:B"]
    assert _ranked_ids(LayerSet(shrunk), PROFILE) == [p for p in before if p != "1980:B"]


def test_scores_do_not_depend_on_the_other_candidates() -> None:
    base = tiny_layer_frames()
    full = match(parse_profile(PROFILE), LayerSet(base)).sites.set_index("plot_id")["score"]
    alone = base["plots"][base["plots"]["plot_id"] == "1980:C"]
    single = match(parse_profile(PROFILE), LayerSet({**base, "plots": alone})).sites.set_index("plot_id")["score"]
    assert single["1980:C"] == full["1980:C"]


def test_ties_are_broken_by_plot_id() -> None:
    base = tiny_layer_frames()
    twin = base["plots"].iloc[[0]].copy()
    twin["plot_id"], twin["local_ref"] = "1980:0", "0"
    layers = LayerSet({**base, "plots": pd.concat([base["plots"], twin], ignore_index=True)})
    ids = _ranked_ids(layers, PROFILE)
    assert ids[:2] == ["1980:0", "1980:A"]


@pytest.mark.parametrize(
    ("shape", "full", "zero", "values", "expected"),
    [
        ("linear", 1000, 5000, [0, 1000, 3000, 5000, 9000, np.nan], [1, 1, 0.5, 0, 0, 0]),
        ("linear", 50, 0, [-1, 0, 25, 50, 70], [0, 0, 0.5, 1, 1]),
        ("logistic", 100, 0, [0, 50, 100], [0, 0.5, 1]),
    ],
)
def test_value_functions_are_absolute(shape, full, zero, values, expected) -> None:
    p = Preference("grid_capacity_mw", 1.0, shape, full_at=full, zero_at=zero)
    np.testing.assert_allclose(value_score(p, pd.Series(values, dtype=float)), expected, atol=1e-9)


def test_logistic_is_monotone_and_steeper_in_the_middle() -> None:
    p = Preference("grid_capacity_mw", 1.0, "logistic", full_at=100, zero_at=0)
    v = value_score(p, pd.Series(np.linspace(0, 100, 101)))
    assert np.all(np.diff(v) >= 0)
    assert v[10] < 0.1 and v[90] > 0.9


def test_table_preferences_for_categories_and_flags(tiny_layers: LayerSet) -> None:
    profile = parse_profile(
        "name: t\npreferences:\n  owner: {weight: 1, scores: {kommun: 1.0, privat: 0.25}}\n"
        "  ready: {weight: 1, scores: {true: 1.0, false: 0.0}}\n"
    )
    scores = match(profile, tiny_layers).sites.set_index("plot_id")["score"]
    assert scores["1980:A"] == pytest.approx(100.0)
    assert scores["1980:C"] == pytest.approx(50 * 0.25 + 50 * 1.0)


@pytest.mark.parametrize(
    "criterion",
    ["distance_to_rail_m", "area_ha", "grid_capacity_mw", "labour_pool_population", "mifo_risk_class", "price_sek_m2"],
)
def test_vectorised_and_scalar_words_agree(criterion: str) -> None:
    from sitematch.criteria import CRITERIA, format_value, format_values

    values = np.concatenate([np.random.default_rng(0).uniform(0, 200_000, 300), [0, 0.5, 999.5, 1000, 1049.9, 25.0]])
    c = CRITERIA[criterion]
    assert format_values(c, values).tolist() == [format_value(c, float(v)) for v in values]
