"""The elimination funnel and the binding requirement, counted by hand on the tiny region.

Profile: area ≥ 20 ha (B has 16), zoning J (C is Z), rail within 1 km (A is 2.7 km away, B is
crossed by the line, C is 7.7 km away). Evaluation order: area, zoning (attributes), then rail.

    A: misses rail only           B: misses area only          C: misses zoning and rail
    after area: A, C remain       after zoning: A remains      after rail: none remains
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sitematch.export.tables import write_funnel
from sitematch.funnel import binding, funnel
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile

PROFILE = "name: t\nrequirements: {max_distance_to_rail_m: 1000, min_area_ha: 20, zoning: [J]}\n"


@pytest.mark.parametrize("staged", [False, True])
def test_funnel_counts_by_hand(tiny_layers: LayerSet, staged: bool) -> None:
    result = match(parse_profile(PROFILE), tiny_layers, staged=staged)
    table = funnel(result).set_index("key")
    assert table.index.tolist() == ["min_area_ha", "zoning", "max_distance_to_rail_m"]
    assert table["remaining"].tolist() == [2, 1, 0]
    if not staged:
        assert table["excludes"].tolist() == [1, 1, 2]
        assert table["only_this"].tolist() == [1, 0, 1]
        assert table["excludes_share"].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3])
        assert table["exact"].all()
    else:  # C is excluded by zoning and never checked for rail: lower bounds, said so
        assert table["excludes"].tolist() == [1, 1, 1] and not table["exact"].any()


def test_binding_requirement_in_one_sentence(tiny_layers: LayerSet) -> None:
    b = binding(match(parse_profile(PROFILE), tiny_layers))
    assert b.requirement.key == "max_distance_to_rail_m" and b.excludes == 2
    assert b.sentence() == (
        "Distance to rail line at most 1.0 km excludes 67 % of the region's 3 sites (2) for this lead; "
        "the nearest site that misses only this, Plot A, is 1.7 km too far."
    )
    grid = binding(match(parse_profile("name: t\nrequirements: {min_grid_capacity_mw: 60}\n"), tiny_layers))
    assert grid.sentence().endswith("Plot A, lacks 10 MW.")  # A and B reach 50 MW within 15 km
    assert binding(match(parse_profile("name: t\nrequirements: {min_area_ha: 1}\n"), tiny_layers)) is None


def test_near_misses_are_sorted_by_shortfall(tiny_layers: LayerSet) -> None:
    profile = parse_profile("name: t\nnear_miss_tolerance: 0.5\nrequirements: {min_area_ha: 28}\n")
    near = match(profile, tiny_layers).near_misses  # A 25 ha (11 % short), B 16 ha (43 %)
    assert near["plot_id"].tolist() == ["1980:A", "1980:B"]
    assert near["shortfall"].is_monotonic_increasing


def test_funnel_csv(tiny_layers: LayerSet, tmp_path: Path) -> None:
    path = write_funnel(match(parse_profile(PROFILE), tiny_layers), tmp_path / "funnel.csv")
    df = pd.read_csv(path)
    assert df["requirement"].tolist()[0] == "Area at least 20 ha" and df["remaining"].tolist() == [2, 1, 0]
