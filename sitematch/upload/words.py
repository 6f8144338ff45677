"""An upload's report in Swedish or English: the problems, notes and summary as a municipality reads them.

The checks (:mod:`sitematch.upload.validate`) write each problem once, in English, with the values it
quotes already shown safely. Where a report is turned into text for people (the municipality's page,
``sitematch plots check`` and ``plots upload``), :func:`message` finds which of the known sentences
(:data:`SENTENCES`, English ids of the catalogues) a message is, and writes it again in the reader's
language with the same quoted values; a message it does not know stays as written (English).

Examples
--------
>>> message("“tio” is not a number", "sv")
'“tio” är inte ett tal'
>>> message("something new", "sv")
'something new'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sitematch.i18n import N_, reword, translations
from sitematch.store.rules import shown

#: The sentences of upload reports, as the checks write them in English (``%(name)s``: a quoted part).
SENTENCES = (
    N_("contains the control or bidi character %(char)s, which can disguise the text: remove it"),
    N_("%(code)s is not a Swedish municipality code (kommunkod, 4 digits, e.g. 1980)"),
    N_("heights (Z) dropped from rows %(rows)s: plots are stored in 2D"),
    N_("measures (M) dropped from rows %(rows)s: plots are stored in 2D"),
    N_(
        "missing required column %(column)s (file columns: %(columns)s); rename it or map it with a "
        "mapping file (columns: {%(key)s: YOUR_COLUMN})"
    ),
    N_("reference %(ref)s appears in rows %(rows)s: references must be unique"),
    N_("%(value)s is not a finite number"),
    N_("%(value)s is not a number"),
    N_(
        "column %(column)s says %(value)s, another municipality's plot: %(code)s uploads its own "
        "plots only (remove the row, or the column)"
    ),
    N_("negative area (%(area)s ha)"),
    N_("%(area)s ha is not a plausible plot area (%(low)s–%(high)s ha)"),
    N_("negative price (%(price)s SEK/m²)"),
    N_("%(value)s is not a MIFO risk class (1 very high – 4 low)"),
    N_("empty; known: %(known)s"),
    N_(
        "unknown value %(value)s; known: %(known)s; add it to the mapping file under values.%(field)s "
        "(e.g. %(example)s)"
    ),
    N_(
        "%(value)s is not yes/no (ja/nej, x, true/false, 1/0); add it to the mapping file under "
        "values.%(field)s (e.g. %(example)s)"
    ),
    N_("no geometry"),
    N_("expected a point from the coordinate columns, got %(kind)s"),
    N_("a %(kind)s, not a polygon: upload the plot's boundary as a polygon"),
    N_("invalid polygon (%(reason)s); fix it in your GIS, or let sitematch repair it"),
    N_("invalid polygon (%(reason)s) that cannot be repaired"),
    N_("row %(row)s: invalid polygon (%(reason)s) repaired with make_valid"),
    N_(
        "lies outside %(name)s (%(code)s), reaching %(km)s km beyond its boundary: is the CRS right, "
        "and is the plot this municipality's?"
    ),
    N_("empty: a plot located by a point needs its area to be drawn"),
    N_("%(area)s ha, but the polygon measures %(measured)s ha (is the column in m²? map it with units: {area_ha: m2})"),
    N_("not kept: %(columns)s (how a store or GIS keeps the rows, not the plots' attributes)"),
    N_(
        "%(n)s columns sitematch does not use; at most %(most)s are kept with the plots: remove the "
        "columns you do not need"
    ),
    N_("%(file)s: refused, nothing was written."),
    N_("measures (M) dropped from the geometries: plots are stored in 2D"),
    N_("located by a point: drawn as a square of its area_ha around it (approximate boundary)"),
    N_("row %(row)s: column %(column)s is not valid WKT"),
    N_("area_ha measured from the polygons (the file has no area column)"),
)


def message(text: str, lang: str) -> str:
    """One problem or note of an upload report in ``lang`` (as written when it is not a known sentence)."""
    return reword(text, SENTENCES, lang)


def report_for_page(report: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A report as JSON data (``ValidationReport.to_json``) with its problems and notes in ``lang``."""
    if not report or lang == "en":
        return report
    out = dict(report)
    out["problems"] = [{**p, "message": message(str(p.get("message", "")), lang)} for p in report.get("problems", [])]
    out["notes"] = [message(str(n), lang) for n in report.get("notes", [])]
    return out


def summary_text(summary: Any, lang: str) -> str:
    """What an upload stored, in one line: ``"1980: 2 nya, 0 uppdaterade, 0 oförändrade"`` in Swedish.

    ``summary`` is an :class:`~sitematch.store.UploadSummary`, or its fields as a dict (the service's answer).
    """
    if lang == "en" and not isinstance(summary, dict):
        return str(summary.describe())
    get: Callable[[str], Any] = summary.get if isinstance(summary, dict) else lambda k: getattr(summary, k)
    _ = translations(lang).gettext
    n = {k: len(get(k) or ()) for k in ("inserted", "updated", "unchanged")}
    parts = [
        _("%(n)s new") % {"n": n["inserted"]},
        _("%(n)s updated") % {"n": n["updated"]},
        _("%(n)s unchanged") % {"n": n["unchanged"]},
    ]
    if get("skipped_rows"):
        parts.append(_("%(n)s invalid rows left out") % {"n": get("skipped_rows")})
    return f"{get('municipality_code')}: " + ", ".join(parts)


def report_text(report: Any, lang: str, option: Callable[[str], str] | None = None) -> str:
    """A :class:`~sitematch.upload.ValidationReport` as a readable table in ``lang`` (English: ``to_text``).

    Parameters
    ----------
    report : ValidationReport
    lang : {"sv", "en"}
    option : callable, optional
        How to name a problem's ``option`` (the CLI's ``--repair``).
    """
    if lang == "en":
        return str(report.to_text(option=option))
    _ = translations(lang).gettext
    said = {"file": report.file, "rows": report.rows, "code": report.municipality_code}
    head = _("%(file)s: %(rows)s rows for municipality %(code)s; ") % said
    if report.ok:
        head += _("valid.")
    else:
        head += _("%(problems)s problem(s) in %(rows)s row(s).") % {
            "problems": len(report.problems),
            "rows": len(report.bad_rows),
        }
    lines = [head]
    if report.problems:
        width = max(len(p.field) for p in report.problems)
        row_word, field_word, problem_word = _("row"), _("field"), _("problem")
        lines.append(f"  {row_word:>5}  {field_word:<{width}}  {problem_word}")
        for p in sorted(report.problems, key=lambda p: (p.row or 0, p.field)):
            fix = f" ({option(p.option)})" if option and p.option else ""
            row = p.row if p.row is not None else _("file")
            lines.append(f"  {row:>5}  {p.field:<{width}}  {message(p.message, lang)}{fix}")
    if report.mapping:
        lines.append("  " + _("columns read (your column → field):"))
        lines.extend(f"    {src} → {c}" for c, src in report.mapping.items())
    if report.extras:
        lines.append("  " + _("kept as extra attributes:"))
        lines.extend(f"    {c}" for c in report.extras)
    if report.translated:
        lines.append("  " + _("values translated:"))
        width = max(len(str(t["field"])) for t in report.translated)
        for t in report.translated:
            rows = _("%(n)s row(s)") % {"n": t["rows"]}
            lines.append(f"    {t['field']:<{width}}  {shown(t['value'])} → {t['to']} ({rows})")
    note = _("note:")
    lines.extend(f"  {note} {message(n, lang)}" for n in report.notes)
    return "\n".join(lines)


def refusal_text(file: str, report: Any, lang: str) -> str:
    """The message of a refused upload (nothing written), with its report, in ``lang``."""
    return _refused(file, lang) + "\n" + report_text(report, lang)


def _refused(file: str, lang: str) -> str:
    return translations(lang).gettext("%(file)s: refused, nothing was written.") % {"file": file}
