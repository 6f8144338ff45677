"""Scoring: hard constraints that explain themselves, absolute value functions, weights, rank.

Everything is a function of one site's own values and the profile: a site's score never depends
on which other sites are in the run (no min–max over today's candidates), so adding or removing a
plot never reorders the others. Ties are broken by ``plot_id``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.criteria import CRITERIA, format_value, format_values
from sitematch.profile import Constraint, Preference, Profile
from sitematch.result import MISSED, N_MISSED, NEAR_MISS, PASSED, RANK, SCORE, SHORTFALL, points_column

#: Steepness of the logistic value function between its breakpoints.
LOGISTIC_STEEPNESS = 10.0


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def value_score(pref: Preference, values: pd.Series) -> np.ndarray:
    """Score each value 0–1 with the preference's absolute value function.

    Numeric: 1 at ``full_at``, 0 at ``zero_at``, linear or logistic in between, clamped outside.
    Category/flag: looked up in ``scores`` (unlisted values score 0). Missing values score 0.

    Parameters
    ----------
    pref : Preference
        The preference.
    values : pandas.Series
        The criterion's values for every site.

    Returns
    -------
    numpy.ndarray
        Scores in [0, 1].

    Examples
    --------
    >>> p = Preference("distance_to_rail_m", 1.0, "linear", full_at=1000, zero_at=5000)
    >>> value_score(p, pd.Series([500.0, 3000.0, 9000.0])).tolist()
    [1.0, 0.5, 0.0]
    """
    if pref.shape == "table":
        if CRITERIA[pref.criterion].kind == "flag":
            keys = values.astype("boolean").map({True: "true", False: "false"})
        else:
            keys = values.astype("string")
        table = {str(k): float(v) for k, v in pref.scores.items()}
        return keys.map(table).astype("float64").fillna(0.0).to_numpy()
    x = _numeric(values)
    assert pref.full_at is not None and pref.zero_at is not None
    t = np.clip((x - pref.zero_at) / (pref.full_at - pref.zero_at), 0.0, 1.0)
    if pref.shape == "logistic":
        k = LOGISTIC_STEEPNESS
        lo, hi = 1 / (1 + np.exp(k / 2)), 1 / (1 + np.exp(-k / 2))
        t = (1 / (1 + np.exp(-k * (t - 0.5))) - lo) / (hi - lo)
        t = np.clip(t, 0.0, 1.0)
    return np.nan_to_num(t, nan=0.0)


def check_constraint(
    c: Constraint, values: pd.Series, cap: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check one hard requirement for every site.

    Parameters
    ----------
    c : Constraint
        The requirement.
    values : pandas.Series
        The criterion's values.
    cap : float, optional
        The distance a bounded search stopped at: an infinite value then means "more than cap".

    Returns
    -------
    fails : numpy.ndarray of bool
    shortfall : numpy.ndarray of float
        How far short, as a fraction of the threshold (0 where it passes, inf for categories).
    text : numpy.ndarray of str
        The miss in words ("" where it passes).
    """
    crit = CRITERIA[c.criterion]
    n = len(values)
    if c.op in ("min", "max"):
        x = _numeric(values)
        t = float(c.value)
        with np.errstate(invalid="ignore", divide="ignore"):
            if c.op == "min":
                fails = ~(x >= t)
                short = np.where(np.isnan(x), np.inf, (t - x) / t if t else np.inf)
            else:
                fails = ~(x <= t)
                short = np.where(np.isnan(x), np.inf, (x - t) / t if t else np.inf)
        short = np.where(fails, short, 0.0)
        text = np.full(n, "", dtype=object)
        need = format_value(crit, t)
        word = "at least" if c.op == "min" else "at most"
        unknown, beyond = fails & np.isnan(x), fails & np.isinf(x)
        text[unknown] = f"{crit.label}: unknown (needs {word} {need})"
        if cap is not None:
            text[beyond] = f"{crit.label} more than {format_value(crit, cap)}, needs {word} {need}"
        else:
            text[beyond] = f"{crit.label}: none in the layers (needs {word} {need})"
        measured = fails & np.isfinite(x)
        if measured.any():  # words for every failing site at once: no Python loop per site
            v = x[measured]
            gap = format_values(crit, np.abs(v - t))
            text[measured] = (
                f"{crit.label} "
                + pd.Series(format_values(crit, v), dtype=object)
                + f", needs {word} {need} ("
                + pd.Series(gap, dtype=object)
                + (" short)" if c.op == "min" else " over)")
            ).to_numpy(dtype=object)
        return fails, short, text
    if c.op == "in":
        allowed = {str(v) for v in c.value}
        vals = values.astype("string")
        fails = ~vals.isin(allowed).fillna(False).to_numpy(dtype=bool)
        words = f"{crit.label} " + vals.fillna("unknown") + f", needs one of {', '.join(sorted(allowed))}"
        text = np.where(fails, words.to_numpy(dtype=object), "").astype(object)
        return fails, np.where(fails, np.inf, 0.0), text
    # op == "eq": a yes/no flag
    want = bool(c.value)
    vals = values.astype("boolean")
    fails = ~(vals == want).fillna(False).to_numpy(dtype=bool)
    if c.criterion == s.BROWNFIELD and not want:
        msg = "brownfield site, and the profile does not allow brownfield"
    else:
        msg = f"{crit.label}: {'no' if want else 'yes'}, needs {'yes' if want else 'no'}"
    text = np.where(fails, msg, "").astype(object)
    return fails, np.where(fails, np.inf, 0.0), text


def append_words(existing: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Join two arrays of miss descriptions with "; ", skipping empty ones (vectorised)."""
    return np.where(text == "", existing, np.where(existing == "", text, existing + "; " + text))


def evaluate(features: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Check hard requirements and score preferences for every site.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per site with the criterion columns the profile uses (see
        :func:`sitematch.features.compute_features`).
    profile : Profile
        The requirements and preferences.

    Returns
    -------
    pandas.DataFrame
        Same index as ``features``: ``passed``, ``n_missed``, ``shortfall``, ``near_miss``,
        ``missed``, one ``points_<criterion>`` per preference, and ``score`` (0–100; NaN where the
        site fails a requirement).
    """
    n = len(features)
    out = pd.DataFrame(index=features.index)
    n_missed = np.zeros(n, dtype=np.int64)
    worst = np.zeros(n)
    texts: list[np.ndarray] = []
    numeric_fail = np.zeros(n, dtype=np.int64)
    for c in profile.requirements:
        fails, short, text = check_constraint(c, features[c.criterion])
        n_missed += fails
        if c.op in ("min", "max"):
            numeric_fail += fails
        worst = np.maximum(worst, short)
        texts.append(text)
    passed = n_missed == 0
    out[PASSED] = passed
    out[N_MISSED] = n_missed
    out[SHORTFALL] = worst
    out[NEAR_MISS] = (n_missed == 1) & (numeric_fail == 1) & (worst <= profile.near_miss_tolerance)
    missed = np.full(n, "", dtype=object)
    for text in texts:
        missed = append_words(missed, text)
    out[MISSED] = pd.Series(missed, index=features.index, dtype="string")
    total_weight = profile.total_weight
    score = np.zeros(n)
    for p in profile.preferences:
        pts = 100.0 * p.weight / total_weight * value_score(p, features[p.criterion]) if total_weight else np.zeros(n)
        out[points_column(p.criterion)] = pts
        score += pts
    if not profile.preferences:
        score = np.full(n, 100.0)  # only requirements: every passing site meets them all
    out[SCORE] = np.where(passed, np.round(score, 6), np.nan)
    return out


def rank(scored: pd.DataFrame) -> pd.Series:
    """Rank passing sites by score (1 = best), ties broken by ``plot_id``; ``<NA>`` for the rest.

    Parameters
    ----------
    scored : pandas.DataFrame
        Must hold ``score``, ``passed`` and ``plot_id``.

    Returns
    -------
    pandas.Series
        Nullable integer ranks, same index as ``scored``.
    """
    passed = scored[scored[PASSED]]
    order = passed.sort_values([SCORE, s.PLOT_ID], ascending=[False, True], kind="mergesort").index
    ranks = pd.Series(pd.NA, index=scored.index, dtype="Int64")
    ranks.loc[order] = np.arange(1, len(order) + 1)
    return ranks.rename(RANK)
