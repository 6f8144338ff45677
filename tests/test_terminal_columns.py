"""The terminal's results table keeps the lead's criteria heaviest first, at any width.

The lead lists its weight-1 preference first and its weight-6 one last; it requires 5 ha. By
weight: grid capacity (6), labour pool (2), rail (1), then area (required, no weight). Whatever
the width, the columns after rank, score and plot are a prefix of that order (then the
municipality): a narrower table drops the lightest column, never a heavier one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sitematch.cli import main, terminal_criteria
from sitematch.profile import parse_profile

LEAD = """\
name: Weighted lead
requirements: {min_area_ha: 5}
preferences:
  distance_to_rail_m: {weight: 1, full_at: 0, zero_at: 5000}
  labour_pool_population: {weight: 2, zero_at: 20000, full_at: 250000}
  grid_capacity_mw: {weight: 6, zero_at: 0, full_at: 100}
"""
ORDER = ["grid", "labour pool", "→ rail", "Area", "municipality"]


def test_criteria_by_weight() -> None:
    names = [c.name for c in terminal_criteria(parse_profile(LEAD))]
    assert names == ["grid_capacity_mw", "labour_pool_population", "distance_to_rail_m", "area_ha"]


@pytest.mark.parametrize("width", [50, 60, 80, 100, 160])
def test_the_heaviest_columns_are_kept_at_any_width(tmp_path: Path, width: int) -> None:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD, encoding="utf-8")
    res = CliRunner(env={"COLUMNS": str(width)}).invoke(
        main, ["match", str(lead), "--no-map", "--no-pdf", "--out", str(tmp_path / "out"), "--top", "5"]
    )
    assert res.exit_code == 0, res.output
    header = next(line for line in res.output.splitlines() if line.startswith("┃"))
    cells = [c.strip() for c in header.strip("┃").split("┃")]
    assert cells[:3] == ["rank", "score", "plot"]
    kept = cells[3:]
    assert all(len(line) <= width for line in res.output.splitlines())
    assert kept == ORDER[: len(kept)], kept
    if width >= 80:
        assert kept[0].startswith("grid") and len(kept) >= 2
