"""Municipalities upload available plots: read, map, validate whole, then store all or nothing.

:func:`check_file` is the dry run (a report, nothing written); :func:`upload_file` writes only a
file with no problem at all, unless ``accept_valid`` asks to write the valid rows alone. A refused
upload never touches the store (a store that does not exist yet is not created).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from sitematch import schema as s
from sitematch.errors import UploadError
from sitematch.store.base import PlotStore, UploadSummary, check_municipality_code, check_text_arguments, now_iso
from sitematch.store.rules import Checked
from sitematch.upload.mapping import ColumnMapping
from sitematch.upload.readers import read_upload
from sitematch.upload.validate import ValidationReport, validate_checked

logger = logging.getLogger(__name__)

DEFAULT_LICENCE = "supplied by the municipality"


def _prepare(
    path: Path, municipality_code: str, crs: str | None, mapping: Any, boundaries: gpd.GeoDataFrame | None, repair: bool
) -> tuple[gpd.GeoDataFrame, ValidationReport, Checked]:
    code = check_municipality_code(str(municipality_code).strip())
    mapping = ColumnMapping.load(mapping)  # a bad mapping file is refused before the upload is read
    raw, notes = read_upload(path, crs=crs)
    return validate_checked(
        raw,
        municipality_code=code,
        filename=Path(path).name,
        mapping=mapping,
        boundaries=boundaries,
        repair=repair,
        notes=notes,
    )


def check_file(
    path: str | Path,
    *,
    municipality_code: str,
    crs: str | None = None,
    mapping: str | Path | dict[str, Any] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    repair: bool = False,
) -> ValidationReport:
    """Validate an upload without writing anything (the dry run).

    Parameters
    ----------
    path : str or pathlib.Path
        The file (GeoPackage, zipped Shapefile, GeoJSON, CSV, KML, GML).
    municipality_code : str
        The uploading municipality's kommunkod.
    crs : str, optional
        CRS for a file that declares none.
    mapping : path, dict or None
        Column mapping (see :mod:`sitematch.upload.mapping`).
    boundaries : geopandas.GeoDataFrame, optional
        Municipal boundaries for the inside check (default: SCB's).
    repair : bool
        Repair invalid polygons instead of refusing them.

    Returns
    -------
    ValidationReport
        Exactly the problems :func:`upload_file` would refuse the file for.

    Raises
    ------
    UploadError
        If the file cannot be read at all.

    Examples
    --------
    >>> report = check_file("docs/examples/tomter_1980.csv", municipality_code="1980")
    >>> report.ok, report.rows
    (True, 2)
    """
    return _prepare(Path(path), municipality_code, crs, mapping, boundaries, repair)[1]


def upload_file(
    store: PlotStore,
    path: str | Path,
    *,
    municipality_code: str,
    uploader: str,
    crs: str | None = None,
    mapping: str | Path | dict[str, Any] | None = None,
    accept_valid: bool = False,
    boundaries: gpd.GeoDataFrame | None = None,
    repair: bool = False,
    licence: str = DEFAULT_LICENCE,
    on_report: Callable[[ValidationReport], None] | None = None,
) -> UploadSummary:
    """Validate an upload whole, then write it to the store in one transaction.

    Parameters
    ----------
    store : PlotStore
        Where the plots go.
    path : str or pathlib.Path
        The file.
    municipality_code : str
        The uploading municipality's kommunkod; every plot must lie inside it.
    uploader : str
        Who uploads (kept in the history).
    crs, mapping, boundaries, repair
        See :func:`check_file`.
    accept_valid : bool
        Write the valid rows even when other rows have problems (default: write nothing).
    licence : str
        The licence the municipality gives its data.
    on_report : callable, optional
        Called with the validation report once the file is read and validated (the file is read
        once, whether it is then stored or refused).

    Returns
    -------
    UploadSummary
        What was inserted, updated and left unchanged.

    Raises
    ------
    UploadError
        With ``report`` (a :class:`ValidationReport`) when any row has a problem and
        ``accept_valid`` is false, or when no row is valid. The store is then unchanged.

    Examples
    --------
    >>> import tempfile
    >>> from sitematch.store import open_store
    >>> store = open_store(f"{tempfile.mkdtemp()}/plots.gpkg")
    >>> upload_file(store, "docs/examples/tomter_1980.csv", municipality_code="1980", uploader="anna").describe()
    '1980: 2 new, 0 updated, 0 unchanged'
    """
    path, code = Path(path), str(municipality_code).strip()
    check_text_arguments(uploader=uploader, licence=licence)
    plots, report, checked = _prepare(path, code, crs, mapping, boundaries, repair)
    if on_report is not None:
        on_report(report)
    if not report.ok and not (accept_valid and len(plots)):
        logger.info("refused %s for %s: %d problem(s)", path.name, code, len(report.problems))
        raise UploadError(
            f"{path.name}: refused, nothing was written.\n{report.to_text()}",
            report=report,
            where=path.name,
            option=None if report.ok or not len(plots) else "accept_valid",
        )
    plots[s.SOURCE] = f"municipality upload: {code} {path.name} by {uploader} at {now_iso()}"
    plots[s.LICENCE] = licence
    summary = store.upload(plots, municipality_code=code, uploader=uploader, filename=path.name, checked=checked)
    return UploadSummary(
        summary.municipality_code,
        summary.inserted,
        summary.updated,
        summary.unchanged,
        skipped_rows=len(report.bad_rows),
    )


__all__ = ["ColumnMapping", "ValidationReport", "check_file", "read_upload", "upload_file"]
