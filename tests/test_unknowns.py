"""Unknown values are an outcome, not a failure: if_unknown (fail / pass / verify), requirements that
apply only to some sites (MIFO classes to brownfield), and sites failing only on unknowns reported
with the near misses.

The tiny region (conftest.py) with: A brownfield MIFO class 1, B brownfield never assessed
(no class), C greenfield (no class, of course); B's price is "on request" (unknown).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import tiny_layer_frames


@pytest.fixture
def layers() -> LayerSet:
    frames = tiny_layer_frames()
    plots = frames["plots"].set_index("plot_id")
    plots.loc["1980:A", ["brownfield", "mifo_risk_class"]] = [True, 1]
    plots.loc["1980:B", ["brownfield", "mifo_risk_class", "price_sek_m2"]] = [True, None, None]
    frames["plots"] = plots.reset_index()
    return LayerSet(frames)


CATHODE = """\
name: Cathode-material plant
requirements:
  min_area_ha: 10
  brownfield_allowed: true
  min_mifo_risk_class: 3
"""


def _outcomes(result, key: str) -> dict[str, str]:
    return result.sites.set_index("plot_id")[f"check_{key}"].astype(str).to_dict()


@pytest.mark.parametrize("staged", [False, True])
def test_mifo_limits_apply_to_brownfield_only(layers: LayerSet, staged: bool) -> None:
    result = match(parse_profile(CATHODE), layers, staged=staged)
    # C is greenfield: no MIFO class, and that is not "unknown contamination"
    assert _outcomes(result, "min_mifo_risk_class") == {
        "1980:A": "failed",
        "1980:B": "to verify",
        "1980:C": "not applicable",
    }
    assert result.ranked["plot_id"].tolist() == ["1980:B", "1980:C"]  # all score 100: by plot_id
    a = result.excluded.set_index("plot_id").loc["1980:A"]
    assert a["missed"] == "MIFO risk class (1 very high – 4 low) class 1, needs at least class 3"
    b = result.sites.set_index("plot_id").loc["1980:B"]
    assert b["to_verify"] == "MIFO risk class (1 very high – 4 low): unknown, to verify (needs at least class 3)"
    assert result.to_verify(b) == [b["to_verify"]] and result.misses(b) == []


def test_an_unknown_price_is_to_verify_by_default_and_can_be_made_to_fail(layers: LayerSet) -> None:
    verify = match(parse_profile("name: t\nrequirements: {max_price_sek_m2: 500}"), layers)
    assert set(verify.ranked["plot_id"]) == {"1980:A", "1980:B", "1980:C"}
    b = verify.sites.set_index("plot_id").loc["1980:B"]
    assert b["check_max_price_sek_m2"] == "to verify"
    assert verify.to_verify(b) == ["Price: unknown, to verify (needs at most 500 SEK/m²)"]
    strict = match(parse_profile("name: t\nrequirements: {max_price_sek_m2: {value: 500, if_unknown: fail}}"), layers)
    b = strict.sites.set_index("plot_id").loc["1980:B"]
    assert not b["passed"] and b["check_max_price_sek_m2"] == "unknown"
    assert b["missed"] == "Price: unknown (needs at most 500 SEK/m²)"
    assert bool(b["near_miss"])  # failing only on an unknown: reported with the near misses
    lenient = match(parse_profile("name: t\nrequirements: {max_price_sek_m2: {value: 500, if_unknown: pass}}"), layers)
    b = lenient.sites.set_index("plot_id").loc["1980:B"]
    assert b["passed"] and b["check_max_price_sek_m2"] == "passed" and pd.isna(b["to_verify"]) is False
    assert b["to_verify"] == ""


@pytest.mark.parametrize("staged", [False, True])
def test_unknown_only_sites_stay_near_misses_when_staged(layers: LayerSet, staged: bool) -> None:
    profile = parse_profile(
        "name: t\nrequirements:\n  max_price_sek_m2: {value: 500, if_unknown: fail}\n  min_area_ha: 20\n"
    )
    near = match(profile, layers, staged=staged).near_misses
    # B: unknown price (adds nothing to the total) and 16 of 20 ha (0.2 short): total 0.2 <= 0.25, a near miss
    assert near["plot_id"].tolist() == ["1980:B"] and near["shortfall"].tolist() == pytest.approx([0.2])
    strict = parse_profile(
        "name: t\nnear_miss_tolerance: 0.1\nrequirements:\n  max_price_sek_m2: {value: 500, if_unknown: fail}\n"
        "  min_area_ha: 20\n"
    )
    assert match(strict, layers, staged=staged).near_misses.empty  # 0.2 > 0.1
    profile = parse_profile("name: t\nrequirements:\n  max_price_sek_m2: {value: 500, if_unknown: fail}\n")
    assert match(profile, layers, staged=staged).near_misses["plot_id"].tolist() == ["1980:B"]


def test_the_cathode_lead_on_the_bundled_region() -> None:
    """Issue 11: 'brownfield allowed if MIFO ≥ 3' ranked 0 of 226 sites when every greenfield plot failed as unknown."""
    layers = LayerSet.from_path("layers")
    result = match(parse_profile(CATHODE + "  zoning: [J]\n"), layers)
    ranked = result.ranked
    assert len(ranked) > 20
    assert (~ranked["brownfield"].astype(bool)).sum() > 20  # greenfield plots that meet everything else
    risky = result.sites[result.sites["brownfield"].astype(bool) & (result.sites["mifo_risk_class"] < 3)]
    assert len(risky) and not risky["passed"].any()
    assert risky["missed"].str.contains("MIFO risk class").all()


@pytest.mark.parametrize("staged", [False, True])
def test_a_layer_the_region_lacks_makes_its_distances_unknown(staged: bool) -> None:
    """No ports layer: every site's port distance is unknown, and not "none in the layers"."""
    frames = {k: v for k, v in tiny_layer_frames().items() if k != "ports"}
    layers = LayerSet(frames, origin="tiny fixture without ports")
    profile = parse_profile(
        "name: t\nrequirements:\n  min_area_ha: 1\n  max_distance_to_port_m: {value: 80000, if_unknown: verify}\n"
    )
    result = match(profile, layers, staged=staged)
    assert result.sites["distance_to_port_m"].isna().all()
    assert (result.sites["check_max_distance_to_port_m"] == "to verify").all()
    assert len(result.ranked) == (pd.to_numeric(result.sites["area_ha"]) >= 1).sum() > 0
    assert not result.sites["missed"].str.contains("none in the layers").any()
    strict = match(parse_profile("name: t\nrequirements: {max_distance_to_port_m: 80000}\n"), layers, staged=staged)
    assert len(strict.ranked) == 0 and (strict.sites["check_max_distance_to_port_m"] == "unknown").all()
