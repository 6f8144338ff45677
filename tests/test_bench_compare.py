"""The bench's default-mode comparison with the reference: made on partial runs too, never a false "NO"."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitematch.bench.profiles import PROFILES
from sitematch.bench.report import _table
from sitematch.bench.run import Timing, bench_size
from sitematch.profile import parse_profile


def test_a_row_never_compared_says_so_not_no() -> None:
    row = _table([Timing("regional", 1000, sites=1000)])[-1]
    assert "| n/a | n/a |" in row and "NO" not in row
    compared = _table([Timing("regional", 1000, sites=1000, max_distance_diff_m=0.0, same_ranking=False)])[-1]
    assert "| 0.000 | NO |" in compared


@pytest.mark.slow
def test_both_modes_on_a_sample_compare_the_default_result(tmp_path: Path) -> None:
    """Both modes at one size, the reference on a sample: the default result is compared (it was
    let go of before the all-exact run, and the row said "0.000 | NO" without any comparison)."""
    profiles = {"regional": parse_profile(PROFILES["regional"], slug="regional")}
    (row,) = bench_size(3000, profiles, reference_limit=400, repeats=1, work=tmp_path, say=lambda _m: None)
    assert row.compared == 400 < row.sites  # a partial run
    assert row.same_ranking is True and row.max_distance_diff_m <= 1e-6
    assert row.exact_all_same is True
