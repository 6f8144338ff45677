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
from sitematch.criteria import format_value
from sitematch.result import MatchResult

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
    headline = result.headline()
    shortlist = []
    for _, row in result.ranked.head(top_n).iterrows():
        facts = [(c.label, format_value(c, row.get(c.name))) for c in headline]
        shortlist.append(
            {
                "rank": int(row["rank"]),
                "score": f"{row['score']:.1f}",
                "title": _title(row),
                "plot_id": row[s.PLOT_ID],
                "municipality": result.run.municipality(row[s.MUNICIPALITY_CODE]),
                "source": row[s.SOURCE],
                "breakdown": result.breakdown_row(row),
                "facts": facts,
            }
        )
    near = [
        {
            "title": _title(row),
            "municipality": result.run.municipality(row[s.MUNICIPALITY_CODE]),
            "missed": result.misses(row),
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
    >>> import tempfile
    >>> from sitematch import LayerSet, load_profile, match
    >>> result = match(load_profile("scenarios/data_centre.yaml"), LayerSet.from_path("layers"))
    >>> "CONFIDENTIAL" in write_dossier(result, Path(tempfile.mkdtemp()) / "d.html").read_text()
    True
    """
    return write_text_atomic(Path(path), render_dossier(result, top_n=top_n))
