"""Planner questions, computed from one full evaluation per profile over all sites.

- :func:`fit`: which leads (profiles) each site fits, and what it lacks for the others.
- :func:`gap_summary` and :func:`smallest_changes`: what holds the region back.
- :func:`assembled_sites`: candidate sites made of neighbouring plots (``assembly:`` in a profile).
- :func:`sensitivity` and :func:`pareto_front`: how robust a shortlist is.

Level 5 (see ARCHITECTURE.md): imports match, evaluate, result, profile, layers and export;
only the CLI and the service import it.
"""

from __future__ import annotations

from sitematch.assembly import assembled_sites
from sitematch.planner.changes import smallest_changes
from sitematch.planner.evaluations import evaluate_profiles
from sitematch.planner.fit import FitResult, fit, opportunity_matrix
from sitematch.planner.gaps import GapSummary, gap_summary
from sitematch.planner.shortfalls import requirement_gaps
from sitematch.robustness import RankRange, pareto_front, sensitivity

__all__ = [
    "FitResult",
    "GapSummary",
    "RankRange",
    "assembled_sites",
    "evaluate_profiles",
    "fit",
    "gap_summary",
    "opportunity_matrix",
    "pareto_front",
    "requirement_gaps",
    "sensitivity",
    "smallest_changes",
]
