"""How robust a shortlist is: rank ranges under weight changes, and the Pareto front of two criteria.

A site's score is linear in the weights: ``score = 100 · V·w / Σw`` with ``V`` the sites' value
scores (0–1 per preference). ``V`` is computed once; each weight change is a matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.errors import SitematchError
from sitematch.result import PASSED, MatchResult
from sitematch.scoring import value_score


@dataclass(frozen=True)
class RankRange:
    """One site's rank now and its best and worst rank when the weights move.

    Attributes
    ----------
    plot_id : str
    rank : int
        Its rank with the profile's weights.
    best_one, worst_one : int
        Best and worst rank when each weight alone moves by ±change.
    best_joint, worst_joint : int
        Best and worst rank over the joint samples (every weight moved at once, uniformly
        within ±change, a fixed seed).
    """

    plot_id: str
    rank: int
    best_one: int
    worst_one: int
    best_joint: int
    worst_joint: int

    @property
    def stable(self) -> bool:
        """Keeps its rank under every change tried."""
        return self.best_one == self.worst_one == self.best_joint == self.worst_joint == self.rank


def value_matrix(result: MatchResult) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The passing sites, their value scores (sites × preferences, 0–1) and the profile's weights."""
    passing = result.sites[result.sites[PASSED].to_numpy(dtype=bool)]
    prefs = result.profile.preferences
    if not prefs:
        raise SitematchError(f"{result.profile.name}: has no preferences; every passing site scores the same")
    values = np.column_stack([value_score(p, passing[p.column]) for p in prefs])
    weights = np.array([p.weight for p in prefs], dtype=float)
    return passing, values, weights


def ranks_under(values: np.ndarray, weights: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) of every site for each row of ``weights`` (k × p); ties by id. Shape (k, n).

    Examples
    --------
    >>> v = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> ranks_under(v, np.array([[2.0, 1.0], [1.0, 2.0]]), np.array(["a", "b"])).tolist()
    [[1, 2], [2, 1]]
    """
    weights = np.atleast_2d(weights)
    scores = np.round(100.0 * (weights @ values.T) / weights.sum(axis=1, keepdims=True), 9)  # k × n
    order_id = np.argsort(np.argsort(ids, kind="stable"), kind="stable")  # position of each id in id order
    out = np.empty(scores.shape, dtype=np.int64)
    for k in range(scores.shape[0]):
        order = np.lexsort((order_id, -scores[k]))
        out[k, order] = np.arange(1, len(order) + 1)
    return out


def sensitivity(
    result: MatchResult, *, top: int = 10, change: float = 0.25, samples: int = 500, seed: int = 0
) -> list[RankRange]:
    """Each of the top sites' rank range when the weights move by ±``change``.

    One at a time: each weight × (1 − change) and × (1 + change), the others as they are. Jointly:
    ``samples`` weight vectors, each weight × a uniform factor in [1 − change, 1 + change],
    drawn with ``seed``. Ranks are among all passing sites.

    Parameters
    ----------
    result : MatchResult
        A match with exact scores for every passing site (a full evaluation).
    top : int
        How many of the best sites to report.
    change : float
        The relative change of a weight (0.25 = ±25 %).
    samples : int
        Joint samples.
    seed : int
        Seed of the joint samples (the same seed gives the same ranges).

    Returns
    -------
    list of RankRange
        Best site first.
    """
    passing, values, w = value_matrix(result)
    ids = passing[s.PLOT_ID].astype(str).to_numpy()
    base = ranks_under(values, w, ids)[0]
    best = np.argsort(base)[:top]
    # Only sites that some weights within ±change can lift to a top site's score can change a top
    # site's rank (every weight vector tried lies in that box); the others stay below every top
    # site under all of them, so ranks among the rivals are ranks among all. At a million passing
    # sites this ranks a few thousand rivals per weight vector, not every site (minutes to a second).
    lower, upper = score_bounds(values, w, change)
    rivals = upper >= lower[best].min() - 1e-6 if len(best) else np.zeros(len(ids), dtype=bool)
    rivals[best] = True
    keep = np.flatnonzero(rivals)
    values, ids, at = values[keep], ids[keep], np.searchsorted(keep, best)
    p = len(w)
    one = np.repeat(w[None, :], 2 * p, axis=0)
    for j in range(p):
        one[2 * j, j] *= 1 - change
        one[2 * j + 1, j] *= 1 + change
    rng = np.random.default_rng(seed)
    joint = w[None, :] * rng.uniform(1 - change, 1 + change, size=(samples, p))
    base_here = base[keep]
    r_one = np.vstack([base_here[None, :], ranks_under(values, one, ids)])
    r_joint = np.vstack([base_here[None, :], ranks_under(values, joint, ids)]) if samples else base_here[None, :]
    return [
        RankRange(
            plot_id=str(ids[i]),
            rank=int(base_here[i]),
            best_one=int(r_one[:, i].min()),
            worst_one=int(r_one[:, i].max()),
            best_joint=int(r_joint[:, i].min()),
            worst_joint=int(r_joint[:, i].max()),
        )
        for i in at
    ]


def score_bounds(values: np.ndarray, weights: np.ndarray, change: float) -> tuple[np.ndarray, np.ndarray]:
    """Each site's lowest and highest score (0–100) over every weight vector within ±``change`` of ``weights``.

    The score ``100 · v·w / Σw`` is linear-fractional in ``w``; over a box it is largest where the
    weights of the values above the optimum are high and the others low — a threshold in the
    site's values sorted high to low — so the ``p + 1`` thresholds give the exact maximum (and,
    mirrored, the minimum).

    Examples
    --------
    >>> lo, hi = score_bounds(np.array([[1.0, 0.0]]), np.array([1.0, 1.0]), 0.5)
    >>> float(lo[0]), float(hi[0])  # 0.5/(0.5+1.5) and 1.5/(1.5+0.5)
    (25.0, 75.0)
    """
    low_w, high_w = weights * (1 - change), weights * (1 + change)
    lower, upper = np.empty(len(values)), np.empty(len(values))
    for start in range(0, len(values), 200_000):  # bounded memory at a million sites
        chunk = values[start : start + 200_000]
        order = np.argsort(-chunk, axis=1, kind="stable")
        v = np.take_along_axis(chunk, order, axis=1)
        lo, hi = low_w[order], high_w[order]
        for first, rest, out, pick in ((hi, lo, upper, np.max), (lo, hi, lower, np.min)):
            # the first m preferences (highest values) weighted ``first``, the others ``rest``, m = 0…p
            num_first, den_first = np.cumsum(first * v, axis=1), np.cumsum(first, axis=1)
            num_rest, den_rest = np.cumsum(rest * v, axis=1), np.cumsum(rest, axis=1)
            all_rest_num, all_rest_den = num_rest[:, -1:], den_rest[:, -1:]
            num = np.hstack([all_rest_num, num_first + all_rest_num - num_rest])
            den = np.hstack([all_rest_den, den_first + all_rest_den - den_rest])
            out[start : start + len(chunk)] = 100.0 * pick(num / den, axis=1)
    return lower, upper


def sensitivity_frame(ranges: list[RankRange]) -> pd.DataFrame:
    """:func:`sensitivity` as a table (one row per site)."""
    return pd.DataFrame([r.__dict__ for r in ranges])


def pareto_front(
    result: MatchResult, x: str, y: str, *, x_higher_better: bool | None = None, y_higher_better: bool | None = None
) -> pd.DataFrame:
    """The passing sites no other passing site beats on both criteria (at least as good on both,
    better on one).

    Parameters
    ----------
    result : MatchResult
    x, y : str
        Two numeric criteria (feature columns), e.g. ``area_ha`` and ``grid_capacity_mw``.
    x_higher_better, y_higher_better : bool, optional
        The direction of each; default the criterion's own (``higher_is_better``).

    Returns
    -------
    pandas.DataFrame
        ``plot_id``, ``x`` and ``y`` of the front, sorted by ``x`` (best first).

    Raises
    ------
    SitematchError
        If a criterion is not a column of the result.
    """
    for c in (x, y):
        if c not in result.sites.columns:
            raise SitematchError(f"no criterion {c!r} in the result (e.g. area_ha, grid_capacity_mw)", option="pareto")
    hx = result.registry[x].higher_is_better if x_higher_better is None and x in result.registry else x_higher_better
    hy = result.registry[y].higher_is_better if y_higher_better is None and y in result.registry else y_higher_better
    passing = result.sites[result.sites[PASSED].to_numpy(dtype=bool)]
    vx = pd.to_numeric(passing[x], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    vy = pd.to_numeric(passing[y], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(vx) & ~np.isnan(vy)
    gx = np.where(ok, vx if hx is not False else -vx, -np.inf)  # "gain": higher is better
    gy = np.where(ok, vy if hy is not False else -vy, -np.inf)
    # sort by gx desc, gy desc: a site is on the front when its gy beats every earlier site's
    order = np.lexsort((-gy, -gx))
    front = []
    best_y = -np.inf
    last = None
    for k in order:
        if not ok[k]:
            continue
        if gy[k] > best_y or (last is not None and gx[k] == gx[last] and gy[k] == gy[last]):
            front.append(k)
            if gy[k] > best_y:
                best_y = gy[k]
            last = k
    rows = passing.iloc[front]
    return pd.DataFrame({s.PLOT_ID: rows[s.PLOT_ID].astype(str).to_numpy(), x: vx[front], y: vy[front]})
