"""The obvious geopandas implementation, kept as the yardstick for speed and correctness.

``geopandas.sjoin_nearest`` per layer against the raw (unsplit) layers, ``sjoin`` (dwithin)
for radius sums, then pandas for constraints, value functions, weights and rank — the code a
competent analyst writes first. Same semantics as the engine, written independently of it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.features import DISTANCE_FEATURES
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile


def _nearest(sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> pd.Series:
    joined = gpd.sjoin_nearest(sites[[s.GEOMETRY]], layer[[s.GEOMETRY]], how="left", distance_col="d")
    return joined.groupby(level=0)["d"].min().reindex(sites.index)


def _within(sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, radius_m: float, column: str, how: str) -> pd.Series:
    joined = gpd.sjoin(
        sites[[s.GEOMETRY]], layer[[column, s.GEOMETRY]], how="inner", predicate="dwithin", distance=radius_m
    )
    agg = joined.groupby(level=0)[column].agg(how)
    return agg.reindex(sites.index).fillna(0.0)


def reference_features(sites: gpd.GeoDataFrame, layers: LayerSet, profile: Profile) -> pd.DataFrame:
    """The criteria a profile uses, measured the obvious way (exact, unbounded)."""
    used = {c.criterion for c in profile.requirements} | {p.criterion for p in profile.preferences}
    out = pd.DataFrame(index=sites.index)
    for col, kind in DISTANCE_FEATURES.items():
        if col in used:
            out[col] = _nearest(sites, layers[kind])
    if s.DISTANCE_TO_PORT_M in used:
        ports = layers["ports"]
        out[s.DISTANCE_TO_PORT_M] = _nearest(
            sites, ports[ports[s.MAX_DRAUGHT_M] >= profile.parameters.port_min_depth_m]
        )
    if s.DISTANCE_TO_SUBSTATION_M in used:
        out[s.DISTANCE_TO_SUBSTATION_M] = _nearest(sites, layers["substations"])
    if s.GRID_CAPACITY_MW in used:
        out[s.GRID_CAPACITY_MW] = _within(
            sites, layers["substations"], profile.parameters.grid_connection_radius_m, s.AVAILABLE_CAPACITY_MW, "max"
        )
    if s.LABOUR_POOL_POPULATION in used:
        out[s.LABOUR_POOL_POPULATION] = _within(
            sites, layers["places"], profile.parameters.labour_pool_radius_m, s.POPULATION, "sum"
        )
    return out


def reference_match(sites: gpd.GeoDataFrame, layers: LayerSet, profile: Profile) -> pd.DataFrame:
    """Features, pass/fail, score and rank the obvious way.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: the used feature columns, ``passed``, ``score`` and ``rank``.
    """
    feats = reference_features(sites, layers, profile)
    data = pd.concat([pd.DataFrame(sites.drop(columns=s.GEOMETRY)), feats], axis=1)
    passed = pd.Series(True, index=data.index)
    for c in profile.requirements:
        v = data[c.criterion]
        if c.op == "min":
            passed &= pd.to_numeric(v) >= c.value
        elif c.op == "max":
            passed &= pd.to_numeric(v) <= c.value
        elif c.op == "in":
            passed &= v.astype(str).isin([str(x) for x in c.value])
        else:
            passed &= v.astype(bool) == c.value
    score = pd.Series(0.0, index=data.index)
    for p in profile.preferences:
        v = data[p.criterion]
        if p.scores:
            keys = v.map(lambda x: ("true" if x else "false") if isinstance(x, bool | np.bool_) else str(x))
            val = keys.map({str(k): float(w) for k, w in p.scores.items()}).fillna(0.0)
        else:
            t = ((pd.to_numeric(v) - p.zero_at) / (p.full_at - p.zero_at)).clip(0, 1)
            if p.shape == "logistic":
                k = 10.0
                lo, hi = 1 / (1 + np.exp(k / 2)), 1 / (1 + np.exp(-k / 2))
                t = ((1 / (1 + np.exp(-k * (t - 0.5))) - lo) / (hi - lo)).clip(0, 1)
            val = t.fillna(0.0)
        score += 100.0 * p.weight / profile.total_weight * val
    data["passed"] = passed
    data["score"] = score.round(6).where(passed)
    order = data[passed].sort_values(["score", s.PLOT_ID], ascending=[False, True]).index
    data["rank"] = pd.Series(pd.NA, index=data.index, dtype="Int64")
    data.loc[order, "rank"] = np.arange(1, len(order) + 1)
    return data
