"""The dossier: one printable HTML page an adviser can send back to the lead.

It states the lead's requirements, lists the shortlist with the reason for every score, the near
misses with what they missed by, and the sources and caveats of the data every number rests on.
No scripts, no external resources: it opens offline and prints (or saves to PDF) from any browser.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from sitematch import schema as s
from sitematch._io import write_text_atomic
from sitematch.criteria import CRITERIA, format_value
from sitematch.result import MatchResult

#: Criteria shown as facts for every shortlisted site, whether or not the profile scores them.
FACT_COLUMNS = (
    s.AREA_HA,
    s.ZONING,
    s.PLAN_STATUS,
    s.OWNER,
    s.GRID_CAPACITY_MW,
    s.DISTANCE_TO_MOTORWAY_JUNCTION_M,
    s.DISTANCE_TO_RAIL_M,
    s.DISTANCE_TO_PORT_M,
    s.LABOUR_POOL_POPULATION,
    s.PRICE_SEK_M2,
)

_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("sitematch.export", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
).get_template("dossier.html.j2")


def _title(row: object) -> str:
    name = row.get(s.NAME)  # type: ignore[attr-defined]
    return str(name) if isinstance(name, str) and name else str(row[s.PLOT_ID])  # type: ignore[index]


def render_dossier(result: MatchResult, *, top_n: int = 10, max_near_misses: int = 15) -> str:
    """Render the dossier of a match as an HTML string.

    Parameters
    ----------
    result : MatchResult
        The match to describe.
    top_n : int
        How many ranked sites to present in full.
    max_near_misses : int
        How many near misses to list.

    Returns
    -------
    str
        A self-contained HTML document.
    """
    names = result.meta.get("municipality_names", {})
    shortlist = []
    for _, row in result.ranked.head(top_n).iterrows():
        facts = [(CRITERIA[c].label, format_value(CRITERIA[c], row.get(c))) for c in FACT_COLUMNS if c in row.index]
        shortlist.append(
            {
                "rank": int(row["rank"]),
                "score": f"{row['score']:.1f}",
                "title": _title(row),
                "plot_id": row[s.PLOT_ID],
                "municipality": names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]),
                "source": row[s.SOURCE],
                "breakdown": result.breakdown(row[s.PLOT_ID]),
                "facts": facts,
            }
        )
    near = [
        {
            "title": _title(row),
            "municipality": names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]),
            "missed": row["missed"],
        }
        for _, row in result.near_misses.head(max_near_misses).iterrows()
    ]
    return _TEMPLATE.render(
        p=result.profile,
        today=dt.date.today().isoformat(),
        n_ranked=len(result.ranked),
        n_sites=len(result.sites),
        n_near=len(result.near_misses),
        outside=result.outside_region,
        shortlist=shortlist,
        near=near,
        sources=result.provenance.to_dict("records"),
    )


def write_dossier(result: MatchResult, path: Path, *, top_n: int = 10) -> Path:
    """Write the dossier of a match to ``path`` (atomically).

    Parameters
    ----------
    result : MatchResult
        The match to describe.
    path : pathlib.Path
        The ``.html`` file to write.
    top_n : int
        How many ranked sites to present in full.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> write_dossier(result, Path("out/battery_plant/dossier.html"))  # doctest: +SKIP
    """
    return write_text_atomic(Path(path), render_dossier(result, top_n=top_n))
