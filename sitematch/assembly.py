"""Plot assembly: pairs of neighbouring plots offered together to reach a lead's minimum area.

Two plots join when they lie in the same municipality, at most ``assembly.max_gap_m`` apart, have
the same zoning code, and compatible plan statuses (the same status, or both statuses the profile
accepts), and neither alone meets the lead's ``min_area_ha`` while together they do.

An assembled site is one candidate: its geometry is the union of its parts (so every distance is
measured from the union), its id names its parts (``1980:A+1980:B``) and its attributes merge by
these rules: area sums; plan status takes the least certain; price is area-weighted; owner lists
every owner ("kommun+privat"); ready only when every part is; brownfield when any part is; MIFO
risk class the worst (lowest). The single plots stay candidates too.
"""

from __future__ import annotations

import contextlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.profile import Profile

#: The column naming an assembled site's parts ("1980:A, 1980:B"); empty for single plots.
PARTS = "assembled_from"
#: Joins part ids into an assembled site's id.
ID_JOIN = "+"


def _min_area(profile: Profile) -> float | None:
    for r in profile.requirements:
        if r.column == s.AREA_HA and r.op == "min":
            return float(r.value)
    return None


def _allowed_plan_statuses(profile: Profile) -> set[str]:
    for r in profile.requirements:
        if r.column == s.PLAN_STATUS and r.op == "in":
            return {str(v) for v in r.value}
    return set()


def candidate_pairs(sites: gpd.GeoDataFrame, profile: Profile) -> np.ndarray:
    """Index pairs (i < j, positions in ``sites``) that may be assembled; shape (n, 2).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        The plots, in EPSG:3006.
    profile : Profile
        A profile with ``assembly`` and a ``min_area_ha`` requirement (else no pairs).
    """
    need = _min_area(profile)
    if profile.assembly is None or need is None or not len(sites):
        return np.empty((0, 2), dtype=np.intp)
    area = pd.to_numeric(sites[s.AREA_HA], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    small = np.flatnonzero(area < need)  # a plot that meets the area alone needs no partner
    if len(small) < 2:
        return np.empty((0, 2), dtype=np.intp)
    geoms = sites.geometry.to_numpy()[small]
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=profile.assembly.max_gap_m)
    keep = a < b
    i, j = small[a[keep]], small[b[keep]]
    muni = sites[s.MUNICIPALITY_CODE].astype("string").to_numpy(dtype=object, na_value=None)
    zoning = sites[s.ZONING].astype("string").to_numpy(dtype=object, na_value=None)
    plan = sites[s.PLAN_STATUS].astype("string").to_numpy(dtype=object, na_value=None)
    allowed = _allowed_plan_statuses(profile)
    same_muni = (muni[i] == muni[j]) & pd.notna(muni[i])
    same_zoning = (zoning[i] == zoning[j]) & pd.notna(zoning[i])
    plan_ok = ((plan[i] == plan[j]) & pd.notna(plan[i])) | (
        np.isin(plan[i], list(allowed)) & np.isin(plan[j], list(allowed))
    )
    big_enough = area[i] + area[j] >= need
    ok = same_muni & same_zoning & plan_ok & big_enough
    return np.column_stack([i[ok], j[ok]]).astype(np.intp)


def _least_certain(a: Any, b: Any) -> Any:
    order = {v: k for k, v in enumerate(s.PLAN_STATUSES)}  # ingen_plan (least certain) first
    if pd.isna(a) or pd.isna(b):
        return None
    return a if order.get(str(a), -1) <= order.get(str(b), -1) else b


def assembled_sites(sites: gpd.GeoDataFrame, profile: Profile) -> gpd.GeoDataFrame:
    """Assembled candidate sites for a profile with ``assembly:`` (none without it).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        The plots (EPSG:3006).
    profile : Profile

    Returns
    -------
    geopandas.GeoDataFrame
        One row per assembled pair, with the plot columns merged by the module's rules and
        :data:`PARTS` naming the parts; empty (same columns) when there are none.
    """
    pairs = candidate_pairs(sites, profile)
    plot_cols = [c for c in sites.columns if c != sites.geometry.name]
    if not len(pairs):
        return gpd.GeoDataFrame(
            {**{c: pd.Series(dtype=sites[c].dtype) for c in plot_cols}, PARTS: pd.Series(dtype=object)},
            geometry=gpd.GeoSeries([], crs=sites.crs),
            crs=sites.crs,
        )
    i, j = pairs[:, 0], pairs[:, 1]
    a = sites.iloc[i].reset_index(drop=True)
    b = sites.iloc[j].reset_index(drop=True)
    area_a = pd.to_numeric(a[s.AREA_HA], errors="coerce").astype(float)
    area_b = pd.to_numeric(b[s.AREA_HA], errors="coerce").astype(float)
    ids_a, ids_b = a[s.PLOT_ID].astype(str), b[s.PLOT_ID].astype(str)
    out = a.copy()
    out[s.PLOT_ID] = ids_a + ID_JOIN + ids_b
    out[PARTS] = ids_a + ", " + ids_b
    out[s.AREA_HA] = area_a + area_b
    if s.NAME in out:
        out[s.NAME] = a[s.NAME].fillna("").astype(str) + " + " + b[s.NAME].fillna("").astype(str)
    if s.LOCAL_REF in out:
        out[s.LOCAL_REF] = a[s.LOCAL_REF].fillna("").astype(str) + "+" + b[s.LOCAL_REF].fillna("").astype(str)
    if s.PLAN_STATUS in out:
        out[s.PLAN_STATUS] = [_least_certain(x, y) for x, y in zip(a[s.PLAN_STATUS], b[s.PLAN_STATUS], strict=True)]
    if "price_sek_m2" in out:
        pa = pd.to_numeric(a["price_sek_m2"], errors="coerce")
        pb = pd.to_numeric(b["price_sek_m2"], errors="coerce")
        out["price_sek_m2"] = (pa * area_a + pb * area_b) / (area_a + area_b)  # unknown if either is
    if s.OWNER in out:
        out[s.OWNER] = [
            ID_JOIN.join(sorted({str(x) for x in (p, q) if not pd.isna(x)})) or None
            for p, q in zip(a[s.OWNER], b[s.OWNER], strict=True)
        ]
    if s.READY in out:
        out[s.READY] = a[s.READY].astype("boolean") & b[s.READY].astype("boolean")
    if s.BROWNFIELD in out:
        out[s.BROWNFIELD] = a[s.BROWNFIELD].astype("boolean") | b[s.BROWNFIELD].astype("boolean")
    if s.MIFO_RISK_CLASS in out:
        out[s.MIFO_RISK_CLASS] = np.fmin(
            pd.to_numeric(a[s.MIFO_RISK_CLASS], errors="coerce"), pd.to_numeric(b[s.MIFO_RISK_CLASS], errors="coerce")
        )
    geometry = shapely.union(a.geometry.to_numpy(), b.geometry.to_numpy())
    out = out.drop(columns=[sites.geometry.name])
    for c in plot_cols:  # keep the plots' dtypes where the merge allows
        if c in (s.AREA_HA, "price_sek_m2", s.MIFO_RISK_CLASS):
            continue
        with contextlib.suppress(TypeError, ValueError):
            out[c] = out[c].astype(sites[c].dtype)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=sites.crs), crs=sites.crs)


def with_assembled(sites: gpd.GeoDataFrame, profile: Profile) -> gpd.GeoDataFrame:
    """``sites`` and, for a profile with ``assembly:``, its assembled candidates after them (the plots stay).

    :func:`sitematch.match` calls it on the sites of the profile's region, so an assembled site's
    parts are both in the region.
    """
    if profile.assembly is None:
        return sites
    extra = assembled_sites(sites, profile)
    if not len(extra):
        return sites
    return gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True), crs=sites.crs)
