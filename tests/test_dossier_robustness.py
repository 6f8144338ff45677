"""The dossier's robustness paragraph and chart: rank ranges of the shortlist under ±25 % weights."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitematch.export._robustness import chart, paragraph
from sitematch.robustness import RankRange

ROOT = Path(__file__).resolve().parents[1]


def test_paragraph_and_chart_of_hand_made_ranges() -> None:
    # the 4-site example of test_planner.py's hand computation: s1 #1 (1–2), s3 #2 (1–3), s4 #3 (2–3), s2 #4 (4–4)
    ranges = [
        RankRange("s1", 1, 1, 2, 1, 2),
        RankRange("s3", 2, 1, 3, 1, 3),
        RankRange("s4", 3, 2, 3, 2, 3),
        RankRange("s2", 4, 4, 4, 4, 4),
    ]
    text = paragraph(ranges)
    assert "1 of the top 4 sites keeps its rank" in text  # only s2
    assert "The first site ranges from #1 to #2." in text
    assert "The widest range is #2's: #1–#3" in text  # s3 spans 3 ranks, the others 2 or 1
    svg = chart(ranges, {"s1": "<script>alert(1)</script>"})
    assert svg.count("<circle") == 4 and "<script>" not in svg and "&lt;script&gt;" in svg
    # rank 1 is at the left edge of the plot area (x = 190), rank 4 at the right (520 − 16)
    dots = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert dots == [190.0, 294.7, 399.3, 504.0]  # 190 + k · (504 − 190) / 3, to 0.1


def test_a_shortlist_that_never_moves_says_so() -> None:
    ranges = [RankRange("a", 1, 1, 1, 1, 1), RankRange("b", 2, 2, 2, 2, 2)]
    text = paragraph(ranges)
    assert "2 of the top 2 sites keep their rank" in text and "stays first" in text and "widest" not in text
    assert paragraph([]) == "" and chart([], {}) == ""


@pytest.mark.slow
def test_the_dossier_of_a_bundled_match_has_the_robustness_part() -> None:
    from sitematch import LayerSet, load_profile, match
    from sitematch.export.dossier import render_dossier
    from sitematch.robustness import sensitivity

    result = match(load_profile(ROOT / "scenarios" / "logistics_warehouse.yaml"), LayerSet.from_path(ROOT / "layers"))
    page = render_dossier(result)
    part = re.search(r'<section class="keep" id="robustness">(.*?)</section>', page, re.S)
    assert part is not None
    top = min(10, len(result.ranked))
    assert part.group(1).count("<circle") == top
    stable = sum(r.stable for r in sensitivity(result, top=10, change=0.25, samples=200, seed=0))
    verb = "keeps its" if stable == 1 else "keep their"
    assert f"{stable} of the top {top} sites {verb} rank" in part.group(1)
