"""Rank ranges from the rivals only (sites that can reach a top site's score) equal those from every site."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sitematch import robustness
from sitematch.robustness import ranks_under, score_bounds, sensitivity


def _every_site(values: np.ndarray, w: np.ndarray, ids: np.ndarray, top: int, change: float, samples: int, seed: int):
    """The rank ranges computed over every site (what sensitivity did before it ranked rivals only)."""
    base = ranks_under(values, w, ids)[0]
    p = len(w)
    one = np.repeat(w[None, :], 2 * p, axis=0)
    for j in range(p):
        one[2 * j, j] *= 1 - change
        one[2 * j + 1, j] *= 1 + change
    joint = w[None, :] * np.random.default_rng(seed).uniform(1 - change, 1 + change, size=(samples, p))
    r_one = np.vstack([base[None, :], ranks_under(values, one, ids)])
    r_joint = np.vstack([base[None, :], ranks_under(values, joint, ids)])
    return [
        (
            str(ids[i]),
            int(base[i]),
            int(r_one[:, i].min()),
            int(r_one[:, i].max()),
            int(r_joint[:, i].min()),
            int(r_joint[:, i].max()),
        )
        for i in np.argsort(base)[:top]
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_ranges_from_rivals_equal_those_from_every_site(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, p = 4000, 4
    values = np.round(rng.beta(2, 5, size=(n, p)), 2)  # many ties, a long tail of weak sites
    values[:30] = np.round(rng.uniform(0.6, 1.0, size=(30, p)), 1)  # a crowd at the top that trades places
    w = np.array([3.0, 2.0, 1.0, 1.0])
    ids = np.array([f"S{i:05d}" for i in rng.permutation(n)])
    passing = pd.DataFrame({"plot_id": ids})
    monkeypatch.setattr(robustness, "value_matrix", lambda _result: (passing, values, w))
    ranked_rows: list[int] = []
    real = robustness.ranks_under

    def counted(v: np.ndarray, weights: np.ndarray, i: np.ndarray) -> np.ndarray:
        ranked_rows.append(len(v))
        return real(v, weights, i)

    monkeypatch.setattr(robustness, "ranks_under", counted)
    got = [
        (r.plot_id, r.rank, r.best_one, r.worst_one, r.best_joint, r.worst_joint)
        for r in sensitivity(None, top=10, change=0.25, samples=200, seed=seed)  # type: ignore[arg-type]
    ]
    assert got == _every_site(values, w, ids, 10, 0.25, 200, seed)
    assert any(lo != hi for _, _, lo, hi, _, _ in got)  # ranks do move: the test compares something
    assert ranked_rows[0] == n and max(ranked_rows[1:]) < n / 4  # after the base ranks, rivals only


def test_score_bounds_hold_every_weight_in_the_box() -> None:
    rng = np.random.default_rng(5)
    values, w = rng.uniform(0, 1, size=(300, 5)), np.array([1.0, 4.0, 2.0, 0.5, 3.0])
    lower, upper = score_bounds(values, w, 0.25)
    vertices = np.array(np.meshgrid(*[[0.75, 1.25]] * 5)).reshape(5, -1).T * w  # every corner of the box
    scores = 100 * (values @ vertices.T) / vertices.sum(axis=1)
    assert np.allclose(lower, scores.min(axis=1)) and np.allclose(upper, scores.max(axis=1))  # the extremes are corners
