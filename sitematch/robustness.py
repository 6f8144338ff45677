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
    p = len(w)
    one = np.repeat(w[None, :], 2 * p, axis=0)
    for j in range(p):
        one[2 * j, j] *= 1 - change
        one[2 * j + 1, j] *= 1 + change
    rng = np.random.default_rng(seed)
    joint = w[None, :] * rng.uniform(1 - change, 1 + change, size=(samples, p))
    r_one = np.vstack([base[None, :], ranks_under(values, one, ids)])
    r_joint = np.vstack([base[None, :], ranks_under(values, joint, ids)]) if samples else base[None, :]
    best = np.argsort(base)[:top]
    return [
        RankRange(
            plot_id=str(ids[i]),
            rank=int(base[i]),
            best_one=int(r_one[:, i].min()),
            worst_one=int(r_one[:, i].max()),
            best_joint=int(r_joint[:, i].min()),
            worst_joint=int(r_joint[:, i].max()),
        )
        for i in best
    ]


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
