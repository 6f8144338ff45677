"""The dossier: the answer an adviser sends back to the lead, as HTML and PDF.

It states the lead's requirements and why few sites pass (the funnel and the binding requirement),
shows an overview map, then for each shortlisted site a small map, its coordinates, the reason
for every point, the key facts with the named nearest features and the sources and dates behind
them, its brownfield / MIFO status and what is still to verify; then the near misses with what
each lacks (or, when none is near, the closest excluded sites), and the data's sources and
caveats. Codes are shown as words (zoning J as "industri / industry (J)"); the facts table of a
site lists the lead's own criteria. No scripts, no external resources: it opens
offline, and prints — "CONFIDENTIAL" on every page for a confidential lead.

Its language is the lead's (``lead: {language: sv}`` in the profile), else English (an investor
reads it); ``lang=`` (the CLI's ``--lang``) overrides both. The template's words come from the
gettext catalogues (:mod:`sitematch.i18n`); numbers and times follow the language (``9,2`` in
Swedish, times in Stockholm time).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from sitematch import schema as s
from sitematch._io import write_text_atomic
from sitematch.criteria import Criterion, format_code, format_value
from sitematch.criteria.format import label_of
from sitematch.export._sitefacts import SCORE_COLOURS, coordinates, coordinates_text, site_status, title_of
from sitematch.export._svgmap import overview_map, site_map
from sitematch.funnel import binding, funnel
from sitematch.i18n import N_, check_language, format_number, format_time, translations
from sitematch.layers.layerset import LayerSet
from sitematch.result import NEAR_MISS, SHORTFALL, MatchResult
from sitematch.scoring import describe


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept beside the region cache (a fresh CLI process skips compiling the
    dossier's template: ~15 ms); a folder that cannot be read or written only costs that time."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _template_cache() -> jinja2.BytecodeCache | None:
    from sitematch.layers.disk_cache import cache_dir

    folder = cache_dir()
    return None if folder is None else _TemplateCache(str(folder.parent / "templates"))


@functools.cache
def _template(lang: str) -> jinja2.Template:
    """The dossier's template with the words, numbers and times of ``lang``."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sitematch.export", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=_template_cache(),
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda value, decimals=1: format_number(value, lang, decimals=decimals)
    env.filters["localtime"] = format_time
    return env.get_template("dossier.html.j2")


def dossier_language(result: MatchResult, lang: str | None = None) -> str:
    """The dossier's language: ``lang`` if given, else the lead's (``lead.language``), else English.

    Raises
    ------
    ValueError
        ``lang`` is neither ``sv`` nor ``en``.
    """
    return check_language(lang) or check_language(getattr(result.profile.lead, "language", "") or None) or "en"


def _layer_sources(result: MatchResult) -> dict[str, str]:
    """Each layer's source and date in a few words, for the facts tables: the catalogue's description
    of the layer, or its one source, or how many sources it has (all listed under Data and caveats)."""
    out: dict[str, str] = {}
    for layer, rows in result.provenance.groupby("layer"):
        about = next((a for a in rows.get("about", pd.Series(dtype=str)).astype(str) if a and a != "nan"), "")
        distinct = list(dict.fromkeys(rows[s.SOURCE].astype(str)))
        words = about or (distinct[0] if len(distinct) == 1 else f"{len(distinct)} sources, see Data and caveats")
        dates = [d for d in rows.get("date", pd.Series(dtype=str)).astype(str) if d and d != "nan"]
        out[str(layer)] = words + (f" ({dates[0]})" if dates else "")
    return out


#: What a requirement does with a site without a value, in words (the template translates them).
IF_UNKNOWN_WORDS = {"fail": N_("excluded"), "pass": N_("passes"), "verify": N_("passes, to verify")}


def _words(c: Criterion, value: object, lang: str = "en") -> str:
    """A value as the dossier shows it: a category's code in words, a number with its unit."""
    return format_code(c, value, lang) if c.kind == "category" else format_value(c, value, lang)


def lead_criteria(result: MatchResult) -> list[Criterion]:
    """The lead's own criteria: its requirements', then its preferences' (each once, profile order)."""
    out: dict[str, Criterion] = {}
    for c in [r.criterion for r in result.profile.requirements] + [p.criterion for p in result.profile.preferences]:
        out.setdefault(c.name, c)
    return list(out.values())


def _fact(
    result: MatchResult, c: Criterion, row: pd.Series, sources: dict[str, str], lang: str = "en"
) -> dict[str, str]:
    names = [row.get(col) for col in c.measure.extra_columns()]
    near = next((str(n) for n in names if isinstance(n, str) and n), "")
    layers = c.measure.layers()
    source = sources.get(layers[0], "") if layers else str(row.get(s.SOURCE, ""))
    return {"label": label_of(c, lang), "value": _words(c, row.get(c.name), lang), "named": near, "source": source}


def _preference_words(p: Any, lang: str = "en") -> str:
    """A preference in words, a score table's codes as words."""
    if lang != "en":
        return str(p.describe(lang))
    if p.scores and p.criterion.kind == "category":
        table = ", ".join(f"{format_code(p.criterion, k)}: {v:g}" for k, v in p.scores.items())
        return f"{p.criterion.label} (weight {p.weight:g}): {table}"
    return str(p.describe())


def _site(
    result: MatchResult, row: pd.Series, layers: LayerSet | None, sources: dict[str, str], lang: str = "en"
) -> dict[str, Any]:
    colour = SCORE_COLOURS(float(row["score"]))[:7]
    named = [row.get(col) for c in result.registry.measured() for col in c.measure.extra_columns()]
    return {
        "rank": int(row["rank"]),
        "score": f"{row['score']:.1f}",
        "title": title_of(row),
        "plot_id": row[s.PLOT_ID],
        "municipality": result.run.municipality(row[s.MUNICIPALITY_CODE]),
        "status": site_status(row, lang),
        "source": row[s.SOURCE],
        "breakdown": [
            {**vars(b), "value": _words(result.registry[b.criterion], row.get(b.criterion), lang)}
            if b.criterion in result.registry and result.registry[b.criterion].kind == "category"
            else vars(b)
            for b in result.breakdown_row(row, lang)
        ],
        "facts": [_fact(result, c, row, sources, lang) for c in lead_criteria(result) if c.name in row.index],
        "plot_facts": " · ".join(
            f"{label_of(c, lang).split(' (')[0]} {_words(c, row.get(c.name), lang)}"
            for c in result.headline()
            if not c.measured
        ),
        "verify": result.to_verify(row, lang),
        "map": Markup(
            site_map(
                row.geometry,
                layers,
                colour=colour,
                label=f"#{int(row['rank'])}",
                named=[n for n in named if isinstance(n, str) and n],
            )
        )
        if layers is not None
        else "",
        "colour": colour,
    }


def render_dossier(
    result: MatchResult,
    layers: LayerSet | None = None,
    *,
    top_n: int = 10,
    max_near_misses: int = 15,
    lang: str | None = None,
) -> str:
    """Render the dossier of a match as an HTML string.

    Parameters
    ----------
    result : MatchResult
        The match to describe.
    layers : LayerSet, optional
        The layers it was matched against; with them the dossier has maps.
    top_n : int
        How many ranked sites to present in full.
    max_near_misses : int
        How many near misses to list at most; at least five sites are always listed, the closest
        excluded ones filling in when fewer are near.
    lang : {"sv", "en"}, optional
        The dossier's language; default the lead's (``lead.language``), else English.

    Returns
    -------
    str
        A self-contained HTML document.
    """
    lang = dossier_language(result, lang)
    sources = _layer_sources(result)
    top = result.ranked.head(top_n)
    where = coordinates(top)
    shortlist = []
    for i, row in top.iterrows():
        site = _site(result, row, layers, sources, lang)
        site["score"] = format_number(float(row["score"]), lang)
        site["where"] = coordinates_text(*where.loc[i, ["e", "n", "lat", "lon"]])
        shortlist.append(site)
    near = [
        {
            "title": title_of(row),
            "plot_id": row[s.PLOT_ID],
            "municipality": result.run.municipality(row[s.MUNICIPALITY_CODE]),
            "missed": result.misses(row, lang),
            "total": f"{float(row[SHORTFALL]) * 100:.0f} %",
            "near": bool(row[NEAR_MISS]),
        }
        for _, row in result.closest(max(5, min(len(result.near_misses), max_near_misses))).iterrows()
    ]
    overview = ""
    if layers is not None and len(top):
        overview = Markup(
            overview_map(
                layers,
                [(str(s_["rank"]), g, s_["colour"]) for s_, g in zip(shortlist, top.geometry, strict=True)],
                region=result.sites.geometry,
            )
        )
    worded = {r.key: describe(r, lang) for r in result.profile.requirements}
    steps = [{**f, "requirement": worded.get(f["key"], f["requirement"])} for f in funnel(result).to_dict("records")]
    why = binding(result)
    from sitematch.export._robustness import robustness

    robust = robustness(result, {str(x["plot_id"]): str(x["title"]) for x in shortlist}, top=top_n, lang=lang)
    return _template(lang).render(
        lang=lang,
        p=result.profile,
        run=result.run,
        today=dt.date.today().isoformat(),
        n_ranked=len(result.ranked),
        n_sites=len(result.sites),
        n_near=len(result.near_misses),
        outside=result.outside_region,
        why=why.sentence(lang) if why else "",
        funnel=steps,
        requirements=[
            {"words": describe(r, lang), "if_unknown": r.if_unknown, "if_unknown_words": IF_UNKNOWN_WORDS[r.if_unknown]}
            for r in result.profile.requirements
        ],
        preferences=[_preference_words(pr, lang) for pr in result.profile.preferences],
        n_criteria=len(lead_criteria(result)),
        overview=overview,
        shortlist=shortlist,
        near=near,
        robust_text=robust["text"],
        robust_chart=Markup(robust["chart"]),
        sources=result.provenance.to_dict("records"),
    )


def write_dossier(
    result: MatchResult, path: Path, *, layers: LayerSet | None = None, top_n: int = 10, lang: str | None = None
) -> Path:
    """Write the dossier of a match to ``path`` (atomically).

    Parameters
    ----------
    result : MatchResult
        The match to describe.
    path : pathlib.Path
        The ``.html`` file to write.
    layers : LayerSet, optional
        The layers it was matched against (for the maps).
    top_n : int
        How many ranked sites to present in full.
    lang : {"sv", "en"}, optional
        The dossier's language; default the lead's, else English.

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
    return write_text_atomic(Path(path), render_dossier(result, layers, top_n=top_n, lang=lang))
