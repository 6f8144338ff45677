"""Write what the planner commands produce: tables (plain or Excel CSV), pictures, maps, sheets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sitematch import schema as s
from sitematch.export.tables import _write_table
from sitematch.layers.layerset import LayerSet
from sitematch.planner.changes import smallest_changes
from sitematch.planner.fit import FitResult, fit, opportunity_matrix
from sitematch.planner.gaps import GapSummary, gap_summary, municipality_overview
from sitematch.result import MatchResult

log = logging.getLogger(__name__)


def site_frame(results: Sequence[MatchResult]) -> gpd.GeoDataFrame:
    """Every site of the results once (assembled ones too), with its plot columns and geometry."""
    cols = [s.PLOT_ID, s.NAME, s.MUNICIPALITY_CODE, s.AREA_HA, s.GEOMETRY]
    frames = [r.sites[[c for c in cols if c in r.sites.columns]] for r in results]
    crs = results[0].sites.crs if results else None
    joined = pd.concat(frames, ignore_index=True).drop_duplicates(s.PLOT_ID) if frames else pd.DataFrame(columns=cols)
    return gpd.GeoDataFrame(joined, geometry=s.GEOMETRY, crs=crs)


def write_fit(
    found: FitResult,
    results: Sequence[MatchResult],
    layers: LayerSet,
    folder: Path,
    *,
    dialect: str = "plain",
    pictures: bool = True,
    with_map: bool = True,
    step: Callable[[str], None] | None = None,
) -> list[Path]:
    """``fit.csv`` (one row per site and profile), ``fit_gaps.csv`` (one per gap),
    ``opportunity_matrix.csv``, ``opportunity_matrix.png`` / ``.svg`` and ``fit_map.html``."""
    from sitematch.planner.figures import heat_map
    from sitematch.planner.maps import fit_map, write_map_html

    say = step or (lambda _n: None)
    folder.mkdir(parents=True, exist_ok=True)
    names = layers.municipality_names
    table = found.table.assign(municipality=found.table[s.MUNICIPALITY_CODE].map(lambda c: names.get(c, c)))
    out = [_write_table(table, folder / "fit.csv", dialect), _write_table(found.gaps, folder / "fit_gaps.csv", dialect)]
    matrix = opportunity_matrix(found).reset_index()
    out.append(_write_table(matrix, folder / "opportunity_matrix.csv", dialect))
    every = site_frame(results)
    sites = every[every[s.PLOT_ID].isin(set(found.table[s.PLOT_ID]))]
    if pictures:
        say("opportunity matrix picture")
        labels = {str(p): f"{p} {_cut(str(n), 28)}" for p, n in zip(sites[s.PLOT_ID], sites[s.NAME], strict=True)}
        out += heat_map(found, [folder / "opportunity_matrix.png", folder / "opportunity_matrix.svg"], labels=labels)
    if with_map:
        say("fit map")
        out.append(
            write_map_html(
                fit_map(found, sites, layers, confidential=found.confidential, parts_of=every), folder / "fit_map.html"
            )
        )
    return out


def write_gaps(
    results: Sequence[MatchResult],
    layers: LayerSet,
    folder: Path,
    *,
    dialect: str = "plain",
    pictures: bool = True,
    with_map: bool = True,
    sheets: bool = True,
    pdf: bool = False,
    step: Callable[[str], None] | None = None,
) -> tuple[GapSummary, pd.DataFrame, list[Path]]:
    """``gaps.csv``, ``binding.csv``, ``changes.csv``, ``municipalities.csv``, ``gaps.png``,
    ``kartbild.html`` and ``sheets/<kommunkod>.html`` (``.pdf`` with ``pdf``).

    Returns the summary, the changes and the files written.
    """
    say = step or (lambda _n: None)
    folder.mkdir(parents=True, exist_ok=True)
    names = dict(layers.municipality_names)
    counties = _county_names(layers)
    say("gap summary")
    summary = gap_summary(results, names, counties)
    changes = smallest_changes(results, layers)
    overview = municipality_overview(results)
    out = [
        _write_table(summary.table, folder / "gaps.csv", dialect),
        _write_table(summary.binding, folder / "binding.csv", dialect),
        _write_table(changes, folder / "changes.csv", dialect),
        _write_table(
            overview.reset_index().assign(municipality=lambda f: f["code"].map(lambda c: names.get(c, c))),
            folder / "municipalities.csv",
            dialect,
        ),
    ]
    if pictures:
        from sitematch.planner.figures import gap_chart

        say("gap chart")
        out.append(gap_chart(summary.binding, summary.table, folder / "gaps.png"))
    confidential = {r.profile.name for r in results if r.profile.lead.confidential}
    sectors = {r.profile.name: r.profile.sector for r in results}
    if with_map:
        from sitematch.planner.maps import kartbild, write_map_html

        say("kartbild")
        m = kartbild(overview, summary.binding, layers, names=names, confidential=confidential, sectors=sectors)
        out.append(write_map_html(m, folder / "kartbild.html"))
    if sheets:
        from sitematch.planner.sheets import write_sheets

        say("municipality sheets")
        found = fit(results)
        out += write_sheets(
            sorted(overview.index),
            found,
            summary.binding,
            overview,
            site_frame(results),
            layers,
            folder / "sheets",
            names=names,
            confidential=confidential,
            pdf=pdf,
        )
    return summary, changes, out


def _county_names(layers: LayerSet) -> dict[str, str]:
    munis = layers.get("municipalities")
    if munis is None or s.COUNTY_CODE not in munis.columns or s.COUNTY_NAME not in munis.columns:
        return {}
    pairs = munis[[s.COUNTY_CODE, s.COUNTY_NAME]].dropna().drop_duplicates(s.COUNTY_CODE)
    return dict(zip(pairs[s.COUNTY_CODE].astype(str), pairs[s.COUNTY_NAME].astype(str), strict=True))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
