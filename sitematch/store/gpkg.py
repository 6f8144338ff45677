"""The embedded plot store: one GeoPackage file, written in SQLite transactions.

The file is a standard GeoPackage (layer ``plots`` in EPSG:3006, table ``plot_versions`` with the
history) that QGIS, GDAL and geopandas open as they are. Writes go through SQLite directly, one
``BEGIN IMMEDIATE`` transaction per upload: concurrent uploads from several processes queue on
SQLite's lock instead of overwriting each other, and a process killed mid-upload leaves a journal
that SQLite rolls back on the next open — the store is exactly as it was.

The file is created by the first upload, never by opening or reading: it is built beside its final
path and hard-linked into place, which fails if another process got there first — the first writer
wins and the others use its file, so concurrent first uploads lose nothing.

Geometries are written as GeoPackage binary (``GP`` header with envelope, then WKB). The layer
has no R-tree index: its triggers need SpatiaLite functions that plain SQLite lacks, and the
engine builds its own index when it loads the plots.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import struct
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from sitematch import schema as s
from sitematch import settings
from sitematch.crs import WORKING_CRS
from sitematch.errors import StoreBusyError, StoreError, StoreNotFoundError
from sitematch.store.base import (
    ACTIVE,
    EXTRAS,
    STATUS,
    STORE_COLUMNS,
    UPLOADED_AT,
    UPLOADER,
    VALID_FROM,
    VERSION,
    WITHDRAWN,
    WRITTEN_COLUMNS,
    PlotStore,
    Status,
    empty_plots,
    plots_frame,
    row_values,
    same_plot,
    status_value,
)
from sitematch.store.rules import shown

logger = logging.getLogger(__name__)

SRS_ID = 3006
LAYER = "plots"
HISTORY = "plot_versions"
_WRITTEN = (*WRITTEN_COLUMNS, STATUS, VERSION, UPLOADED_AT, UPLOADER, "geom")


_SQL_TYPES = {
    s.AREA_HA: "REAL",
    s.PRICE_SEK_M2: "REAL",
    s.READY: "BOOLEAN",
    s.BROWNFIELD: "BOOLEAN",
    s.MIFO_RISK_CLASS: "INTEGER",
    VERSION: "INTEGER",
}


def to_gpkg_blob(geom: shapely.Geometry) -> bytes:
    """Encode a geometry as GeoPackage binary: header with XY envelope, then little-endian WKB."""
    xmin, ymin, xmax, ymax = geom.bounds
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", SRS_ID) + struct.pack("<4d", xmin, xmax, ymin, ymax)
    return header + shapely.to_wkb(geom, byte_order=1)


def from_gpkg_blob(blob: bytes) -> shapely.Geometry:
    """Decode GeoPackage binary (any envelope kind) to a shapely geometry."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return shapely.from_wkb(blob[8 + envelope :])


def _template() -> gpd.GeoDataFrame:
    row = {
        s.PLOT_ID: "x",
        s.MUNICIPALITY_CODE: "0000",
        s.LOCAL_REF: "x",
        s.NAME: "x",
        s.AREA_HA: 1.0,
        s.ZONING: "J",
        s.PLAN_STATUS: "laga_kraft",
        s.OWNER: "kommun",
        s.PRICE_SEK_M2: 1.0,
        s.READY: True,
        s.BROWNFIELD: False,
        s.MIFO_RISK_CLASS: 1,
        s.UPDATED: "2026-01-01",
        s.SOURCE: "x",
        s.LICENCE: "x",
        EXTRAS: "{}",
        STATUS: ACTIVE,
        VERSION: 1,
        UPLOADED_AT: "x",
        UPLOADER: "x",
    }
    return gpd.GeoDataFrame([row], geometry=[shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])], crs=WORKING_CRS)


class GeoPackageStore(PlotStore):
    """A plot store in one GeoPackage file (created by the first upload).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.gpkg`` file.
    on_create : callable, optional
        Called with the new store's temporary file just before it is moved into place (tests use
        it to widen the window in which concurrent first uploads race).

    Raises
    ------
    StoreError
        If ``path`` exists but is not a sitematch plot store.

    Examples
    --------
    >>> import tempfile
    >>> store = GeoPackageStore(f"{tempfile.mkdtemp()}/plots.gpkg")
    >>> store.plots(municipality_code="1980").empty
    True
    """

    def __init__(self, path: str | Path, *, on_create: Callable[[Path], None] | None = None) -> None:
        self.path = Path(path)
        self._on_create = on_create
        if self.path.exists():
            self._check()

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    def exists(self) -> bool:
        """Whether the store's file exists (it is created by the first upload)."""
        return self.path.is_file()

    # -- creation -------------------------------------------------------------------------------
    def _build(self, target: Path) -> None:
        pyogrio.write_dataframe(
            _template(), target, layer=LAYER, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO", "FID": "fid"}
        )
        cols = ", ".join(f'"{c}" {_SQL_TYPES.get(c, "TEXT")}' for c in STORE_COLUMNS)
        with contextlib.closing(sqlite3.connect(target)) as con, con:
            con.execute(f"DELETE FROM {LAYER}")
            con.execute(f'CREATE UNIQUE INDEX plots_plot_id ON {LAYER}("{s.PLOT_ID}")')
            con.execute(
                f'CREATE TABLE {HISTORY} (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols}, "{VALID_FROM}" TEXT, '
                f'"valid_to" TEXT, "geom_wkb" BLOB)'
            )
            con.execute(f'CREATE INDEX plot_versions_plot_id ON {HISTORY}("{s.PLOT_ID}")')
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                f"VALUES ('{HISTORY}', 'attributes', '{HISTORY}', 'previous versions of plots')"
            )

    def _ensure_created(self) -> None:
        """Create the store if it does not exist; if another process creates it first, use theirs."""
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".store-", suffix=".gpkg", dir=self.path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            self._build(tmp)
            if self._on_create is not None:
                self._on_create(tmp)
            os.link(tmp, self.path)  # atomic, and never replaces: the first writer's store stays
            logger.info("created plot store %s", self.path)
        except FileExistsError:
            logger.info("plot store %s was created by another process; using it", self.path)
        except (OSError, sqlite3.Error, pyogrio.errors.DataSourceError) as exc:
            raise StoreError(f"{self.path}: cannot create the plot store: {exc}") from None
        finally:
            tmp.unlink(missing_ok=True)
        self._check()

    def _check(self) -> None:
        try:
            with contextlib.closing(self._connect()) as con:
                tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: not a sitematch plot store (a GeoPackage): {exc}") from None
        if not {LAYER, HISTORY} <= tables:
            raise StoreError(
                f"{self.path}: a GeoPackage, but not a sitematch plot store (no '{LAYER}' and '{HISTORY}')"
            )
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store made by an earlier sitematch up to date: add the ``extras`` column (plots and history)."""
        with contextlib.closing(self._connect()) as con:
            columns = {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")} for t in (LAYER, HISTORY)}
            missing = [t for t in (LAYER, HISTORY) if EXTRAS not in columns[t]]
            if not missing:
                return
            try:
                con.execute("BEGIN IMMEDIATE")
                for table in missing:  # checked again inside the lock: another process may have migrated
                    if EXTRAS not in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
                        con.execute(f'ALTER TABLE {table} ADD COLUMN "{EXTRAS}" TEXT')
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise StoreError(
                    f"{self.path}: this store predates extra attributes and could not be upgraded ({exc}); "
                    "open it once with write access"
                ) from None
        logger.info("%s: added the extras column to %s", self.path, ", ".join(missing))

    def _connect(self) -> sqlite3.Connection:
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=rw"  # never creates a missing file
        con = sqlite3.connect(uri, uri=True, timeout=settings.lock_timeout_s, isolation_level=None)
        con.row_factory = sqlite3.Row
        return con

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        if "locked" in str(exc) or "busy" in str(exc):
            return StoreBusyError(
                f"{self.path}: another upload held the store for more than {settings.lock_timeout_s:g} s; "
                "try again when it has finished"
            )
        return StoreError(f"{self.path}: the store could not be written ({exc}); nothing was changed")

    @contextlib.contextmanager
    def _transaction(self, before_commit: Callable[[], None] | None = None) -> Iterator[sqlite3.Connection]:
        self._ensure_created()
        try:
            con = self._connect()
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._store_error(exc) from None
        try:
            yield con
            if before_commit is not None:
                before_commit()
            con.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            con.execute("ROLLBACK")
            raise self._store_error(exc) from None
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # -- reading --------------------------------------------------------------------------------
    def plots(self, *, status: Status = "active", municipality_code: str | None = None) -> gpd.GeoDataFrame:
        """Plots in canonical columns, EPSG:3006, sorted by ``plot_id``.

        Parameters
        ----------
        status : {"active", "withdrawn", "all"}
            Which plots. Unless ``active``, the store's ``status``, ``version``, ``uploaded_at`` and
            ``uploader`` columns are included.
        municipality_code : str, optional
            Only this municipality's plots.

        Returns
        -------
        geopandas.GeoDataFrame
            No rows when the store does not exist yet.
        """
        wanted = status_value(status)
        include_status = status != "active"
        if municipality_code is not None and not str(municipality_code).isdigit():
            raise StoreError(f"{shown(municipality_code)} is not a kommunkod (4 digits)")
        if not self.exists():
            return empty_plots(include_status=include_status)
        clauses = [f"{STATUS} = '{wanted}'"] if wanted else []
        if municipality_code is not None:
            clauses.append(f"{s.MUNICIPALITY_CODE} = '{municipality_code}'")
        where = " AND ".join(clauses) or None
        gdf = self._read_while_written(where)
        gdf = gdf.drop(columns=[c for c in gdf.columns if c not in (*STORE_COLUMNS, s.GEOMETRY)])
        if gdf.crs is None:
            gdf = gdf.set_crs(WORKING_CRS)
        return plots_frame(gdf, include_status=include_status)

    def _read_while_written(self, where: str | None) -> gpd.GeoDataFrame:
        """Read the plots with GDAL (read-only), retrying while an upload's commit is under way.

        GDAL opens the file read-only; caught between a writer's journal and its commit it fails
        with "attempt to write a readonly database" (it would have to roll the journal back) or
        "database is locked". Each retry first opens the store read-write, which rolls back a
        killed writer's journal or waits for a live writer to finish (up to the lock timeout).
        """
        deadline = time.monotonic() + settings.lock_timeout_s
        pause = 0.02
        while True:
            with contextlib.closing(self._connect()) as con:
                con.execute(f"SELECT 1 FROM {LAYER} LIMIT 1")  # rolls back a killed writer's journal, if any
            try:
                return pyogrio.read_dataframe(self.path, layer=LAYER, where=where, fid_as_index=False)
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.CRSError) as exc:
                busy = any(w in str(exc) for w in ("readonly database", "locked", "busy"))
                if not busy or time.monotonic() > deadline:
                    raise StoreError(f"{self.path}: cannot read the plots: {exc}") from None
                logger.info("%s: read while an upload commits; retrying (%s)", self.path, exc)
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def history(self, plot_id: str) -> pd.DataFrame:
        """Every version of a plot, oldest first, the current one last (columns of the store).

        Raises
        ------
        StoreNotFoundError
            If the store has no such plot.
        """
        if not self.exists():
            raise StoreNotFoundError(f"{self.path}: no plot {shown(plot_id)} in the store")
        cols = ", ".join(f'"{c}"' for c in STORE_COLUMNS)
        with contextlib.closing(self._connect()) as con:
            old = pd.read_sql_query(
                f"SELECT {cols}, valid_to FROM {HISTORY} WHERE {s.PLOT_ID} = ? ORDER BY {VERSION}",
                con,
                params=(plot_id,),
            )
            cur = pd.read_sql_query(f"SELECT {cols} FROM {LAYER} WHERE {s.PLOT_ID} = ?", con, params=(plot_id,))
        if cur.empty:
            raise StoreNotFoundError(f"{self.path}: no plot {shown(plot_id)} in the store")
        cur["valid_to"] = None
        return pd.concat([old, cur], ignore_index=True)

    # -- writing --------------------------------------------------------------------------------
    def _current(self, con: sqlite3.Connection, plot_id: str) -> sqlite3.Row | None:
        return con.execute(f"SELECT * FROM {LAYER} WHERE {s.PLOT_ID} = ?", (plot_id,)).fetchone()

    def _archive(self, con: sqlite3.Connection, row: sqlite3.Row, valid_to: str) -> None:
        cols = ", ".join(f'"{c}"' for c in STORE_COLUMNS)
        con.execute(
            f"INSERT INTO {HISTORY} ({cols}, valid_to, geom_wkb) "
            f"SELECT {cols}, ?, ? FROM {LAYER} WHERE {s.PLOT_ID} = ?",
            (valid_to, shapely.to_wkb(from_gpkg_blob(row["geom"])), row[s.PLOT_ID]),
        )

    def _write_row(self, con: sqlite3.Connection, row: pd.Series, uploader: str, stamp: str) -> str:
        """Insert, update or keep one plot; returns 'inserted', 'updated' or 'unchanged'."""
        geom = shapely.multipolygons(shapely.get_parts(row[s.GEOMETRY]))
        values = (*row_values(row), ACTIVE)
        current = self._current(con, row[s.PLOT_ID])
        if current is None:
            placeholders = ", ".join("?" for _ in _WRITTEN)
            cols = ", ".join(f'"{c}"' for c in _WRITTEN)
            con.execute(
                f"INSERT INTO {LAYER} ({cols}) VALUES ({placeholders})",
                (*values, 1, stamp, uploader, to_gpkg_blob(geom)),
            )
            return "inserted"
        old = pd.Series({k: current[k] for k in current.keys()})  # noqa: SIM118 - sqlite3.Row
        old[s.GEOMETRY] = from_gpkg_blob(current["geom"])
        if current[STATUS] == ACTIVE and same_plot(old, pd.Series({**row.to_dict(), s.GEOMETRY: geom})):
            return "unchanged"
        self._archive(con, current, stamp)
        sets = ", ".join(f'"{c}" = ?' for c in _WRITTEN)
        con.execute(
            f"UPDATE {LAYER} SET {sets} WHERE {s.PLOT_ID} = ?",
            (*values, int(current[VERSION]) + 1, stamp, uploader, to_gpkg_blob(geom), row[s.PLOT_ID]),
        )
        return "updated"

    def _writing(
        self, municipality_code: str, before_commit: Callable[[], None] | None
    ) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._transaction(before_commit)

    def _where(self) -> str:
        return str(self.path)

    def _withdrawing(self) -> contextlib.AbstractContextManager[sqlite3.Connection | None]:
        if not self.exists():  # no store yet: no plot to withdraw, and nothing is created
            return contextlib.nullcontext(None)
        return self._transaction()

    def _status(self, con: sqlite3.Connection | None, plot_id: str) -> str | None:
        current = None if con is None else self._current(con, plot_id)
        return None if current is None else str(current[STATUS])

    def _mark_withdrawn(self, con: sqlite3.Connection, plot_id: str, *, stamp: str, uploader: str, note: str) -> None:
        current = self._current(con, plot_id)
        assert current is not None  # its status was read in this same transaction
        self._archive(con, current, stamp)
        con.execute(
            f"UPDATE {LAYER} SET {STATUS} = ?, {VERSION} = {VERSION} + 1, {UPLOADED_AT} = ?, {UPLOADER} = ?, "
            f"{s.SOURCE} = {s.SOURCE} || ? WHERE {s.PLOT_ID} = ?",
            (WITHDRAWN, stamp, uploader, note, plot_id),
        )
