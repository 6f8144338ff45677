"""Importers for the Swedish national sources and OpenStreetMap: ``sitematch layers import <source> FILE…``.

Importers are registered by name in one table, the way pygeoapi registers its plugins; each is
one module, found by discovery (:mod:`sitematch.importers._registry`), or named from outside the
package by its dotted path (``mypackage.myimporter``). An importer reads its source's files, maps
the source's own fields to sitematch's canonical columns through an editable mapping (its
``default_mapping``, overridden by a YAML file), fills ``source``, ``licence`` and the source's
date, reprojects from any Swedish CRS to EPSG:3006 and reports what it dropped or could not map.
:func:`import_files` then writes the layers into a region folder and creates or updates its
catalogue (``layers.yaml``) with the layers and the criteria they bring, so
``sitematch match lead.yaml --layers FOLDER`` runs on them.

See ``docs/importers.md`` for each source: what it reads, the mapping, what it writes, the licence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitematch.importers._base import ImportedLayer, Importer, ImportReport, Progress, SourceError

#: Names re-exported from :mod:`sitematch.importers._base`, imported on first use (the CLI's
#: ``--help`` lists the sources without loading geopandas).
_BASE_NAMES = ("ImportedLayer", "Importer", "ImportReport", "Progress", "SourceError", "read_mapping")


def __getattr__(name: str) -> Any:
    if name in _BASE_NAMES:
        from sitematch.importers import _base

        return getattr(_base, name)
    raise AttributeError(f"module 'sitematch.importers' has no attribute {name!r}")


log = logging.getLogger(__name__)


def importer_names() -> list[str]:
    """The registered importers' names (importing every importer module of the package)."""
    from sitematch.importers._registry import discover

    return list(discover())


def describe_importers() -> list[tuple[str, str, str]]:
    """(name, title, kinds written) of every registered importer, for help texts."""
    from sitematch.importers._registry import discover

    return [(name, cls.title, ", ".join(cls.writes)) for name, cls in sorted(discover().items())]


def importer_class(name: str) -> type[Importer]:
    """The importer registered under ``name``, or named by a dotted path (``package.module[:Class]``).

    Raises
    ------
    SourceError
        If no importer has that name, or the dotted path names none.

    Examples
    --------
    >>> importer_class("ebh").licence
    'CC0 (Länsstyrelserna, EBH-stödet)'
    """
    from sitematch._plugins import is_dotted, load_dotted
    from sitematch.importers._base import Importer, SourceError
    from sitematch.importers._registry import discover

    table = discover()
    if name in table:
        return table[name]
    if is_dotted(name):
        return load_dotted(name, Importer, "an importer", SourceError)
    raise SourceError(
        f"no importer called {name!r}; the sources are: {', '.join(table)} (or an importer's dotted path, "
        "e.g. mypackage.myimporter)"
    )


def import_files(
    source: str,
    files: list[Path] | tuple[Path, ...],
    out: Path,
    *,
    mapping: Path | Mapping[str, Any] | None = None,
    crs: str | int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a source's files into the region folder ``out``.

    Parameters
    ----------
    source : str
        An importer's name (:func:`importer_names`), or its dotted path (``mypackage.myimporter``).
    files : list of pathlib.Path
        The source's files.
    out : pathlib.Path
        The region folder: layer files are written there and its ``layers.yaml`` created or updated.
    mapping : pathlib.Path or mapping, optional
        A mapping (YAML file, or the same as data) laid over the importer's default mapping.
    crs : str or int, optional
        The CRS of files that declare none (``3011``, ``"EPSG:3021"``).
    progress : callable, optional
        Called as ``progress(what, done, total)`` while reading.

    Returns
    -------
    ImportReport
        What was read, written, dropped and left unmapped, and the criteria added.

    Raises
    ------
    SourceError
        If the source, a file or the mapping cannot be used.
    LayerError, CRSError, CatalogueError
        If a layer or the catalogue would be invalid (nothing is written then).

    Examples
    --------
    >>> import tempfile
    >>> region = Path(tempfile.mkdtemp())
    >>> csv = region / "capacity.csv"
    >>> _ = csv.write_text("station;effekt_uttag;datum\\nKungsör;0;2025-05-01\\n", encoding="utf-8")
    >>> import_files("capacity", [csv], region)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sitematch.importers._base.SourceError: ... no substations to join the capacity records to...
    """
    from sitematch.crs import parse_crs
    from sitematch.importers._base import ImportReport, SourceError, read_mapping

    cls = importer_class(source)
    if not files:
        raise SourceError(f"{source}: give at least one file to import ({', '.join(cls.suffixes)})")
    if isinstance(mapping, str | Path):
        mapping = read_mapping(Path(mapping), cls.allowed_mapping_keys())
    report = ImportReport(source)
    importer = cls(mapping, parse_crs(crs) if crs is not None else None, progress, report)
    step = progress or (lambda _what, _done, _total: None)
    step(f"reading {source}", 0, None)
    layers: list[ImportedLayer] = importer.read([Path(f) for f in files], Path(out))
    if not layers:
        raise SourceError(f"{source}: found nothing to import in {', '.join(str(f) for f in files)}")
    _date_layers(layers, importer.date_from, report)
    from sitematch.importers._region import write_region

    write_region(Path(out), layers, report, progress=step)
    return report


def _date_layers(layers: list[ImportedLayer], date_from: str, report: ImportReport) -> None:
    """Every layer dated: by the source (or mapping) where it gives a date, else by the import day; say which."""
    import datetime as dt

    for layer in layers:
        if layer.date:
            layer.date_from = layer.date_from or date_from or "the source"
        else:
            layer.date = dt.date.today().isoformat()
            layer.date_from = "import day"
        where = (
            "the import day: the source states no date (give 'date' in a mapping)"
            if layer.date_from == "import day"
            else f"from {layer.date_from}"
        )
        report.note(f"{layer.kind} dated {layer.date}, {where}")


__all__ = [
    "ImportReport",
    "ImportedLayer",
    "Importer",
    "SourceError",
    "describe_importers",
    "import_files",
    "importer_class",
    "importer_names",
]
