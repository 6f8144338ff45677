"""The municipality sheet (kommunblad): one page per municipality, in Swedish, for its staff.

Its plots, which kinds of investment each fits, what it lacks, what holds the municipality back
per kind of investment, and its strengths in the region's view. HTML (self-contained, an SVG
map) and, where Chromium is installed, PDF through the dossier's printer. Confidential leads are
named only by their sector.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sitematch import schema as s
from sitematch._io import write_text_atomic
from sitematch.export._svgmap import _Canvas
from sitematch.layers.layerset import LayerSet
from sitematch.planner.fit import FitResult

if TYPE_CHECKING:
    import shapely

_CSS = """
body{font:11pt/1.45 system-ui,sans-serif;color:#1a202c;max-width:60em;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em;margin:.2em 0} h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #cbd5e0}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border-bottom:1px solid #e2e8f0;padding:.3em .4em;
text-align:left;vertical-align:top} th{background:#edf2f7} .muted{color:#4a5568;font-size:.85em}
.fit{color:#276749;font-weight:600} .map svg{max-width:100%;height:auto} ul{margin:.2em 0 .2em 1.2em;padding:0}
@media print{body{margin:0;max-width:none}}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value))


def _lead_name(found: FitResult, profile: str, confidential: set[str]) -> str:
    if profile in confidential:
        return f"konfidentiellt ärende ({found.sectors.get(profile, '')})"
    sector = found.sectors.get(profile, "")
    return f"{profile} ({sector})" if sector else profile


def render_sheet(
    code: str,
    found: FitResult,
    binding: pd.DataFrame,
    overview: pd.DataFrame,
    sites: pd.DataFrame,
    layers: LayerSet | None = None,
    *,
    names: Mapping[str, str] | None = None,
    confidential: set[str] | None = None,
) -> str:
    """One municipality's sheet as a self-contained HTML page.

    Parameters
    ----------
    code : str
        The kommunkod.
    found : FitResult
        Fit of (at least) the municipality's sites.
    binding : pandas.DataFrame
        :attr:`sitematch.planner.GapSummary.binding`.
    overview : pandas.DataFrame
        :func:`sitematch.planner.gaps.municipality_overview`.
    sites : geopandas.GeoDataFrame
        The sites (plot columns, geometry).
    layers : LayerSet, optional
        With it, the sheet has a small map of the plots.
    names, confidential
        Municipality names; profile names shown only by sector.
    """
    names = names or {}
    secret = confidential or set()
    name = names.get(code, code)
    mine = sites[sites[s.MUNICIPALITY_CODE].astype(str) == code].drop_duplicates(s.PLOT_ID)
    t = found.table[found.table[s.MUNICIPALITY_CODE] == code]
    o = overview.loc[[code]].iloc[0] if code in overview.index else None
    out = [
        "<!doctype html><html lang='sv'><head><meta charset='utf-8'>",
        f"<title>Kommunblad — {_e(name)}</title><style>{_CSS}</style></head><body>",
        f"<div class='muted'>sitematch kommunblad · {dt.date.today().isoformat()}</div>",
        f"<h1>{_e(name)} <span class='muted'>{_e(code)}</span></h1>",
    ]
    if o is not None:
        out.append(
            f"<p>{int(o['sites'])} markområden, {o['ha']:.0f} ha. {int(o['fits_sites'])} av dem "
            f"({o['fits_ha']:.0f} ha) "
            f"passar minst en typ av etablering; {int(o['one_miss_sites'])} ({o['one_miss_ha']:.0f} ha) saknar "
            f"bara ett krav för någon. Marken passar {int(o['fits_profiles'])} av {len(found.profiles)} typer av "
            "etableringar.</p>"
        )
    strengths = t[t["passed"]].groupby("profile")["plot_id"].count().sort_values(ascending=False)
    if len(strengths):
        items = "".join(
            f"<li>{_e(_lead_name(found, str(p), secret))}: {n} område{'n' if n != 1 else ''}</li>"
            for p, n in strengths.items()
        )
        out.append(f"<h2>Styrkor: vad marken passar för</h2><ul>{items}</ul>")
    rows = binding[(binding["scope"] == "municipality") & (binding["code"] == code)]
    if len(rows):
        held: list[str] = []
        for r in rows.itertuples():
            n_only = f"{r.only_miss} område{'n' if r.only_miss != 1 else ''}"
            n_excl = f"{r.excluded} område{'n' if r.excluded != 1 else ''}"
            if r.only_miss:
                what = f"{_e(r.requirement_words)} — enda bristen för {r.only_miss_ha:.0f} ha ({n_only})"
            else:
                what = f"{_e(r.requirement_words)} — utesluter {r.excluded_ha:.0f} ha ({n_excl})"
            held.append(f"<li><b>{_e(_lead_name(found, str(r.profile), secret))}</b>: {what}</li>")
        out.append(f"<h2>Vad som håller tillbaka (det avgörande kravet per typ)</h2><ul>{''.join(held)}</ul>")
    by_site: dict[str, list[dict]] = {}
    for rec in t.to_dict("records"):
        by_site.setdefault(str(rec[s.PLOT_ID]), []).append(rec)
    if layers is not None and len(mine):
        marks = [
            (str(i + 1), g, "#276749" if any(r["passed"] for r in by_site.get(str(pid), [])) else "#a0aec0")
            for i, (pid, g) in enumerate(zip(mine[s.PLOT_ID], mine.geometry, strict=True))
        ]
        out.append(f"<div class='map'>{municipality_map(layers, code, marks)}</div>")
    out.append("<h2>Områdena</h2><table><tr><th>#</th><th>område</th><th>ha</th><th>passar</th><th>saknar</th></tr>")
    titles = mine[s.NAME].tolist() if s.NAME in mine.columns else [None] * len(mine)
    for i, (pid, title, area) in enumerate(zip(mine[s.PLOT_ID].astype(str), titles, mine[s.AREA_HA], strict=True)):
        recs = by_site.get(pid, [])
        fit = "".join(
            f"<li class='fit'>{_e(_lead_name(found, r['profile'], secret))} (#{int(r['rank'])})</li>"
            for r in recs
            if r["passed"]
        )
        lack = "".join(
            f"<li>{_e(_lead_name(found, r['profile'], secret))}: {_e(r['lacks'])}</li>"
            for r in [r for r in recs if not r["passed"]][:3]
        )
        out.append(
            f"<tr><td>{i + 1}</td><td>{_e(title or pid)}<div class='muted'>{_e(pid)}</div></td>"
            f"<td>{_e(round(float(area), 1))}</td><td><ul>{fit or '—'}</ul></td>"
            f"<td><ul>{lack}</ul></td></tr>"
        )
    out.append(
        "</table><p class='muted'>Saknar: de tre typer som ligger närmast, minst saknat först (engelska "
        "formuleringar från matchningen). Eldata är indikativa och daterade.</p></body></html>"
    )
    return "".join(out)


def municipality_map(
    layers: LayerSet, code: str, marks: list[tuple[str, shapely.Geometry, str]], width: int = 560
) -> str:
    """An SVG map of one municipality (its neighbours faint) with its plots numbered: (label, geometry, colour)."""
    import numpy as np
    import shapely

    munis = layers.get("municipalities")
    geoms = [g for _, g, _ in marks]
    own = None
    if munis is not None:
        hit = munis[munis[s.MUNICIPALITY_CODE].astype(str) == code]
        own = hit.geometry.iloc[0] if len(hit) else None
    area = own if own is not None else shapely.GeometryCollection(geoms).buffer(5000)
    canvas = _Canvas(tuple(area.buffer(2000).bounds), width, int(width * 0.7))
    if munis is not None:
        near = munis.iloc[munis.sindex.query(canvas.box, predicate="intersects")]
        simple = near.geometry.simplify(150).to_numpy()
        mine = (near[s.MUNICIPALITY_CODE].astype(str) == code).to_numpy()
        canvas.shapes(simple[~mine], 'fill="#f7fafc" stroke="#cbd5e0" stroke-width="0.6"')
        canvas.shapes(simple[mine], 'fill="#ebf4ff" stroke="#4299e1" stroke-width="1.2"')
    for label, geom, colour in reversed(marks):
        point = geom.representative_point()
        canvas.points([point], colour, 6)
        ((x, y),) = canvas.xy(np.array([[point.x, point.y]]))
        canvas.label(x + 7, y + 4, label, 10, "bold")
    canvas.scale_bar()
    return canvas.svg("the municipality's plots")


def write_sheets(
    codes: list[str],
    found: FitResult,
    binding: pd.DataFrame,
    overview: pd.DataFrame,
    sites: pd.DataFrame,
    layers: LayerSet | None,
    folder: Path,
    *,
    names: Mapping[str, str] | None = None,
    confidential: set[str] | None = None,
    pdf: bool = False,
) -> list[Path]:
    """Write ``<kommunkod>.html`` (and ``.pdf`` when ``pdf``) per municipality into ``folder``.

    File names are kommunkoder only (never names from data).
    """
    from sitematch.export.pdf import print_pdf
    from sitematch.profile import Profile

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    tables = dict(tuple(found.table.groupby(s.MUNICIPALITY_CODE)))
    site_groups = dict(tuple(sites.groupby(sites[s.MUNICIPALITY_CODE].astype(str))))
    per = binding[binding["scope"] == "municipality"]
    bindings = dict(tuple(per.groupby("code")))
    for code in codes:
        part = FitResult(
            table=tables.get(code, found.table.iloc[:0]),
            gaps=found.gaps.iloc[:0],
            profiles=found.profiles,
            sectors=found.sectors,
            confidential=found.confidential,
        )
        page = render_sheet(
            code,
            part,
            bindings.get(code, per.iloc[:0]),
            overview,
            site_groups.get(code, sites.iloc[:0]),
            layers,
            names=names,
            confidential=confidential,
        )
        safe = "".join(ch for ch in code if ch.isalnum())[:12] or "kommun"
        written.append(write_text_atomic(folder / f"{safe}.html", page))
        if pdf:
            margin = Profile(name=f"Kommunblad {(names or {}).get(code, code)}", slug=safe)
            written.append(print_pdf(page, folder / f"{safe}.pdf", margin))
    return written
