"""The obvious geopandas implementation, kept as the yardstick for speed and correctness.

It reads the same declarations as the engine — each criterion's :meth:`~sitematch.criteria.Criterion.spec`
(``{"measure": "nearest", "layer": "ports", "where": [...]}``) — and measures them its own way:
``geopandas.sjoin_nearest`` against the raw (unsplit) layers, ``sjoin`` (dwithin) for radius
aggregates, ``geopandas.overlay`` for polygon overlays, its own parser for ``where`` conditions,
then pandas for constraints, value functions, weights and rank — the code a competent analyst
writes first. It imports none of the engine's measuring or scoring code, so a mistake there cannot
pass both.

``segment_lines=True`` gives the *peer*: the same code with every line layer split into two-point
segments before ``sjoin_nearest`` (a long polyline's bounding box covers half a county, so the
unsplit tree cannot prune) — what a GIS engineer who knows R-trees writes, and the fair yardstick
for speed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile

_COMPARE = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def _filter(layer: gpd.GeoDataFrame, conditions: list[str], params: Mapping[str, float]) -> gpd.GeoDataFrame:
    """Rows meeting every condition, parsed here independently of the engine's parser."""
    keep = pd.Series(True, index=layer.index)
    for cond in conditions:
        column, op, rhs = re.split(r"\s+", cond.strip(), maxsplit=2)
        col = layer[column]
        if op == "in":
            values = [v.strip().strip("'\"") for v in rhs.strip("[]").split(",")]
            keep &= col.astype(str).isin(values) & col.notna()
            continue
        value: Any = params[rhs] if rhs in params else rhs.strip("'\"")
        try:
            value = float(value)
            keep &= _COMPARE[op](pd.to_numeric(col, errors="coerce"), value).fillna(False)
        except ValueError:
            keep &= _COMPARE[op](col.astype(str), value) & col.notna()
    return layer[keep.to_numpy(dtype=bool)]


def segments(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every line of ``layer`` split into two-point segments (points and polygons as they are).

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 0), (1, 1)]), shapely.Point(5, 5)])
    >>> segments(g).geometry.to_wkt().tolist()
    ['POINT (5 5)', 'LINESTRING (0 0, 1 0)', 'LINESTRING (1 0, 1 1)']
    """
    geoms = layer.geometry.explode(index_parts=False).to_numpy()
    lines = shapely.get_type_id(geoms) == 1
    if not lines.any():
        return layer
    coords, owner = shapely.get_coordinates(geoms[lines], return_index=True)
    same = owner[1:] == owner[:-1]  # consecutive vertices of one line make a segment
    starts = np.flatnonzero(same)
    pairs = np.stack([coords[starts], coords[starts + 1]], axis=1)
    parts = shapely.linestrings(pairs)
    others = gpd.GeoSeries(geoms[~lines], crs=layer.crs)
    return gpd.GeoDataFrame(geometry=pd.concat([others, gpd.GeoSeries(parts, crs=layer.crs)], ignore_index=True))


def _nearest(sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> pd.Series:
    if layer.empty:
        return pd.Series(np.inf, index=sites.index)
    joined = gpd.sjoin_nearest(sites[[s.GEOMETRY]], layer[[s.GEOMETRY]], how="left", distance_col="d")
    return joined.groupby(level=0)["d"].min().reindex(sites.index)


def _within(
    sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, radius_m: float, column: str | None, how: str
) -> pd.Series:
    values = layer.assign(_v=1.0 if column is None else pd.to_numeric(layer[column]).fillna(0.0))
    joined = gpd.sjoin(
        sites[[s.GEOMETRY]], values[["_v", s.GEOMETRY]], how="inner", predicate="dwithin", distance=radius_m
    )
    agg = joined.groupby(level=0)["_v"].agg("sum" if how == "count" else how)
    return agg.reindex(sites.index).fillna(0.0)


def _overlay(sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, how: str, column: str | None) -> pd.Series:
    site = sites[[s.GEOMETRY]].assign(_site=np.arange(len(sites)))
    if how == "largest_overlap":
        pieces = gpd.overlay(site, layer[[column, s.GEOMETRY]], how="intersection", keep_geom_type=True)
        pieces["_a"] = pieces.area
        pieces = pieces[pieces["_a"] > 0].sort_values(["_site", "_a"], ascending=[True, False])
        best = pieces.drop_duplicates("_site").set_index("_site")[column]
        return pd.Series(best.reindex(np.arange(len(sites))).to_numpy(), index=sites.index)
    dissolved = layer[[s.GEOMETRY]].dissolve()
    pieces = gpd.overlay(site, dissolved, how="intersection", keep_geom_type=True)
    inside = pieces.assign(_a=pieces.area).groupby("_site")["_a"].sum().reindex(np.arange(len(sites))).fillna(0.0)
    share = (inside.to_numpy() / sites.area.to_numpy()).clip(0, 1)
    return pd.Series(share > 0 if how == "any" else share, index=sites.index)


def reference_features(
    sites: gpd.GeoDataFrame, layers: LayerSet, profile: Profile, *, segment_lines: bool = False
) -> pd.DataFrame:
    """The criteria a profile uses, measured the obvious way (exact, unbounded), from their specs.

    ``segment_lines``: split line layers into segments before nearest-feature joins (the peer).
    """
    params = dict(profile.parameters)
    out = pd.DataFrame(index=sites.index)
    for criterion in profile.criteria:
        spec: dict[str, Any] = criterion.spec()
        name, measure = spec["name"], spec["measure"]
        if measure == "attribute":
            out[name] = sites[spec["column"]]
            continue
        layer = layers.get(spec["layer"])
        if layer is None:
            out[name] = np.nan  # no such layer in the region: unknown
            continue
        layer = _filter(layer, list(spec.get("where", [])), params)
        if measure == "nearest":
            out[name] = _nearest(sites, segments(layer) if segment_lines else layer)
        elif measure == "aggregate":
            out[name] = _within(sites, layer, params[spec["radius_parameter"]], spec.get("column"), spec["how"])
        elif measure == "overlay":
            out[name] = _overlay(sites, layer, spec["how"], spec.get("column"))
        else:
            raise NotImplementedError(f"the reference has no implementation of measure {measure!r}")
    return out


def reference_match(
    sites: gpd.GeoDataFrame, layers: LayerSet, profile: Profile, *, segment_lines: bool = False
) -> pd.DataFrame:
    """Features, pass/fail, score and rank the obvious way (``segment_lines``: the peer).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``: the used feature columns, ``passed``, ``score`` and ``rank``.
    """
    feats = reference_features(sites, layers, profile, segment_lines=segment_lines)
    data = pd.concat(
        [pd.DataFrame(sites.drop(columns=s.GEOMETRY)).drop(columns=feats.columns, errors="ignore"), feats], axis=1
    )
    passed = pd.Series(True, index=data.index)
    for c in profile.requirements:
        v = data[c.criterion.name]
        if c.op == "min":
            ok = pd.to_numeric(v) >= c.value
        elif c.op == "max":
            ok = pd.to_numeric(v) <= c.value
        elif c.op == "in":
            ok = v.astype(str).isin([str(x) for x in c.value])
        else:
            ok = (v.astype("boolean") == c.value).fillna(False)
        ok = ok.astype("boolean").fillna(False).astype(bool) | (
            v.isna() & (c.if_unknown != "fail")
        )  # unknowns: as said
        flag = c.criterion.spec().get("applies_to")
        if flag:  # a requirement that applies only where a flag is set (MIFO classes: brownfield)
            ok |= ~data[flag].astype("boolean").fillna(True).astype(bool)
        passed &= ok
    score = pd.Series(0.0, index=data.index)
    for p in profile.preferences:
        v = data[p.criterion.name]
        if p.scores:
            keys = v.map(lambda x: ("true" if x else "false") if isinstance(x, bool | np.bool_) else str(x))
            val = keys.map({str(k): float(w) for k, w in p.scores.items()}).fillna(0.0)
        else:
            zero, full = p.zero_at, p.full_at
            if zero is None or full is None:  # a numeric preference has both (the profile checks it)
                raise ValueError(f"preference {p.criterion.name!r} has no full_at or zero_at")
            t = ((pd.to_numeric(v) - zero) / (full - zero)).clip(0, 1)
            if p.shape == "logistic":
                k = 10.0
                lo, hi = 1 / (1 + np.exp(k / 2)), 1 / (1 + np.exp(-k / 2))
                t = ((1 / (1 + np.exp(-k * (t - 0.5))) - lo) / (hi - lo)).clip(0, 1)
            val = t.fillna(0.0)
        score += 100.0 * p.weight / profile.total_weight * val
    if not profile.preferences:
        score[:] = 100.0
    data["passed"] = passed.astype(bool)
    data["score"] = score.round(6).where(passed)
    order = data[passed].sort_values(["score", s.PLOT_ID], ascending=[False, True]).index
    data["rank"] = pd.Series(pd.NA, index=data.index, dtype="Int64")
    data.loc[order, "rank"] = np.arange(1, len(order) + 1)
    return data
