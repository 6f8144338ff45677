"""What holds the region back: per requirement, the sites and hectares it excludes on its own
and as the only miss — per profile, for the region, each county and each municipality."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.result import CHECK_PREFIX, N_MISSED, PASSED, MatchResult

#: Columns of :attr:`GapSummary.table`.
SUMMARY_COLUMNS = (
    "profile",
    "requirement",
    "requirement_words",
    "scope",
    "code",
    "area_name",
    "sites",
    "sites_ha",
    "passing",
    "passing_ha",
    "excluded",
    "excluded_ha",
    "only_miss",
    "only_miss_ha",
)
SCOPES = ("region", "county", "municipality")


@dataclass
class GapSummary:
    """The gap summary of a set of profiles.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (profile, requirement, scope, area), columns :data:`SUMMARY_COLUMNS`:
        ``excluded`` — sites that fail the requirement (whatever else they miss: the sites it
        excludes on its own); ``only_miss`` — sites that fail it and nothing else (meeting it
        would make them pass); ``_ha`` the hectares of those sites; ``sites``/``passing`` the
        sites in the area and those that meet every requirement.
    binding : pandas.DataFrame
        Per profile and area (region, counties, municipalities): the binding requirement — the
        one that is the only miss for the most hectares (or, where no site misses only one, the
        one that excludes the most hectares) — with its figures and a sentence.
    """

    table: pd.DataFrame
    binding: pd.DataFrame


def _outcomes(result: MatchResult) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    sites = result.sites
    fails = {}
    for req in result.profile.requirements:
        check = sites[f"{CHECK_PREFIX}{req.key}"].astype(object)
        fails[req.key] = check.isin(("failed", "unknown")).to_numpy(dtype=bool)
    return sites, fails


def gap_summary(
    results: Sequence[MatchResult],
    municipality_names: Mapping[str, str] | None = None,
    county_names: Mapping[str, str] | None = None,
) -> GapSummary:
    """Count, per requirement, the sites and hectares it excludes on its own and as the only miss.

    Parameters
    ----------
    results : sequence of MatchResult
        One full evaluation per profile (see :func:`sitematch.planner.evaluate_profiles`).
    municipality_names, county_names : mapping, optional
        Names by kommunkod and länskod, for the ``area_name`` column.

    Returns
    -------
    GapSummary
    """
    munis = dict(municipality_names or {})
    counties = dict(county_names or {})
    rows = []
    for result in results:
        sites, fails = _outcomes(result)
        area = pd.to_numeric(sites[s.AREA_HA], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        passed = sites[PASSED].to_numpy(dtype=bool)
        one = sites[N_MISSED].to_numpy(dtype=int) == 1
        code = sites[s.MUNICIPALITY_CODE].astype(str).to_numpy()
        groups = {
            "region": np.full(len(sites), "region", dtype=object),
            "county": np.array([c[:2] for c in code], dtype=object),
            "municipality": code.astype(object),
        }
        for req in result.profile.requirements:
            miss = fails[req.key]
            frame = pd.DataFrame(
                {
                    "sites": 1,
                    "sites_ha": area,
                    "passing": passed.astype(int),
                    "passing_ha": np.where(passed, area, 0.0),
                    "excluded": miss.astype(int),
                    "excluded_ha": np.where(miss, area, 0.0),
                    "only_miss": (miss & one).astype(int),
                    "only_miss_ha": np.where(miss & one, area, 0.0),
                }
            )
            for scope in SCOPES:
                agg = frame.groupby(groups[scope]).sum()
                for key, r in agg.iterrows():
                    name = (
                        "region"
                        if scope == "region"
                        else counties.get(str(key), str(key))
                        if scope == "county"
                        else munis.get(str(key), str(key))
                    )
                    rows.append((result.profile.name, req.key, req.describe(), scope, str(key), name, *r.to_list()))
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for c in ("sites", "passing", "excluded", "only_miss"):
        table[c] = table[c].astype(int)
    return GapSummary(table=table, binding=_binding(table))


def _binding(table: pd.DataFrame) -> pd.DataFrame:
    """The binding requirement per (profile, scope, area)."""
    if table.empty:
        return table.assign(sentence=pd.Series(dtype=object))
    t = table[table["excluded"] > 0].sort_values(
        ["only_miss_ha", "only_miss", "excluded_ha", "excluded", "requirement"],
        ascending=[False, False, False, False, True],
    )
    best = t.groupby(["profile", "scope", "code"], sort=False).head(1).copy()

    def sentence(r: pd.Series) -> str:
        where = "the region" if r["scope"] == "region" else r["area_name"]
        if r["only_miss"]:
            return (
                f"{r['requirement_words']} is the only miss for {r['only_miss_ha']:.1f} ha "
                f"({r['only_miss']} site{'s' if r['only_miss'] != 1 else ''}) in {where} for {r['profile']}"
            )
        return (
            f"{r['requirement_words']} excludes {r['excluded_ha']:.1f} ha ({r['excluded']} sites) in {where} "
            f"for {r['profile']} (no site misses only one requirement)"
        )

    best["sentence"] = best.apply(sentence, axis=1) if len(best) else pd.Series(dtype=object)
    return best.sort_values(["profile", "scope", "code"]).reset_index(drop=True)


def municipality_overview(results: Sequence[MatchResult]) -> pd.DataFrame:
    """Per municipality: its sites and hectares, those fitting at least one profile, and those one
    requirement away from some profile (and fitting none).

    Returns
    -------
    pandas.DataFrame
        Indexed by kommunkod: ``sites``, ``ha``, ``fits_sites``, ``fits_ha``, ``one_miss_sites``,
        ``one_miss_ha``, ``fits_profiles`` (how many profiles at least one of its sites fits).
    """
    frames = []
    for r in results:
        sites = r.sites
        frames.append(
            pd.DataFrame(
                {
                    "plot_id": sites[s.PLOT_ID].astype(str).to_numpy(),
                    "code": sites[s.MUNICIPALITY_CODE].astype(str).to_numpy(),
                    "ha": pd.to_numeric(sites[s.AREA_HA], errors="coerce").fillna(0.0).to_numpy(dtype=float),
                    "fits": sites[PASSED].to_numpy(dtype=bool),
                    "one": sites[N_MISSED].to_numpy(dtype=int) == 1,
                    "profile": r.profile.name,
                }
            )
        )
    if not frames:
        return pd.DataFrame()
    long = pd.concat(frames, ignore_index=True)
    per_site = long.groupby("plot_id").agg(
        code=("code", "first"), ha=("ha", "first"), fits=("fits", "any"), one=("one", "any")
    )
    per_site["one"] &= ~per_site["fits"]
    out = per_site.groupby("code").agg(
        sites=("ha", "size"),
        ha=("ha", "sum"),
        fits_sites=("fits", "sum"),
        one_miss_sites=("one", "sum"),
    )
    out["fits_ha"] = per_site[per_site["fits"]].groupby("code")["ha"].sum().reindex(out.index).fillna(0.0)
    out["one_miss_ha"] = per_site[per_site["one"]].groupby("code")["ha"].sum().reindex(out.index).fillna(0.0)
    out["fits_profiles"] = long[long["fits"]].groupby("code")["profile"].nunique().reindex(out.index).fillna(0)
    return out.astype({"fits_profiles": int})
