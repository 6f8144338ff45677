"""What the planner's and the municipality's pages show, as plain data (computed once per data change).

Every answer goes through :func:`sitematch.service.planner_cache.kept`, keyed by the data and the
profiles, so a page load after the first reads it. A municipality's views are built from
*anonymised* profiles (:func:`municipality_profiles`): a confidential lead is there only as
"Confidential lead N (sector)", with no name, company, contact, reference or description — the
objects the views are computed from never hold them, so no page, CSV or JSON can show them.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Lead, Profile
from sitematch.result import MatchResult
from sitematch.service.accounts import User
from sitematch.service.planner_cache import kept
from sitematch.service.runs import plain

#: Reads every stored profile (the municipality's views name confidential ones only by sector).
_EVERY = User("(municipality views)", "admin")
Step = Callable[[str], None]


def unique_names(profiles: list[Profile]) -> list[Profile]:
    """The profiles with distinct names (a repeated name gets " (2)", " (3)"…): views are keyed by name."""
    seen: dict[str, int] = {}
    out = []
    for p in profiles:
        n = seen.get(p.name, 0) + 1
        seen[p.name] = n
        out.append(p if n == 1 else dataclasses.replace(p, name=f"{p.name} ({n})"))
    return out


def planner_profiles(svc: Any, user: User) -> list[Profile]:
    """The stored profiles ``user`` may see (the service's visibility rule), with distinct names."""
    return unique_names([p.profile(svc.registry) for p in svc.records.profiles(user)])


def municipality_profiles(svc: Any) -> list[Profile]:
    """Every stored profile as a municipality may see it.

    A lead a municipality may see (see :meth:`sitematch.service.records.Lead.visible_to`) keeps its
    name and sector, without company or contact; a confidential one becomes "Confidential lead N
    (sector)" with no lead details and no description (N by its random id: neutral).
    """
    stored = svc.records.profiles(_EVERY)
    # numbered by their random ids, not by name: the order says nothing about the names
    number = {p.id: i for i, p in enumerate(sorted((p for p in stored if p.confidential), key=lambda p: p.id), 1)}
    out = []
    for one in stored:
        p = one.profile(svc.registry)
        if one.confidential:
            sector = p.sector or "unstated sector"
            p = dataclasses.replace(
                p, name=f"Confidential lead {number[one.id]} ({sector})", description="", lead=Lead(confidential=True)
            )
        else:
            p = dataclasses.replace(p, lead=dataclasses.replace(p.lead, company="", contact=""))
        out.append(p)
    return unique_names(out)


def _site_frame(results: list[MatchResult]) -> Any:
    from sitematch.planner.write import site_frame

    return site_frame(results)


def found_of(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> Any:
    """The fit of every site (:class:`sitematch.planner.FitResult`), kept."""
    from sitematch.planner import fit

    return kept(layers, profiles, "fit", lambda results: fit(results), step)


def summary_of(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> dict[str, Any]:
    """The gap summary, smallest changes, municipality overview and sites, kept."""
    from sitematch.planner import gap_summary, smallest_changes
    from sitematch.planner.gaps import municipality_overview
    from sitematch.planner.write import _county_names

    def build(results: list[MatchResult]) -> dict[str, Any]:
        return {
            "summary": gap_summary(results, layers.municipality_names, _county_names(layers)),
            "changes": smallest_changes(results, layers),
            "overview": municipality_overview(results),
            "sites": _site_frame(results),
            "confidential": {r.profile.name for r in results if r.profile.lead.confidential},
            "sectors": {r.profile.name: r.profile.sector for r in results},
        }

    return kept(layers, profiles, "summary", build, step)


# -- the municipality's views ---------------------------------------------------------------------
def plot_fits(layers: LayerSet, profiles: list[Profile], code: str, step: Step | None = None) -> list[dict[str, Any]]:
    """Per site of municipality ``code``: the leads it fits (rank, score) and what it lacks for the others.

    Failed leads are ordered by how little is missing (as :func:`sitematch.planner.fit` orders them).
    """
    found = found_of(layers, profiles, step)
    t = found.table[found.table[s.MUNICIPALITY_CODE] == code]
    plots = layers["plots"]
    names = dict(zip(plots[s.PLOT_ID].astype(str), plots[s.NAME], strict=True)) if s.NAME in plots else {}
    out = []
    for pid, rows in t.groupby(s.PLOT_ID, sort=True):
        fits = [
            {"lead": r.profile, "sector": r.sector, "rank": int(r.rank), "ranked_of": int(r.ranked_of),
             "score": round(float(r.score), 1)}
            for r in rows[rows["passed"]].itertuples()
        ]  # fmt: skip
        lacks = [
            {"lead": r.profile, "sector": r.sector, "missed": int(r.n_missed), "lacks": str(r.lacks)}
            for r in rows[~rows["passed"]].itertuples()
        ]
        out.append(
            {
                "plot_id": str(pid),
                "name": plain(names.get(str(pid))),
                "area_ha": round(float(rows[s.AREA_HA].iloc[0]), 2),
                "fits": fits,
                "lacks": lacks,
            }
        )
    return out


def fit_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The municipality's fit as one row per (plot, lead), for CSV."""
    flat = []
    for r in rows:
        for f in r["fits"]:
            flat.append({"plot_id": r["plot_id"], "name": r["name"], "area_ha": r["area_ha"], "lead": f["lead"],
                         "sector": f["sector"], "fits": True, "rank": f["rank"], "ranked_of": f["ranked_of"],
                         "score": f["score"], "requirements_missed": 0, "lacks": ""})  # fmt: skip
        for f in r["lacks"]:
            flat.append({"plot_id": r["plot_id"], "name": r["name"], "area_ha": r["area_ha"], "lead": f["lead"],
                         "sector": f["sector"], "fits": False, "rank": None, "ranked_of": None, "score": None,
                         "requirements_missed": f["missed"], "lacks": f["lacks"]})  # fmt: skip
    return pd.DataFrame(flat)


def more_leads(layers: LayerSet, profiles: list[Profile], code: str, step: Step | None = None) -> dict[str, Any]:
    """How municipality ``code``'s land could fit more leads: per lead, the requirements that are the
    only miss for its land (and those that exclude it), and the smallest changes that would open its plots."""
    got = summary_of(layers, profiles, step)
    table = got["summary"].table
    mine = table[(table["scope"] == "municipality") & (table["code"] == code) & (table["excluded"] > 0)]
    leads = []
    for p in profiles:
        rows = mine[mine["profile"] == p.name].sort_values(
            ["only_miss_ha", "excluded_ha", "requirement"], ascending=[False, False, True]
        )
        if rows.empty:
            continue
        leads.append(
            {
                "lead": p.name,
                "sector": p.sector,
                "passing": int(rows["passing"].iloc[0]),
                "sites": int(rows["sites"].iloc[0]),
                "requirements": [
                    {"requirement": r.requirement_words, "only_miss": int(r.only_miss),
                     "only_miss_ha": round(float(r.only_miss_ha), 1), "excluded": int(r.excluded),
                     "excluded_ha": round(float(r.excluded_ha), 1)}
                    for r in rows.itertuples()
                ],
            }
        )  # fmt: skip
    sites = got["sites"]
    own = sites[sites[s.MUNICIPALITY_CODE].astype(str) == code]
    area = dict(
        zip(own[s.PLOT_ID].astype(str), pd.to_numeric(own[s.AREA_HA], errors="coerce").fillna(0.0), strict=True)
    )
    changes = []
    for r in got["changes"].itertuples():
        ids = [i for i in str(r.plot_ids).split(", ") if i in area]
        if ids:
            changes.append(
                {"kind": r.kind, "where": r.where, "change": r.change, "own_plots": len(ids),
                 "own_ha": round(sum(area[i] for i in ids), 1), "plot_ids": ids, "leads": int(r.profiles),
                 "amount": None if pd.isna(r.amount) else float(r.amount)}
            )  # fmt: skip
    changes.sort(key=lambda c: (-c["own_plots"], c["amount"] if c["amount"] is not None else 0.0))
    return {"leads": leads, "changes": changes[:15]}


def municipality_fit_map(layers: LayerSet, profiles: list[Profile], code: str, step: Step | None = None) -> str:
    """The fit map of municipality ``code``'s sites (self-contained HTML), kept."""

    def build(results: list[MatchResult]) -> str:
        from sitematch.export._map_parts import with_csp
        from sitematch.planner import fit
        from sitematch.planner.maps import fit_map

        found = fit(results)
        found.table = found.table[found.table[s.MUNICIPALITY_CODE] == code]
        every = _site_frame(results)
        sites = every[every[s.PLOT_ID].astype(str).isin(set(found.table[s.PLOT_ID]))]
        m = fit_map(found, sites, layers, confidential=found.confidential, parts_of=every)
        return with_csp(m.get_root().render())

    return kept(layers, profiles, f"fit-map:{code}", build, step)


# -- the planner's views --------------------------------------------------------------------------
def kartbild_html(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> str:
    """The kartbild (choropleth per municipality) as one self-contained page, kept."""
    from sitematch.export._map_parts import with_csp
    from sitematch.planner.maps import kartbild

    got = summary_of(layers, profiles, step)

    def build(_results: list[MatchResult]) -> str:
        m = kartbild(got["overview"], got["summary"].binding, layers, names=layers.municipality_names,
                     confidential=got["confidential"], sectors=got["sectors"])  # fmt: skip
        return with_csp(m.get_root().render())

    return kept(layers, profiles, "kartbild", build, step)


def sheets(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> dict[str, str]:
    """Every municipality's sheet (kommunblad) as HTML, by kommunkod, kept."""
    from sitematch.planner.sheets import render_sheet

    got = summary_of(layers, profiles, step)
    found = found_of(layers, profiles, step)

    def build(_results: list[MatchResult]) -> dict[str, str]:
        from sitematch.planner.fit import FitResult

        overview, binding, sites = got["overview"], got["summary"].binding, got["sites"]
        per = binding[binding["scope"] == "municipality"]
        out = {}
        for code in sorted(overview.index):
            part = FitResult(
                table=found.table[found.table[s.MUNICIPALITY_CODE] == code], gaps=found.gaps.iloc[:0],
                profiles=found.profiles, sectors=found.sectors, confidential=found.confidential,
            )  # fmt: skip
            out[str(code)] = render_sheet(
                str(code), part, per[per["code"] == code], overview,
                sites[sites[s.MUNICIPALITY_CODE].astype(str) == code], layers,
                names=layers.municipality_names, confidential=got["confidential"],
            )  # fmt: skip
        return out

    return kept(layers, profiles, "sheets", build, step)


def sheet_pdf(layers: LayerSet, profiles: list[Profile], code: str, step: Step | None = None) -> bytes | None:
    """One municipality's sheet as PDF (printed by Chromium once per data change); None: no such sheet."""
    pages = sheets(layers, profiles, step)
    if code not in pages:
        return None

    def build(_results: list[MatchResult]) -> bytes:
        from sitematch.export.pdf import print_pdf

        margin = Profile(name=f"Kommunblad {layers.municipality_names.get(code, code)}", slug=code)
        with tempfile.TemporaryDirectory(prefix="sitematch-sheet-") as tmp:
            return print_pdf(pages[code], Path(tmp) / f"{code}.pdf", margin).read_bytes()

    return kept(layers, profiles, f"sheet-pdf:{code}", build, step)


def matrix(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> dict[str, Any]:
    """The opportunity matrix as rows (sites that fit at least one profile first), kept."""
    from sitematch.planner.fit import misses_matrix, opportunity_matrix

    found = found_of(layers, profiles, step)

    def build(results: list[MatchResult]) -> dict[str, Any]:
        scores = opportunity_matrix(found)
        misses = misses_matrix(found).reindex(index=scores.index)
        n_fits = scores.notna().sum(axis=1)
        order = pd.DataFrame({"n": n_fits, "best": scores.max(axis=1).fillna(-1)}).sort_values(
            ["n", "best"], ascending=False, kind="stable"
        ).index  # fmt: skip
        sites = _site_frame(results).set_index(s.PLOT_ID)
        names = layers.municipality_names
        values = scores.loc[order].to_numpy(dtype=float)
        missed = misses.loc[order].to_numpy(dtype=float)
        rows = []
        for i, pid in enumerate(order):
            cells = [
                {"score": None if np.isnan(v) else round(float(v)), "missed": None if np.isnan(m) else int(m)}
                for v, m in zip(values[i], missed[i], strict=True)
            ]
            code = str(sites.at[pid, s.MUNICIPALITY_CODE]) if pid in sites.index else ""
            rows.append({"plot_id": str(pid), "name": plain(sites.at[pid, s.NAME]) if pid in sites.index else None,
                         "municipality": names.get(code, code), "fits": int(n_fits[pid]), "cells": cells})  # fmt: skip
        return {"profiles": found.profiles, "rows": rows, "csv": scores.reset_index()}

    return kept(layers, profiles, "matrix", build, step)


def matrix_picture(layers: LayerSet, profiles: list[Profile], suffix: str, step: Step | None = None) -> bytes:
    """The opportunity matrix's heat map (``png`` or ``svg``), kept."""
    from sitematch.planner.figures import heat_map

    found = found_of(layers, profiles, step)

    def build(results: list[MatchResult]) -> bytes:
        sites = _site_frame(results)
        labels = {str(p): f"{p} {str(n)[:28]}" for p, n in zip(sites[s.PLOT_ID], sites[s.NAME].fillna(""), strict=True)}
        with tempfile.TemporaryDirectory(prefix="sitematch-matrix-") as tmp:
            (path,) = heat_map(found, [Path(tmp) / f"opportunity_matrix.{suffix}"], labels=labels)
            return path.read_bytes()

    return kept(layers, profiles, f"matrix-{suffix}", build, step)


#: How the brownfield view sorts, by query value.
BROWNFIELD_SORTS = ("plot", "municipality", "area", "mifo", "fits")


def brownfield_sites(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> list[dict[str, Any]]:
    """Every brownfield site with the leads it fits and the closest it misses (least missing first), kept."""
    found = found_of(layers, profiles, step)

    def build(_results: list[MatchResult]) -> list[dict[str, Any]]:
        plots = layers["plots"]
        sites = plots[plots[s.BROWNFIELD].fillna(False).astype(bool)] if s.BROWNFIELD in plots else plots.iloc[:0]
        t = found.table[found.table[s.PLOT_ID].isin(set(sites[s.PLOT_ID].astype(str)))]
        by_site = dict(tuple(t.groupby(s.PLOT_ID)))
        names = layers.municipality_names
        out = []
        for _, row in sites.sort_values(s.PLOT_ID).iterrows():
            rows = by_site.get(str(row[s.PLOT_ID]), t.iloc[:0])
            code = str(row[s.MUNICIPALITY_CODE])
            mifo = plain(row.get(s.MIFO_RISK_CLASS))
            out.append(
                {
                    "plot_id": str(row[s.PLOT_ID]),
                    "name": plain(row.get(s.NAME)),
                    "code": code,
                    "municipality": names.get(code, code),
                    "area_ha": round(float(row[s.AREA_HA]), 2) if pd.notna(row[s.AREA_HA]) else None,
                    "mifo_risk_class": None if mifo is None else int(mifo),
                    "passes": [
                        {"profile": r.profile, "rank": int(r.rank), "ranked_of": int(r.ranked_of),
                         "score": round(float(r.score), 1)}
                        for r in rows[rows["passed"]].itertuples()
                    ],
                    "closest": [
                        {"profile": r.profile, "missed": int(r.n_missed), "lacks": str(r.lacks)}
                        for r in rows[~rows["passed"]].head(3).itertuples()
                    ],
                }
            )  # fmt: skip
        return out

    return kept(layers, profiles, "brownfield", build, step)


def filter_brownfield(
    sites: list[dict[str, Any]],
    *,
    municipality: str | None = None,
    min_area_ha: float | None = None,
    mifo: int | None = None,
    fits: str | None = None,
    sort: str = "plot",
) -> list[dict[str, Any]]:
    """The brownfield sites that meet the filters, sorted.

    Parameters
    ----------
    municipality : str, optional
        A kommunkod.
    min_area_ha : float, optional
    mifo : int, optional
        Only sites of this MIFO risk class or lower risk (a higher class number; 1 is very high risk).
    fits : str, optional
        ``"any"``: sites that fit at least one lead; a profile name: sites that fit it.
    sort : str
        One of :data:`BROWNFIELD_SORTS` (largest area and most fits first).
    """
    out = [
        b
        for b in sites
        if (not municipality or b["code"] == municipality)
        and (min_area_ha is None or (b["area_ha"] or 0.0) >= min_area_ha)
        and (mifo is None or (b["mifo_risk_class"] is not None and b["mifo_risk_class"] >= mifo))
        and (not fits or (b["passes"] if fits == "any" else any(f["profile"] == fits for f in b["passes"])))
    ]
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "plot": lambda b: b["plot_id"],
        "municipality": lambda b: (b["municipality"], b["plot_id"]),
        "area": lambda b: (-(b["area_ha"] or 0.0), b["plot_id"]),
        "mifo": lambda b: (b["mifo_risk_class"] if b["mifo_risk_class"] is not None else 9, b["plot_id"]),
        "fits": lambda b: (-len(b["passes"]), b["plot_id"]),
    }
    return sorted(out, key=keys[sort])


def brownfield_table(sites: list[dict[str, Any]]) -> pd.DataFrame:
    """The brownfield view as a table for CSV (one row per site)."""
    columns = ["plot_id", "name", "kommunkod", "municipality", "area_ha", "mifo_risk_class", "fits", "closest_misses"]
    rows = []
    for b in sites:
        fits = "; ".join(f"{f['profile']} (#{f['rank']} of {f['ranked_of']}, {f['score']:g})" for f in b["passes"])
        closest = "; ".join(f"{f['profile']}: {f['lacks']}" for f in b["closest"])
        rows.append([b["plot_id"], b["name"], b["code"], b["municipality"], b["area_ha"], b["mifo_risk_class"], fits,
                     closest])  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def brownfield_map(layers: LayerSet, profiles: list[Profile], step: Step | None = None) -> str:
    """The brownfield sites on the fit map (self-contained HTML), kept."""
    found = found_of(layers, profiles, step)

    def build(results: list[MatchResult]) -> str:
        from sitematch.export._map_parts import with_csp
        from sitematch.planner.fit import FitResult
        from sitematch.planner.maps import fit_map

        plots = layers["plots"]
        ids = (
            set(plots.loc[plots[s.BROWNFIELD].fillna(False).astype(bool), s.PLOT_ID].astype(str))
            if s.BROWNFIELD in plots
            else set()
        )
        part = FitResult(table=found.table[found.table[s.PLOT_ID].isin(ids)], gaps=found.gaps.iloc[:0],
                         profiles=found.profiles, sectors=found.sectors, confidential=found.confidential)  # fmt: skip
        every = _site_frame(results)
        m = fit_map(part, every[every[s.PLOT_ID].astype(str).isin(ids)], layers, confidential=found.confidential)
        return with_csp(m.get_root().render())

    return kept(layers, profiles, "brownfield-map", build, step)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV (with a BOM, so Excel reads å, ä, ö), cells that start a formula quoted."""
    safe = frame.copy()
    for c in safe.columns:
        if safe[c].dtype == object:
            safe[c] = safe[c].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
    return ("\ufeff" + safe.to_csv(index=False)).encode("utf-8")
