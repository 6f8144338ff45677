"""``exact="all"``: every site's every value, score and rank exact — checked against the reference at 10k."""

from __future__ import annotations

import numpy as np
import pytest

from sitematch.bench.profiles import PROFILES
from sitematch.bench.reference import reference_match
from sitematch.bench.synthetic import synthetic_layers
from sitematch.matching import match, staged_for
from sitematch.profile import parse_profile
from sitematch.result import RANK


@pytest.fixture(scope="module")
def layers():
    return synthetic_layers(10_000, seed=3)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROFILES))
def test_all_exact_equals_the_reference_on_every_site(layers, name: str) -> None:
    """10,000 sites (staged by default): exact='all' gives no bounds, and the reference's values everywhere."""
    profile = parse_profile(PROFILES[name])
    result = match(profile, layers, exact="all")
    ours = result.sites.set_index("plot_id")
    assert ours["exact"].all()
    assert not [c for c in ours.columns if c.startswith(("lower_", "upper_"))]
    in_region = ours.index
    ref = reference_match(layers["plots"], layers, profile).set_index(layers["plots"]["plot_id"]).loc[in_region]
    measured = [
        c for c in ref.columns if c.startswith("distance_to_") or c in ("grid_capacity_mw", "labour_pool_population")
    ]
    assert len(measured) >= 4
    for col in measured:
        a, b = ours[col].to_numpy(float), ref[col].to_numpy(float)
        assert np.isfinite(a).all(), col  # every site measured, none beyond a search
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, err_msg=col)
    assert ours["passed"].tolist() == ref["passed"].tolist()
    passed = ours["passed"].to_numpy(bool)
    assert ours[RANK].notna().to_numpy().tolist() == passed.tolist()  # every passing site ranked exactly
    np.testing.assert_allclose(ours["score"].fillna(-1), ref["score"].astype(float).fillna(-1), atol=1e-6)
    assert ours[passed].sort_values(RANK).index.tolist() == ref[passed].sort_values("rank").index.tolist()


def test_the_default_is_staged_past_the_exact_top(layers) -> None:
    """The default keeps its behaviour: at 10,000 sites the full-measure profile leaves bounds below the top."""
    result = match(parse_profile(PROFILES["full-measure"]), layers)
    assert not result.sites["exact"].all()
    assert result.sites["exact"].sum() >= 1000


def test_exact_modes() -> None:
    assert staged_for("all") is False and staged_for("top") is None
    with pytest.raises(ValueError, match="one of top, all"):
        staged_for("some")
    with pytest.raises(ValueError, match="cannot be staged"):
        staged_for("all", True)


def test_cli_exact_all_writes_every_site_exact(tmp_path, monkeypatch) -> None:
    """`sitematch match --exact all` on the bundled region, staged from 10 sites: every row exact, every pass ranked."""
    import pandas as pd
    from click.testing import CliRunner

    from sitematch import settings
    from sitematch.cli import main

    monkeypatch.setattr(settings, "staged_above", 10)
    monkeypatch.setattr(settings, "exact_top", 1)
    monkeypatch.setattr(settings, "layers_cache_dir", str(tmp_path / "cache"))
    out = tmp_path / "out"
    args = ["match", "scenarios/logistics_warehouse.yaml", "--no-map", "--no-pdf", "--out", str(out)]
    res = CliRunner().invoke(main, [*args, "--exact", "all"])
    assert res.exit_code == 0, res.output
    (csv,) = out.glob("*/ranking.csv")
    table = pd.read_csv(csv)
    assert table["exact"].all()
    assert table.loc[table["passed"], "rank"].notna().all() and table["passed"].sum() >= 2
    assert not [c for c in table.columns if c.startswith(("lower_", "upper_"))]
    bad = CliRunner().invoke(main, [*args, "--exact", "some"])
    assert bad.exit_code == 2 and "'some' is not one of 'top', 'all'" in bad.output
