"""The dossier's robustness paragraph and chart: how the shortlist's ranks move when the weights do.

From :func:`sitematch.robustness.sensitivity` (each weight ±25 % alone, and all together
by sampling): a sentence a lead can read, and a small SVG (no script) with each top site's rank
now and its range.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from sitematch.errors import SitematchError
from sitematch.i18n import translations
from sitematch.result import MatchResult
from sitematch.robustness import RankRange, sensitivity

#: The relative weight change the dossier tries (±25 %).
CHANGE = 0.25
#: Joint samples (a fixed seed: the same match gives the same paragraph).
SAMPLES = 200


def rank_ranges(result: MatchResult, top: int = 10) -> list[RankRange]:
    """The top sites' rank ranges under ±25 % weights; empty when there is nothing to vary.

    Nothing to vary: fewer than two passing sites, a profile without preferences (every passing
    site scores the same), or a single preference (moving it alone changes no order).
    """
    if len(result.ranked) < 2 or len(result.profile.preferences) < 2:
        return []
    try:
        ranges = sensitivity(result, top=top, change=CHANGE, samples=SAMPLES, seed=0)
    except (SitematchError, ValueError):
        return []
    return ranges


def paragraph(ranges: list[RankRange], lang: str = "en") -> str:
    """The robustness of a shortlist in a sentence or two (plain text, in ``lang``)."""
    if not ranges:
        return ""
    _ = translations(lang).gettext
    n = len(ranges)
    stable = sum(r.stable for r in ranges)
    widest = max(ranges, key=lambda r: (r.worst_joint - r.best_joint, -r.rank))
    first = ranges[0]
    said = {"change": f"{CHANGE * 100:.0f}", "samples": SAMPLES, "stable": stable, "n": n}
    if stable == 1:
        lead = _(
            "When each weight moves by ±%(change)s %% (one at a time, and all together in %(samples)s random draws), "
            "%(stable)s of the top %(n)s sites keeps its rank."
        )
    else:
        lead = _(
            "When each weight moves by ±%(change)s %% (one at a time, and all together in %(samples)s random draws), "
            "%(stable)s of the top %(n)s sites keep their rank."
        )
    words = [lead % said]
    if first.best_joint == first.worst_joint == 1:
        words.append(_("The first site stays first under every change tried."))
    else:
        words.append(
            _("The first site ranges from #%(best)s to #%(worst)s.")
            % {"best": first.best_joint, "worst": first.worst_joint}
        )
    if widest.worst_joint > widest.best_joint:
        words.append(
            _(
                "The widest range is #%(rank)s's: #%(best)s–#%(worst)s; sites whose ranges "
                "overlap are as good as each other within the uncertainty of the weights."
            )
            % {"rank": widest.rank, "best": widest.best_joint, "worst": widest.worst_joint}
        )
    return " ".join(words)


def chart(ranges: list[RankRange], titles: dict[str, str], width: int = 520, lang: str = "en") -> str:
    """A small SVG: per site a row with its rank range (all weights together: light; one at a time: dark) and
    its rank now (a dot). Rank 1 on the left."""
    if not ranges:
        return ""
    worst = max(r.worst_joint for r in ranges)
    left, right, row_h, top = 190, 16, 18, 22
    height = top + row_h * len(ranges) + 8
    span = max(worst - 1, 1)

    def x(rank: float) -> float:
        return left + (rank - 1) / span * (width - left - right)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="'
        + html.escape(translations(lang).gettext("rank ranges of the shortlist under weight changes"))
        + '" font-family="sans-serif" '
        'font-size="10">'
    ]
    ticks = sorted({1, worst, *np.linspace(1, worst, min(worst, 6)).round().astype(int).tolist()})
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{height - 6}" stroke="#e2e8f0"/>')
        out.append(f'<text x="{x(t):.1f}" y="{top - 8}" text-anchor="middle" fill="#4a5568">#{t}</text>')
    for i, r in enumerate(ranges):
        y = top + i * row_h + row_h / 2
        label = f"#{r.rank} {titles.get(r.plot_id, r.plot_id)}"
        label = label if len(label) <= 32 else label[:31] + "…"
        out.append(f'<text x="{left - 8}" y="{y + 3.5:.1f}" text-anchor="end">{html.escape(label)}</text>')
        out.append(
            f'<line x1="{x(r.best_joint):.1f}" y1="{y:.1f}" x2="{x(r.worst_joint):.1f}" y2="{y:.1f}" '
            'stroke="#90cdf4" stroke-width="8" stroke-linecap="round"/>'
        )
        out.append(
            f'<line x1="{x(r.best_one):.1f}" y1="{y:.1f}" x2="{x(r.worst_one):.1f}" y2="{y:.1f}" '
            'stroke="#2b6cb0" stroke-width="3" stroke-linecap="round"/>'
        )
        out.append(f'<circle cx="{x(r.rank):.1f}" cy="{y:.1f}" r="3.5" fill="#1a202c"/>')
    out.append("</svg>")
    return "".join(out)


def robustness(result: MatchResult, titles: dict[str, str], top: int = 10, lang: str = "en") -> dict[str, Any]:
    """The dossier's robustness part: ``text`` and ``chart`` (both empty when there is nothing to vary), in ``lang``."""
    ranges = rank_ranges(result, top)
    return {"text": paragraph(ranges, lang), "chart": chart(ranges, titles, lang=lang), "ranges": ranges}


__all__ = ["chart", "paragraph", "rank_ranges", "robustness"]
