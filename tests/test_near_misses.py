"""Near misses that show the real alternatives, on a region drawn and computed by hand.

The tiny region of ``conftest.py`` (rail line at E = E0+3200, running north–south) with its plots
replaced by five, all zoned J in municipality 1980. Profile: area ≥ 20 ha, rail within 1 km,
near-miss tolerance 0.25 (the default). Distance to rail = from the plot's east edge to E0+3200::

    plot  box (E from E0, N from N0)     area   rail      area short     rail over       misses  total
    P1    +1700…+2100, 0…400            18 ha   1100 m    2/20 = 0.10    100/1000 = 0.10   2     0.20
    P2    +3000…+3400, 2000…2400        10 ha      0 m   10/20 = 0.50    —                 1     0.50
    P5    +3000…+3400, 4000…4400         8 ha      0 m   12/20 = 0.60    —                 1     0.60
    P3    -5000…-4500, 0…600             5 ha   7700 m   15/20 = 0.75    6700/1000 = 6.7   2     7.45
    P4    -5000…-4500, 3000…3500         5 ha   7700 m   0.75            6.7               2     7.45

No site passes, and no site misses exactly one requirement within the tolerance (P2 and P5 miss
only area, by 50 % and 60 %). The best alternative, P1, misses both requirements narrowly: its
total shortfall 0.20 ≤ 0.25 makes it the one near miss. Area excludes all 5 sites, rail 3 (P1,
P3, P4): area is binding, and the nearest site that misses *only* area is P2 (10 ha short) — not
P1, which misses area by less but misses rail too.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from sitematch.funnel import binding
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import CRS, E0, N0, plot_row, tiny_layer_frames

PROFILE = "name: t\nrequirements: {min_area_ha: 20, max_distance_to_rail_m: 1000}\n"


def _layers(*extra: dict, drop: tuple[str, ...] = ()) -> LayerSet:
    frames = tiny_layer_frames()
    plots = gpd.GeoDataFrame(
        [
            plot_row("P1", "1980", box(E0 + 1700, N0, E0 + 2100, N0 + 400), 18.0),
            plot_row("P2", "1980", box(E0 + 3000, N0 + 2000, E0 + 3400, N0 + 2400), 10.0),
            plot_row("P3", "1980", box(E0 - 5000, N0, E0 - 4500, N0 + 600), 5.0),
            plot_row("P4", "1980", box(E0 - 5000, N0 + 3000, E0 - 4500, N0 + 3500), 5.0),
            plot_row("P5", "1980", box(E0 + 3000, N0 + 4000, E0 + 3400, N0 + 4400), 8.0),
            *extra,
        ],
        geometry="geometry",
        crs=CRS,
    )
    frames["plots"] = plots[~plots["local_ref"].isin(drop)].reset_index(drop=True)
    return LayerSet(frames, origin="near-miss fixture")


@pytest.fixture
def layers() -> LayerSet:
    return _layers()


@pytest.mark.parametrize("staged", [False, True])
def test_a_site_missing_two_requirements_narrowly_is_a_near_miss(layers: LayerSet, staged: bool) -> None:
    result = match(parse_profile(PROFILE), layers, staged=staged)
    assert result.ranked.empty
    near = result.near_misses
    assert near["plot_id"].tolist() == ["1980:P1"]
    p1 = near.iloc[0]
    assert p1["n_missed"] == 2
    assert p1["shortfall_min_area_ha"] == pytest.approx(0.10)
    assert p1["shortfall_max_distance_to_rail_m"] == pytest.approx(0.10)
    assert p1["shortfall"] == pytest.approx(0.20)  # the total: 0.10 + 0.10
    assert result.misses(p1) == [  # both shortfalls, in words
        "Area 18 ha, needs at least 20 ha (2 ha short)",
        "Distance to rail line 1.1 km, needs at most 1.0 km (100 m over)",
    ]


def test_the_why_sentence_names_the_nearest_site_missing_only_the_binding_requirement(layers: LayerSet) -> None:
    result = match(parse_profile(PROFILE), layers)
    why = binding(result)
    assert why is not None and why.requirement.key == "min_area_ha" and why.excludes == 5
    assert why.nearest_site == "Plot P2" and why.nearest_gap == "lacks 10 ha"  # 20 − 10 ha, not P1's 2 ha
    assert why.sentence() == (
        "Area at least 20 ha excludes 100 % of the region's 5 sites (5) for this lead; "
        "the nearest site that misses only this, Plot P2, lacks 10 ha."
    )


def test_the_closest_excluded_sites_are_listed_even_when_none_is_near(layers: LayerSet) -> None:
    strict = parse_profile("name: t\nnear_miss_tolerance: 0.15\n" + PROFILE.split("\n", 1)[1])
    result = match(strict, layers)
    assert result.near_misses.empty  # P1's total 0.20 > 0.15
    closest = result.closest(3)  # by total shortfall: P1 0.20, P2 0.50, P5 0.60
    assert closest["plot_id"].tolist() == ["1980:P1", "1980:P2", "1980:P5"]
    assert closest["shortfall"].tolist() == pytest.approx([0.20, 0.50, 0.60])
    assert len(match(parse_profile(PROFILE), layers).closest(3)) == 3  # the near miss, then P2 and P5


def test_near_misses_for_the_binding_requirement_come_first() -> None:
    # P6: 30 ha, east edge at E0+2150, 1050 m from rail: misses only rail, by 50/1000 = 0.05.
    # Area still excludes the most (5 sites; rail 4: P1, P3, P4, P6), so it is binding.
    # Tolerance 1: near misses P6 (0.05), P1 (0.20), P2 (0.50), P5 (0.60); those missing area come
    # first, by total shortfall, then P6 — which alone would sort first by total.
    layers = _layers(plot_row("P6", "1980", box(E0 + 1650, N0 + 6000, E0 + 2150, N0 + 6600), 30.0))
    result = match(parse_profile("name: t\nnear_miss_tolerance: 1\n" + PROFILE.split("\n", 1)[1]), layers)
    assert result.binding_key == "min_area_ha"
    assert result.near_misses["plot_id"].tolist() == ["1980:P1", "1980:P2", "1980:P5", "1980:P6"]
    assert result.near_misses["shortfall"].tolist() == pytest.approx([0.20, 0.50, 0.60, 0.05])


def test_the_why_sentence_says_when_no_site_misses_only_the_binding_requirement() -> None:
    # Without P2 and P5 every site that misses area also misses rail (P1, P3, P4): area and rail
    # both exclude 3; area is checked first (cheaper), so it is binding, and no site misses only it.
    result = match(parse_profile(PROFILE), _layers(drop=("P2", "P5")))
    why = binding(result)
    assert why is not None and why.requirement.key == "min_area_ha" and why.excludes == 3
    assert why.nearest_site == "" and why.sentence().endswith("; no site misses only this requirement.")
