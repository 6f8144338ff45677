"""The smallest changes that would open the most land.

- **Grid**: for a ``min_`` requirement on a criterion measured as the *largest* value of a layer's
  features within a radius (grid capacity: the best substation within the connection radius), a
  site whose only miss it is opens when any feature within its radius reaches the threshold. So
  "+X MW at substation S" opens every such site that has S within reach and S's capacity + X at
  or above the threshold. Each substation's distinct upgrade steps are listed with what each opens.
- **Plan change**: for a zoning or plan-status requirement that is a site's only miss: "a plan
  change from Z to J" on the plots of one municipality.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.criteria import format_value
from sitematch.layers.layerset import LayerSet
from sitematch.measures.aggregate import AggregateWithin
from sitematch.planner.shortfalls import PLAN_CRITERIA
from sitematch.result import CHECK_PREFIX, N_MISSED, MatchResult

#: Columns of :func:`smallest_changes`.
CHANGE_COLUMNS = (
    "kind",
    "where",
    "change",
    "amount",
    "unit",
    "plots",
    "plot_ids",
    "profiles",
    "profile_names",
    "ha",
    "pairs",
)


def _only_miss(result: MatchResult, key: str) -> np.ndarray:
    check = result.sites[f"{CHECK_PREFIX}{key}"].astype(object)
    return (check == "failed").to_numpy(dtype=bool) & (result.sites[N_MISSED].to_numpy(dtype=int) == 1)


def _feature_name(gdf: pd.DataFrame) -> np.ndarray:
    if s.NAME in gdf.columns:
        return gdf[s.NAME].fillna("").astype(str).to_numpy(dtype=object)
    return np.array([f"feature {i}" for i in range(len(gdf))], dtype=object)


def grid_upgrades(results: Sequence[MatchResult], layers: LayerSet) -> pd.DataFrame:
    """Every upgrade step of every feature (substation) that would open sites, and what it opens.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHANGE_COLUMNS`; ``amount`` the increase (in the criterion's unit).
    """
    # per feature: list of (need, plot_id, profile, area)
    needs: dict[tuple[str, int], list[tuple[float, str, str, float]]] = defaultdict(list)
    units: dict[tuple[str, int], tuple[str, str]] = {}
    for result in results:
        for req in result.profile.requirements:
            m = req.criterion.measure
            if req.op != "min" or not isinstance(m, AggregateWithin) or m.how != "max" or m.where or not m.column:
                continue
            gdf = layers.get(m.layer)
            if gdf is None or not len(gdf):
                continue
            rows = np.flatnonzero(_only_miss(result, req.key))
            if not len(rows):
                continue
            radius = float(result.profile.parameters[m.radius_parameter])
            cap = gdf[m.column].astype("Float64").fillna(0.0).to_numpy(dtype=float)
            sites = result.sites.iloc[rows]
            tree = shapely.STRtree(gdf.geometry.to_numpy())
            site_i, feat = tree.query(sites.geometry.to_numpy(), predicate="dwithin", distance=radius)
            need = float(req.value) - cap[feat]
            ids = sites[s.PLOT_ID].astype(str).to_numpy()
            area = pd.to_numeric(sites[s.AREA_HA], errors="coerce").fillna(0.0).to_numpy(dtype=float)
            for i, f, n in zip(site_i, feat, need, strict=True):
                if n > 0:
                    needs[(m.layer, int(f))].append((float(n), ids[i], result.profile.name, float(area[i])))
                    units[(m.layer, int(f))] = (req.criterion.name, req.criterion.unit)
    rows_out = []
    for (layer, f), items in needs.items():
        gdf = layers[layer]
        name = _feature_name(gdf)[f]
        crit_name, unit = units[(layer, f)]
        crit = layers.registry[crit_name]
        items.sort()
        for level in sorted({n for n, *_ in items}):
            opened = [it for it in items if it[0] <= level + 1e-9]
            plots = sorted({it[1] for it in opened})
            profiles = sorted({it[2] for it in opened})
            ha = sum({it[1]: it[3] for it in opened}.values())
            rows_out.append(
                (
                    "grid",
                    name,
                    f"+{format_value(crit, level)} at {name} would let {len(plots)} plot"
                    f"{'s' if len(plots) != 1 else ''} pass {len(profiles)} profile{'s' if len(profiles) != 1 else ''}",
                    level,
                    unit,
                    len(plots),
                    ", ".join(plots),
                    len(profiles),
                    "; ".join(profiles),
                    ha,
                    len({(it[1], it[2]) for it in opened}),
                )
            )
    return pd.DataFrame(rows_out, columns=list(CHANGE_COLUMNS))


@dataclass
class _Opened:
    """The plots one plan change would let pass, the profiles they would pass, and (plot, profile) pairs."""

    plots: dict[str, float] = field(default_factory=dict)
    profiles: set[str] = field(default_factory=set)
    pairs: int = 0


def plan_changes(results: Sequence[MatchResult], municipality_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Plan changes (zoning, plan status) that alone would let plots pass, per municipality and change."""
    names = municipality_names or {}
    opened: dict[tuple[str, str, str, str], _Opened] = {}
    for result in results:
        for req in result.profile.requirements:
            if req.op != "in" or req.column not in PLAN_CRITERIA:
                continue
            rows = np.flatnonzero(_only_miss(result, req.key))
            sites = result.sites.iloc[rows]
            target = "/".join(sorted(str(v) for v in req.value))
            for pid, muni, value, area in zip(
                sites[s.PLOT_ID].astype(str),
                sites[s.MUNICIPALITY_CODE].astype(str),
                sites[req.column].astype(str),
                pd.to_numeric(sites[s.AREA_HA], errors="coerce").fillna(0.0),
                strict=True,
            ):
                k = (muni, req.column, value, target)
                entry = opened.setdefault(k, _Opened())
                entry.pairs += 1
                entry.plots[pid] = float(area)
                entry.profiles.add(result.profile.name)
    table = []
    for (muni, column, value, target), e in opened.items():
        plots = e.plots
        profiles = sorted(e.profiles)
        where = names.get(muni, muni)
        what = "zoning" if column == s.ZONING else "plan status"
        n = len(plots)
        them = "them" if n != 1 else "it"
        table.append(
            (
                "plan",
                where,
                f"a plan change ({what} {value} to {target}) on {n} plot{'s' if n != 1 else ''} in {where} "
                f"would let {them} pass {len(profiles)} profile{'s' if len(profiles) != 1 else ''}",
                np.nan,
                "",
                n,
                ", ".join(sorted(plots)),
                len(profiles),
                "; ".join(profiles),
                sum(plots.values()),
                e.pairs,
            )
        )
    return pd.DataFrame(table, columns=list(CHANGE_COLUMNS))


def smallest_changes(results: Sequence[MatchResult], layers: LayerSet) -> pd.DataFrame:
    """Grid upgrades and plan changes that would open land, most opened first, smallest first.

    Parameters
    ----------
    results : sequence of MatchResult
        One full evaluation per profile.
    layers : LayerSet
        The region (for the substations).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHANGE_COLUMNS`, sorted by plots opened (most first), then the size of the
        change (smallest first). A grid row per distinct upgrade step of each substation.
    """
    frames = [grid_upgrades(results, layers), plan_changes(results, dict(layers.municipality_names))]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["_amount"] = out["amount"].fillna(0.0)
    out = out.sort_values(["plots", "profiles", "_amount", "where"], ascending=[False, False, True, True])
    return out.drop(columns="_amount").reset_index(drop=True)


def headline_changes(changes: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """A short list for people: per place, its smallest step and the step opening the most
    (site, profile) pairs; places opening the most first.

    Parameters
    ----------
    changes : pandas.DataFrame
        :func:`smallest_changes`.
    n : int
        Rows at most.
    """
    if changes.empty:
        return changes
    keep = []
    order = changes.groupby("where")["pairs"].max().sort_values(ascending=False, kind="stable").index
    for where in order:
        rows = changes[changes["where"] == where]
        smallest = rows.sort_values(["amount", "pairs"], ascending=[True, False]).index[0]
        most = rows.sort_values(["pairs", "amount"], ascending=[False, True]).index[0]
        keep += [smallest] if smallest == most else [smallest, most]
    return changes.loc[keep].head(n)
