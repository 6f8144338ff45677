"""The plot store interface: one protocol, two backends (GeoPackage, PostGIS).

A plot's identity is ``plot_id = municipality_code + ':' + local_ref``. Uploading a plot that
exists updates it in place and keeps the previous version in the history (with time and
uploader); withdrawing marks it withdrawn, never deletes it. Every upload is one transaction:
all of it lands, or none of it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch._io import is_missing
from sitematch.crs import WORKING_CRS
from sitematch.errors import StoreConflictError, StoreNotFoundError, UploadError
from sitematch.store.rules import Checked, refusals, shown, text_problem

logger = logging.getLogger(__name__)

#: Store bookkeeping columns, besides the canonical plot columns.
STATUS = "status"
VERSION = "version"
UPLOADED_AT = "uploaded_at"
UPLOADER = "uploader"
VALID_FROM = "valid_from"
#: A plot's extra attributes: the municipality's columns sitematch does not use, as a JSON object
#: (column → value, in the file's order), or empty.
EXTRAS = "extras"
ACTIVE, WITHDRAWN = "active", "withdrawn"
#: Which plots :meth:`PlotStore.plots` returns.
Status = Literal["active", "withdrawn", "all"]
STATUSES: tuple[str, ...] = ("active", "withdrawn", "all")

#: Columns a store keeps for each plot, in order (geometry last).
STORE_COLUMNS: tuple[str, ...] = (*s.PLOTS.column_names, EXTRAS, STATUS, VERSION, UPLOADED_AT, UPLOADER)
#: Columns an upload writes, in order (canonical, then extras).
WRITTEN_COLUMNS: tuple[str, ...] = (*s.PLOTS.column_names, EXTRAS)


@dataclass(frozen=True)
class UploadSummary:
    """What an upload did."""

    municipality_code: str
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_rows: int = 0

    def describe(self) -> str:
        """One line for people."""
        parts = [f"{len(self.inserted)} new", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged"]
        if self.skipped_rows:
            parts.append(f"{self.skipped_rows} invalid rows left out")
        return f"{self.municipality_code}: " + ", ".join(parts)


class PlotStore(ABC):
    """Where municipalities' plots live; the matching engine reads plots from here.

    Both backends (GeoPackage, PostGIS) share :meth:`upload` and :meth:`withdraw`; each supplies
    a write transaction (:meth:`_writing`, :meth:`_withdrawing`), how one plot is written in it
    (:meth:`_write_row`), and how a plot's status is read and a plot marked withdrawn
    (:meth:`_status`, :meth:`_mark_withdrawn`).
    """

    @abstractmethod
    def plots(self, *, status: Status = "active", municipality_code: str | None = None) -> gpd.GeoDataFrame:
        """Plots with this status (canonical columns, EPSG:3006; with ``status`` unless active), by ``plot_id``."""

    @abstractmethod
    def history(self, plot_id: str) -> pd.DataFrame:
        """Every version of a plot, oldest first, the current one last."""

    def withdraw(self, plot_id: str, *, uploader: str, reason: str = "") -> None:
        """Mark a plot withdrawn; it stays in the store, and its previous version goes to the history.

        Parameters
        ----------
        plot_id : str
            The plot.
        uploader : str
            Who withdraws it (kept in the history, and in the plot's ``source``).
        reason : str
            Why, in words (kept with it).

        Raises
        ------
        StoreNotFoundError
            If there is no such plot (or no store yet).
        StoreConflictError
            If it is already withdrawn.
        """
        check_text_arguments(uploader=uploader, reason=reason)
        stamp = now_iso()
        note = f" (withdrawn by {uploader}" + (f": {reason})" if reason else ")")
        with self._withdrawing() as con:
            status = self._status(con, plot_id)
            if status is None:
                raise StoreNotFoundError(f"{self._where()}: no plot {shown(plot_id)} in the store")
            if status == WITHDRAWN:
                raise StoreConflictError(f"{shown(plot_id)} is already withdrawn")
            self._mark_withdrawn(con, plot_id, stamp=stamp, uploader=uploader, note=note)
        logger.info("%s: %s withdrawn by %s", self._where(), plot_id, uploader)

    @abstractmethod
    def _where(self) -> str:
        """Where the store is, for messages (never a password)."""

    @abstractmethod
    def _withdrawing(self) -> Any:
        """A context manager: one write transaction for a withdrawal (its connection; None: no store yet)."""

    @abstractmethod
    def _status(self, con: Any, plot_id: str) -> str | None:
        """A plot's status, locked for the transaction; None when the store holds no such plot."""

    @abstractmethod
    def _mark_withdrawn(self, con: Any, plot_id: str, *, stamp: str, uploader: str, note: str) -> None:
        """Archive the plot's current version and mark it withdrawn, ``note`` appended to its ``source``."""

    @abstractmethod
    def _writing(self, municipality_code: str, before_commit: Callable[[], None] | None) -> Any:
        """A context manager: one write transaction (calling ``before_commit`` just before it commits)."""

    @abstractmethod
    def _write_row(self, con: Any, row: pd.Series, uploader: str, stamp: str) -> str:
        """Insert or update one plot in the transaction; say "inserted", "updated" or "unchanged"."""

    def upload(
        self,
        plots: gpd.GeoDataFrame,
        *,
        municipality_code: str,
        uploader: str,
        filename: str = "",
        before_commit: Callable[[], None] | None = None,
        checked: Checked | None = None,
    ) -> UploadSummary:
        """Insert or update one municipality's validated plots, all in one transaction.

        Parameters
        ----------
        plots : geopandas.GeoDataFrame
            Canonical plot columns, EPSG:3006, every ``plot_id`` the municipality's.
        municipality_code : str
            The uploading municipality.
        uploader : str
            Who uploads (kept in the history).
        filename : str
            The file the plots came from (for the log).
        before_commit : callable, optional
            Called inside the transaction just before it commits (tests use it to stop a writer
            mid-upload).
        checked : Checked, optional
            What validation already checked of these plots (:func:`sitematch.store.rules.checked`):
            the store's rules are not applied again to columns that still hold those very values;
            every other column (added or changed since) is checked as without it.

        Returns
        -------
        UploadSummary

        Raises
        ------
        UploadError
            If the store would refuse any plot (see :mod:`sitematch.store.rules`); nothing is written.
        StoreBusyError
            If another writer holds the store longer than ``settings.lock_timeout_s``.
        """
        check_upload(plots, municipality_code, checked=checked)
        check_text_arguments(uploader=uploader)
        started, stamp = time.perf_counter(), now_iso()
        outcome: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
        with self._writing(municipality_code, before_commit) as con:
            for _, row in plots.iterrows():
                outcome[self._write_row(con, row, uploader, stamp)].append(row[s.PLOT_ID])
        summary = UploadSummary(municipality_code, outcome["inserted"], outcome["updated"], outcome["unchanged"])
        logger.info(
            "%s: stored %s from %s in %.2f s", self, summary.describe(), filename, time.perf_counter() - started
        )
        return summary


def check_upload(plots: gpd.GeoDataFrame, municipality_code: str, *, checked: Checked | None = None) -> None:
    """Refuse plots a store cannot keep (see :mod:`sitematch.store.rules`); validated plots pass.

    ``checked`` is what validation already checked (the rules are not applied again to its values).

    Raises
    ------
    UploadError
        Not in EPSG:3006, or any row the rules refuse (another municipality's ``plot_id``, a NUL
        character, text too long, a geometry with Z or M, not a valid polygon…).
    """
    check_municipality_code(municipality_code)
    if plots.crs is None or not plots.crs.equals(WORKING_CRS):
        raise UploadError("plots must be validated and in EPSG:3006 before they are stored")
    found = refusals(plots, municipality_code, already=checked)
    if found:
        listed = "; ".join(f"row {r.position + 1} {r.field}: {r.message}" for r in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise UploadError(
            f"{len(found)} problem(s) in plots for {municipality_code}, nothing was stored: {listed}{more}"
        )


def check_municipality_code(code: str) -> str:
    """``code`` if it is a kommunkod (4 digits); otherwise an UploadError that says what one is."""
    if not (isinstance(code, str) and code.isdigit() and len(code) == 4):
        raise UploadError(
            f"{shown(code)} is not a kommunkod: give the 4-digit SCB code, e.g. 0180 or 1980", key="municipality_code"
        )
    return code


def check_text_arguments(**values: str) -> None:
    """Refuse free-text arguments (uploader, reason, licence) a store cannot keep, naming the argument."""
    for name, value in values.items():
        problem = text_problem(str(value))
        if problem:
            raise UploadError(f"{name}: {problem}", key=name)


def status_value(status: str) -> str | None:
    """The ``status`` column value to filter on (None for all), or ValueError for an unknown status."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
    return None if status == "all" else status


def empty_plots(*, include_status: bool) -> gpd.GeoDataFrame:
    """A store's answer when it holds no plots yet: no rows, the usual columns and dtypes."""
    gdf = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in STORE_COLUMNS}, geometry=[], crs=WORKING_CRS)
    return plots_frame(gdf, include_status=include_status)


def plots_frame(gdf: gpd.GeoDataFrame, *, include_status: bool) -> gpd.GeoDataFrame:
    """Plots read from a store, in the canonical dtypes, sorted by ``plot_id``."""
    gdf[s.AREA_HA] = pd.to_numeric(gdf[s.AREA_HA]).astype("float64")
    gdf[s.PRICE_SEK_M2] = pd.to_numeric(gdf[s.PRICE_SEK_M2]).astype("float64")
    for col in (s.READY, s.BROWNFIELD):
        gdf[col] = gdf[col].astype("boolean")
    gdf[s.MIFO_RISK_CLASS] = pd.to_numeric(gdf[s.MIFO_RISK_CLASS]).astype("Int64")
    gdf[EXTRAS] = [extras_text(v) for v in gdf[EXTRAS]] if EXTRAS in gdf else None
    if not include_status:
        gdf = gdf.drop(columns=[STATUS, VERSION, UPLOADED_AT, UPLOADER])
    return gdf.sort_values(s.PLOT_ID).reset_index(drop=True)


def extras_text(value: object) -> str | None:
    """Extras as stored: JSON object text, None when there are none (a driver may hand back a dict)."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else None
    if is_missing(value) or value in ("", "{}"):
        return None
    return str(value)


def extras_of(value: object) -> dict[str, Any]:
    """A plot's extras as a dict (empty when it has none).

    Examples
    --------
    >>> extras_of('{"Pris kr/kvm": "450"}'), extras_of(None)
    ({'Pris kr/kvm': '450'}, {})
    """
    text = extras_text(value)
    if text is None:
        return {}
    try:
        out = json.loads(text)
    except ValueError:
        return {EXTRAS: text}
    return out if isinstance(out, dict) else {EXTRAS: out}


def row_values(row: pd.Series) -> list[object]:
    """A plot's written values (canonical, extras; no geometry) as plain Python values for a database driver."""
    out: list[object] = []
    for c in WRITTEN_COLUMNS:
        v = row.get(c)
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, bool | np.bool_):
            out.append(bool(v))
        elif isinstance(v, np.integer):
            out.append(int(v))
        elif isinstance(v, np.floating):
            out.append(float(v))
        else:
            out.append(v)
    return out


def now_iso() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def same_plot(a: pd.Series, b: pd.Series) -> bool:
    """Whether two versions of a plot carry the same canonical values and geometry (within 1 cm)."""
    if extras_of(a.get(EXTRAS)) != extras_of(b.get(EXTRAS)):
        return False
    for col in s.PLOTS.column_names:
        if col in (s.SOURCE, s.UPDATED):
            continue
        va, vb = a.get(col), b.get(col)
        na, nb = pd.isna(va), pd.isna(vb)
        if na or nb:
            if na != nb:
                return False
            continue
        if isinstance(va, float | int) and isinstance(vb, float | int):
            if abs(float(va) - float(vb)) > 1e-9:
                return False
        elif str(va) != str(vb):
            return False
    return a[s.GEOMETRY].equals_exact(b[s.GEOMETRY], 0.01)
