"""The embedded plot store: one GeoPackage file, written in SQLite transactions.

The file is a standard GeoPackage (layer ``plots`` in EPSG:3006, table ``plot_versions`` with the
history) that QGIS, GDAL and geopandas open as they are. Writes go through SQLite directly, one
``BEGIN IMMEDIATE`` transaction per upload: concurrent uploads from several processes queue on
SQLite's lock instead of overwriting each other, and a process killed mid-upload leaves a journal
that SQLite rolls back on the next open — the store is exactly as it was.

Geometries are written as GeoPackage binary (``GP`` header with envelope, then WKB). The layer
has no R-tree index: its triggers need SpatiaLite functions that plain SQLite lacks, and the
engine builds its own index when it loads the plots.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from sitematch import schema as s
from sitematch.crs import WORKING_CRS
from sitematch.errors import StoreError
from sitematch.store.base import (
    ACTIVE,
    STATUS,
    STORE_COLUMNS,
    UPLOADED_AT,
    UPLOADER,
    VALID_FROM,
    VERSION,
    WITHDRAWN,
    UploadSummary,
    check_upload,
    now_iso,
    plots_frame,
    row_values,
    same_plot,
)

SRS_ID = 3006
LAYER = "plots"
HISTORY = "plot_versions"
#: Seconds a writer waits for another writer's transaction before giving up.
LOCK_TIMEOUT_S = 120.0
#: For tests: seconds to sleep inside the write transaction (to kill a process mid-upload).
PAUSE_ENV = "SITEMATCH_TEST_PAUSE_IN_TRANSACTION"


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
        STATUS: ACTIVE,
        VERSION: 1,
        UPLOADED_AT: "x",
        UPLOADER: "x",
    }
    return gpd.GeoDataFrame([row], geometry=[shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])], crs=WORKING_CRS)


class GeoPackageStore:
    """A plot store in one GeoPackage file (created on first use).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.gpkg`` file.

    Examples
    --------
    >>> store = GeoPackageStore("plots.gpkg")  # doctest: +SKIP
    >>> store.plots(municipality_code="1980")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists():
            self._check()
        else:
            self._create()

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    # -- creation -------------------------------------------------------------------------------
    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".store-", suffix=".gpkg", dir=self.path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            pyogrio.write_dataframe(
                _template(), tmp, layer=LAYER, driver="GPKG", layer_options={"SPATIAL_INDEX": "NO", "FID": "fid"}
            )
            cols = ", ".join(f'"{c}" {_SQL_TYPES.get(c, "TEXT")}' for c in STORE_COLUMNS)
            with contextlib.closing(sqlite3.connect(tmp)) as con, con:
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
            os.replace(tmp, self.path)
        except (OSError, sqlite3.Error, pyogrio.errors.DataSourceError) as exc:
            raise StoreError(f"{self.path}: cannot create the plot store: {exc}") from None
        finally:
            if tmp.exists():
                tmp.unlink()

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

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        con.row_factory = sqlite3.Row
        return con

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
                if pause:
                    time.sleep(pause)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: the store is busy or locked ({exc}); try again") from None
        finally:
            con.close()

    # -- reading --------------------------------------------------------------------------------
    def plots(self, *, municipality_code: str | None = None, include_withdrawn: bool = False) -> gpd.GeoDataFrame:
        """Current plots in canonical columns, EPSG:3006, sorted by ``plot_id``.

        Parameters
        ----------
        municipality_code : str, optional
            Only this municipality's plots.
        include_withdrawn : bool
            Include withdrawn plots (with ``status``).

        Returns
        -------
        geopandas.GeoDataFrame
        """
        with contextlib.closing(self._connect()) as con:
            con.execute(f"SELECT 1 FROM {LAYER} LIMIT 1")  # rolls back a killed writer's journal, if any
        clauses = []
        if not include_withdrawn:
            clauses.append(f"{STATUS} = '{ACTIVE}'")
        if municipality_code is not None:
            if not str(municipality_code).isdigit():
                raise StoreError(f"{municipality_code!r} is not a kommunkod (4 digits)")
            clauses.append(f"{s.MUNICIPALITY_CODE} = '{municipality_code}'")
        where = " AND ".join(clauses) or None
        gdf = pyogrio.read_dataframe(self.path, layer=LAYER, where=where, fid_as_index=False)
        gdf = gdf.drop(columns=[c for c in gdf.columns if c not in (*STORE_COLUMNS, s.GEOMETRY)])
        if gdf.crs is None:
            gdf = gdf.set_crs(WORKING_CRS)
        return plots_frame(gdf, include_status=include_withdrawn)

    def history(self, plot_id: str) -> pd.DataFrame:
        """Every version of a plot, oldest first, the current one last (columns of the store)."""
        cols = ", ".join(f'"{c}"' for c in STORE_COLUMNS)
        with contextlib.closing(self._connect()) as con:
            old = pd.read_sql_query(
                f"SELECT {cols}, valid_to FROM {HISTORY} WHERE {s.PLOT_ID} = ? ORDER BY {VERSION}",
                con,
                params=(plot_id,),
            )
            cur = pd.read_sql_query(f"SELECT {cols} FROM {LAYER} WHERE {s.PLOT_ID} = ?", con, params=(plot_id,))
        if cur.empty:
            raise StoreError(f"{self.path}: no plot {plot_id!r} in the store")
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

    def upload(
        self, plots: gpd.GeoDataFrame, *, municipality_code: str, uploader: str, filename: str = ""
    ) -> UploadSummary:
        """Insert or update one municipality's validated plots, all in one transaction.

        Parameters
        ----------
        plots : geopandas.GeoDataFrame
            Canonical plot columns, EPSG:3006, every ``municipality_code`` equal to the argument.
        municipality_code : str
            The uploading municipality.
        uploader : str
            Who uploads (kept in the history).
        filename : str
            The file the plots came from (for messages).

        Returns
        -------
        UploadSummary

        Raises
        ------
        StoreError
            If the plots are not in EPSG:3006, belong to another municipality, or the store is locked.
        """
        check_upload(plots, municipality_code)
        stamp = now_iso()
        inserted, updated, unchanged = [], [], []
        placeholders = ", ".join("?" for _ in (*s.PLOTS.column_names, STATUS, VERSION, UPLOADED_AT, UPLOADER, "geom"))
        cols = ", ".join(f'"{c}"' for c in (*s.PLOTS.column_names, STATUS, VERSION, UPLOADED_AT, UPLOADER, "geom"))
        with self._transaction() as con:
            for _, row in plots.iterrows():
                geom = (
                    shapely.multipolygons(shapely.get_parts(row[s.GEOMETRY]))
                    if row[s.GEOMETRY].geom_type == "Polygon"
                    else row[s.GEOMETRY]
                )
                values = row_values(row)
                current = self._current(con, row[s.PLOT_ID])
                if current is None:
                    con.execute(
                        f"INSERT INTO {LAYER} ({cols}) VALUES ({placeholders})",
                        (*values, ACTIVE, 1, stamp, uploader, to_gpkg_blob(geom)),
                    )
                    inserted.append(row[s.PLOT_ID])
                    continue
                old = pd.Series({k: current[k] for k in current.keys()})  # noqa: SIM118 - sqlite3.Row
                old[s.GEOMETRY] = from_gpkg_blob(current["geom"])
                if current[STATUS] == ACTIVE and same_plot(old, pd.Series({**row.to_dict(), s.GEOMETRY: geom})):
                    unchanged.append(row[s.PLOT_ID])
                    continue
                self._archive(con, current, stamp)
                sets = ", ".join(
                    f'"{c}" = ?' for c in (*s.PLOTS.column_names, STATUS, VERSION, UPLOADED_AT, UPLOADER, "geom")
                )
                con.execute(
                    f"UPDATE {LAYER} SET {sets} WHERE {s.PLOT_ID} = ?",
                    (*values, ACTIVE, int(current[VERSION]) + 1, stamp, uploader, to_gpkg_blob(geom), row[s.PLOT_ID]),
                )
                updated.append(row[s.PLOT_ID])
        return UploadSummary(municipality_code, inserted, updated, unchanged)

    def withdraw(self, plot_id: str, *, uploader: str, reason: str = "") -> None:
        """Mark a plot withdrawn; the previous version goes to the history.

        Raises
        ------
        StoreError
            If there is no such plot, or it is already withdrawn.
        """
        stamp = now_iso()
        with self._transaction() as con:
            current = self._current(con, plot_id)
            if current is None:
                raise StoreError(f"{self.path}: no plot {plot_id!r} in the store")
            if current[STATUS] == WITHDRAWN:
                raise StoreError(f"{plot_id} is already withdrawn")
            self._archive(con, current, stamp)
            note = f"withdrawn by {uploader}" + (f": {reason}" if reason else "")
            con.execute(
                f"UPDATE {LAYER} SET {STATUS} = ?, {VERSION} = {VERSION} + 1, {UPLOADED_AT} = ?, {UPLOADER} = ?, "
                f"{s.SOURCE} = {s.SOURCE} || ? WHERE {s.PLOT_ID} = ?",
                (WITHDRAWN, stamp, uploader, f" ({note})", plot_id),
            )
