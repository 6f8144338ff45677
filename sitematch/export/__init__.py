"""Exports of a match: the offline map, the tables and the dossier — and one call that writes them all.

The CLI and the web service both call :func:`write_all`; neither holds export logic of its own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sitematch.errors import SitematchError

if TYPE_CHECKING:
    from sitematch.layers.layerset import LayerSet
    from sitematch.profile import Profile
    from sitematch.result import MatchResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportOptions:
    """How exports are written.

    Attributes
    ----------
    csv_dialect : str
        ``"plain"`` (UTF-8, ``,``) or ``"excel"`` (UTF-8 with BOM, ``;``, decimal comma: Excel with
        Swedish settings opens it with a double click); see :mod:`sitematch.export.tables`.
    language : str or None
        ``sv`` or ``en``: the dossier's language (None: the lead's, else English) and, for the
        ``excel`` dialect, the language of the column headers (None: the machine-readable names).
    map_language : str or None
        ``sv`` or ``en``: the map's own words (None: ``language``, else the terminal's); the service
        writes a match's map in the language of the account that ran it.
    """

    csv_dialect: str = "plain"
    language: str | None = None
    map_language: str | None = None


Writer = Callable[["MatchResult", "LayerSet", Path, ExportOptions], Path]


def _csv(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.tables import write_csv

    return write_csv(result, path, dialect=options.csv_dialect, lang=options.language)


def _funnel(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.tables import write_funnel

    return write_funnel(result, path, dialect=options.csv_dialect, lang=options.language)


def _gpkg(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.tables import write_gpkg

    return write_gpkg(result, path)


def _map(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.map import write_map

    return write_map(result, layers, path, lang=options.map_language or options.language)


def _dossier(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.dossier import write_dossier

    return write_dossier(result, path, layers=layers, lang=options.language)


def _pdf(result: MatchResult, layers: LayerSet, path: Path, options: ExportOptions) -> Path:
    from sitematch.export.dossier import dossier_language, render_dossier
    from sitematch.export.pdf import print_pdf

    lang = dossier_language(result, options.language)
    return print_pdf(render_dossier(result, layers, lang=lang), path, result.profile, lang=lang)


#: Every export by name: (file name, writer). Writers are imported when used.
FORMATS: dict[str, tuple[str, Writer]] = {
    "csv": ("ranking.csv", _csv),
    "funnel": ("funnel.csv", _funnel),
    "gpkg": ("ranking.gpkg", _gpkg),
    "map": ("map.html", _map),
    "dossier": ("dossier.html", _dossier),
    "pdf": ("dossier.pdf", _pdf),
}


def default_formats() -> tuple[str, ...]:
    """Every format this machine can write (the PDF needs Chromium; see :mod:`sitematch.export.pdf`)."""
    from sitematch.export.pdf import pdf_available

    return tuple(f for f in FORMATS if f != "pdf" or pdf_available())


def folder_name(profile: Profile) -> str:
    """The output folder of a lead: the profile's file name, or for a confidential lead its reference.

    A confidential lead's folder never carries the profile's file name (which may name the
    company): it is ``lead-<reference>``, or ``lead-<digest>`` without a reference.

    Examples
    --------
    >>> from sitematch.profile import parse_profile
    >>> folder_name(parse_profile("name: x\\nrequirements: {min_area_ha: 1}", slug="northwind_gigafactory"))
    'northwind_gigafactory'
    >>> folder_name(parse_profile("name: x\\nlead: {reference: BS 2026/114, confidential: true}\\n"
    ...                           "requirements: {min_area_ha: 1}", slug="northwind_gigafactory"))
    'lead-BS-2026-114'
    """
    if not profile.lead.confidential:
        return _safe(profile.slug) or "lead"
    return "lead-" + (_safe(profile.lead.reference) or profile.digest()[:8])


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60]


def write_all(
    result: MatchResult,
    layers: LayerSet,
    out_dir: str | Path,
    formats: Iterable[str] | None = None,
    *,
    options: ExportOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write the exports of a match into one folder.

    Parameters
    ----------
    result : MatchResult
        The match.
    layers : LayerSet
        The layers it was matched against (the map draws them).
    out_dir : str or pathlib.Path
        The folder; created if missing. Each file is replaced atomically.
    formats : iterable of str
        Names from :data:`FORMATS` (``csv``, ``funnel``, ``gpkg``, ``map``, ``dossier``, ``pdf``); default
        :func:`default_formats`.
    options : ExportOptions, optional
        How to write them (e.g. the CSV dialect).
    progress : callable, optional
        Called with each file's name as it starts.

    Returns
    -------
    dict of str to pathlib.Path
        The file written for each format.

    Raises
    ------
    SitematchError
        If a format is unknown, or the folder cannot be written.

    Notes
    -----
    Files of the formats not asked for are removed from the folder, so that an old map or PDF
    never lies beside new tables.

    Examples
    --------
    >>> import tempfile
    >>> from sitematch import LayerSet, load_profile, match
    >>> layers = LayerSet.from_path("layers")
    >>> result = match(load_profile("scenarios/battery_plant.yaml"), layers)
    >>> sorted(write_all(result, layers, tempfile.mkdtemp(), ["csv", "dossier"]))
    ['csv', 'dossier']
    """
    wanted = list(default_formats() if formats is None else formats)
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise SitematchError(f"unknown export format(s) {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    target = Path(out_dir)
    written: dict[str, Path] = {}
    try:
        target.mkdir(parents=True, exist_ok=True)
        _write_each(result, layers, target, wanted, options or ExportOptions(), progress, written)
        for fmt, (name, _writer) in FORMATS.items():  # no stale file from an earlier run beside new ones
            if fmt not in wanted and (target / name).is_file():
                (target / name).unlink()
                log.info("removed %s, which this run did not write", target / name)
    except OSError as exc:
        where = exc.filename or target
        raise SitematchError(
            f"{where}: cannot write the results ({exc.strerror or exc})", where=str(where), option="out"
        ) from None
    return written


def _write_each(
    result: MatchResult,
    layers: LayerSet,
    target: Path,
    wanted: list[str],
    options: ExportOptions,
    progress: Callable[[str], None] | None,
    written: dict[str, Path],
) -> None:
    """Each format in turn; both tables together (:func:`sitematch.export.tables.write_tables`:
    their columns taken to Arrow once, the GeoPackage's inserts beside the CSV) when both are wanted."""
    both = "csv" in wanted and "gpkg" in wanted
    for fmt in wanted:
        if fmt in written:
            continue
        name, writer = FORMATS[fmt]
        if both and fmt in ("csv", "gpkg"):
            from sitematch.export.tables import write_tables

            if progress:  # one call per file, as for the others
                progress(FORMATS["csv"][0])
                progress(FORMATS["gpkg"][0])
            written["csv"], written["gpkg"] = write_tables(
                result,
                target / FORMATS["csv"][0],
                target / FORMATS["gpkg"][0],
                dialect=options.csv_dialect,
                lang=options.language,
            )
            log.info("wrote %s and %s", written["csv"], written["gpkg"])
            continue
        if progress:
            progress(name)
        written[fmt] = writer(result, layers, target / name, options)
        log.info("wrote %s", written[fmt])
