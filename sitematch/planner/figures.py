"""Pictures for planners: the opportunity matrix as a heat map, and the gap chart (matplotlib).

matplotlib is an optional dependency (``pip install 'sitematch[planner]'``); without it the
tables and maps are still written.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sitematch._io import atomic_target
from sitematch.errors import SitematchError
from sitematch.planner.fit import FitResult, misses_matrix, opportunity_matrix

#: Most sites drawn in one heat map (the rest are in the CSV).
MAX_ROWS = 60


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SitematchError(
            "drawing the pictures needs matplotlib", hint="pip install 'sitematch[planner]' (the CSV files are written)"
        ) from None
    return plt


def figures_available() -> bool:
    """Whether matplotlib is installed."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _save(fig: Any, paths: list[Path]) -> list[Path]:
    for path in paths:
        with atomic_target(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=150, bbox_inches="tight", metadata=_metadata(path))
    return paths


def _metadata(path: Path) -> dict[str, Any]:
    # no dates in the files: the same data gives the same picture
    return {"Date": None} if path.suffix == ".svg" else {}


def heat_map(
    found: FitResult, paths: list[Path], *, title: str = "", labels: dict[str, str] | None = None
) -> list[Path]:
    """Draw the opportunity matrix: a row per site, a column per profile; the score where it fits,
    grey with the number of missed requirements where it does not.

    Parameters
    ----------
    found : FitResult
    paths : list of pathlib.Path
        Files to write (``.png``, ``.svg``).
    title : str
    labels : dict, optional
        Row label per plot id (default the plot id).

    Returns
    -------
    list of pathlib.Path
    """
    plt = _pyplot()
    scores = opportunity_matrix(found)
    misses = misses_matrix(found).reindex(index=scores.index)
    order = scores.notna().sum(axis=1).sort_values(ascending=False, kind="stable").index  # most fits first
    scores, misses = scores.loc[order].head(MAX_ROWS), misses.loc[order].head(MAX_ROWS)
    n, k = scores.shape
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * k, 1.4 + 0.28 * n))
    cmap = plt.get_cmap("YlGn").with_extremes(bad="#e2e8f0")
    values = scores.to_numpy(dtype=float, na_value=np.nan)
    missed = misses.to_numpy(dtype=float, na_value=np.nan)
    data = np.ma.masked_invalid(values)
    im = ax.imshow(data, aspect="auto", cmap=cmap, vmin=0, vmax=100)
    for i in range(n):
        for j in range(k):
            v = values[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if v > 60 else "black")
            else:
                miss = missed[i, j]
                ax.text(
                    j,
                    i,
                    f"−{int(miss)}" if not np.isnan(miss) else "",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#4a5568",
                )
    ax.set_xticks(range(k), ["\n".join(textwrap.wrap(str(c), 16)) for c in scores.columns], fontsize=7)
    ax.xaxis.tick_top()
    rows = [(labels or {}).get(str(p), str(p)) for p in scores.index]
    ax.set_yticks(range(n), rows, fontsize=7)
    ax.set_title(
        (title or "Which kinds of investment each site fits") + "\ngrey: does not fit (−N: requirements it misses)",
        fontsize=9,
        pad=44,
        loc="left",
    )
    bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("score where the site fits (0–100)", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    out = _save(fig, paths)
    plt.close(fig)
    return out


def gap_chart(binding: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """Bar chart: per profile, hectares excluded by each requirement, and how much of it has that
    requirement as its only miss (region scope)."""
    plt = _pyplot()
    region = table[table["scope"] == "region"]
    profiles = list(dict.fromkeys(region["profile"]))
    fig, axes = plt.subplots(len(profiles), 1, figsize=(8, 1.2 + 1.5 * len(profiles)), squeeze=False)
    for ax, profile in zip(axes[:, 0], profiles, strict=True):
        rows = region[(region["profile"] == profile) & (region["excluded"] > 0)].sort_values("excluded_ha")
        y = np.arange(len(rows))
        ax.barh(y, rows["excluded_ha"], color="#cbd5e0", label="excludes (with other misses)")
        ax.barh(y, rows["only_miss_ha"], color="#c05621", label="the only miss")
        ax.set_yticks(y, ["\n".join(textwrap.wrap(str(w), 38)) for w in rows["requirement_words"]], fontsize=7)
        ax.set_title(str(profile), fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    axes[-1, 0].set_xlabel("hectares", fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle("What holds the region back: hectares each requirement excludes", fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    _save(fig, [Path(path)])
    plt.close(fig)
    return Path(path)
