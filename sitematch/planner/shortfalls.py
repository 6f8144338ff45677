"""What a site lacks for a profile, per requirement, in words and numbers.

"needs 20 MW more grid capacity", "port 38 km too far", "zoning Z, needs J: a plan change",
"grid capacity unknown: ask the municipality".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.criteria import Criterion, format_value, format_values
from sitematch.profile import Requirement
from sitematch.result import CHECK_PREFIX, SHORTFALL_PREFIX, WHY_PREFIX, MatchResult

#: Category criteria a municipality changes with a detaljplan: a miss on them is "a plan change".
PLAN_CRITERIA = (s.ZONING, s.PLAN_STATUS)
#: Columns of :func:`requirement_gaps`.
GAP_COLUMNS = (
    s.PLOT_ID,
    "profile",
    "requirement",
    "criterion",
    "outcome",
    "value",
    "needed",
    "missing",
    "relative",
    "gap",
)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def gap_words(req: Requirement, value: Any, outcome: str, why: str = "") -> tuple[float, str]:
    """The gap of one site on one failed requirement: (missing amount in the criterion's unit, words).

    The amount is NaN for categories, flags and unknown values.

    Examples
    --------
    >>> from sitematch.profile import Requirement
    >>> gap_words(Requirement("grid_capacity_mw", "min", 40.0, "min_grid_capacity_mw"), 20.0, "failed")
    (20.0, 'needs 20 MW more grid capacity')
    >>> gap_words(Requirement("distance_to_port_m", "max", 80000.0, "max_distance_to_port_m"), 118000.0, "failed")
    (38000.0, 'port 38.0 km too far')
    >>> gap_words(Requirement("zoning", "in", ("J",), "zoning"), "Z", "failed")
    (nan, 'zoning Z, needs J: a plan change')
    """
    c: Criterion = req.criterion
    label = _lower_first(c.label.split(" (")[0].removesuffix(" available"))
    if outcome == "unknown":
        return np.nan, f"{label} unknown: ask the municipality ({_lower_first(req.describe())})"
    if req.numeric:
        x, t = float(value), float(req.value)
        if not np.isfinite(x):
            return np.inf, f"{label}: none within reach ({_lower_first(req.describe())})"
        amount = t - x if req.op == "min" else x - t
        if c.display == "distance":
            what = label.removeprefix("distance to ")
            return amount, f"{what} {format_value(c, amount)} too far"
        if c.display == "class":  # "MIFO risk class 2, needs at least class 3"
            word = "at least" if req.op == "min" else "at most"
            return amount, f"{label.removesuffix(' class')} {format_value(c, x)}, needs {word} {format_value(c, t)}"
        if req.op == "min":
            return amount, f"needs {format_value(c, amount)} more {label}"
        return amount, f"{label} {format_value(c, amount)} over the limit"
    if req.op == "in":
        allowed = ", ".join(sorted(str(v) for v in req.value))
        tail = ": a plan change" if c.name in PLAN_CRITERIA else ""
        return np.nan, f"{label} {value}, needs {allowed}{tail}"
    return np.nan, _lower_first(why) or f"{label}: {value}"


def requirement_gaps(result: MatchResult, plot_ids: pd.Index | None = None) -> pd.DataFrame:
    """Every failed or unknown requirement of every site (or of ``plot_ids``), one row each.

    Parameters
    ----------
    result : MatchResult
        A full evaluation (every requirement checked for every site).
    plot_ids : pandas.Index, optional
        Only these sites.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GAP_COLUMNS`: ``outcome`` is ``failed`` or ``unknown``; ``missing`` the
        amount in the criterion's unit (NaN for categories, flags, unknowns); ``relative`` the
        shortfall as a fraction of the threshold (inf for categories, flags, unknowns);
        ``gap`` the words.
    """
    sites = result.sites
    if plot_ids is not None:
        sites = sites[sites[s.PLOT_ID].astype(str).isin(plot_ids)]
    parts = []
    for req in result.profile.requirements:
        check = sites[f"{CHECK_PREFIX}{req.key}"].astype(object)
        miss = check.isin(("failed", "unknown")).to_numpy(dtype=bool)
        if not miss.any():
            continue
        sub = sites[miss]
        outcome = check[miss].astype(str).to_numpy()
        values = sub[req.column] if req.column in sub.columns else pd.Series(np.nan, index=sub.index)
        amount, words = _gaps(req, values, outcome, sub[f"{WHY_PREFIX}{req.key}"].fillna("").astype(str))
        parts.append(
            pd.DataFrame(
                {
                    s.PLOT_ID: sub[s.PLOT_ID].astype(str).to_numpy(),
                    "profile": result.profile.name,
                    "requirement": req.key,
                    "criterion": req.column,
                    "outcome": outcome,
                    "value": values.to_numpy(dtype=object),
                    "needed": ", ".join(map(str, req.value)) if req.op == "in" else req.value,
                    "missing": amount,
                    "relative": sub[f"{SHORTFALL_PREFIX}{req.key}"].to_numpy(dtype=float),
                    "gap": words,
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GAP_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def _gaps(req: Requirement, values: pd.Series, outcome: np.ndarray, why: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gap_words` for many sites at once (numbers formatted vectorised, words per distinct value)."""
    n = len(values)
    amount = np.full(n, np.nan)
    words = np.full(n, "", dtype=object)
    unknown = outcome == "unknown"
    if unknown.any():
        words[unknown] = gap_words(req, None, "unknown")[1]
    known = ~unknown
    c = req.criterion
    if req.numeric:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        t = float(req.value)
        amount[known] = (t - x if req.op == "min" else x - t)[known]
        finite = known & np.isfinite(x)
        none = known & ~np.isfinite(x)
        if none.any():
            words[none] = gap_words(req, np.inf, "failed")[1]
        if finite.any() and c.display != "class":
            sample = gap_words(req, t + (1.0 if req.op == "max" else -1.0), "failed")[1]
            head, tail = sample.split(format_value(c, 1.0), 1)
            words[finite] = head + pd.Series(format_values(c, amount[finite]), dtype=object) + tail
        elif finite.any():
            for i in np.flatnonzero(finite):
                words[i] = gap_words(req, x[i], "failed")[1]
        return amount, words
    idx = np.flatnonzero(known)
    if len(idx):
        codes, distinct = pd.factorize(values.iloc[idx].astype(str))
        first = np.unique(codes, return_index=True)[1]  # where each distinct value first occurs
        said = np.array(
            [gap_words(req, v, "failed", why.iloc[idx[first[k]]])[1] for k, v in enumerate(distinct)],
            dtype=np.object_,
        )
        words[idx] = said[codes]
    return amount, words
