"""The server plot store: PostgreSQL with PostGIS, for a shared deployment.

Same interface and semantics as :class:`~sitematch.store.gpkg.GeoPackageStore`: one transaction
per upload, history in ``plot_versions``, withdrawn plots kept. Geometries are stored as
``geometry(MultiPolygon, 3006)`` with a GiST index.

Concurrency: the tables are created by the first upload, inside its transaction and under an
advisory lock, so concurrent first uploads into an empty database queue instead of colliding on
``CREATE TABLE``; uploads of one municipality queue on a second advisory lock (keyed by its
kommunkod), and rows are locked with ``SELECT … FOR UPDATE``. A writer that waits longer than
``settings.lock_timeout_s`` gives up with :class:`~sitematch.errors.StoreBusyError`.

Connections are kept for the next transaction (:class:`_Idle`, a few per database and process):
a new PostgreSQL connection starts a server process that loads PostGIS and its catalogue again,
which cost a busy service more processor time than the queries themselves. A kept connection is
checked with one round trip before it is used again, so a restarted server costs no failed request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch import settings
from sitematch.crs import WORKING_CRS
from sitematch.errors import StoreBusyError, StoreError, StoreNotFoundError
from sitematch.store import base
from sitematch.store.base import PlotStore
from sitematch.store.rules import shown

logger = logging.getLogger(__name__)

_TYPES = {
    s.AREA_HA: "double precision",
    s.PRICE_SEK_M2: "double precision",
    s.READY: "boolean",
    s.BROWNFIELD: "boolean",
    s.MIFO_RISK_CLASS: "integer",
    base.VERSION: "integer",
    base.EXTRAS: "json",  # json, not jsonb: the file's column order is kept
}
_COLUMNS_SQL = ", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in base.STORE_COLUMNS)
_SELECT = ", ".join(base.STORE_COLUMNS)
_WRITTEN = (*base.WRITTEN_COLUMNS, base.STATUS, base.VERSION, base.UPLOADED_AT, base.UPLOADER)
#: Advisory lock keys (class, object): the schema, and one per municipality's uploads.
_SCHEMA_LOCK = (0x51747E, 0)
_MUNICIPALITY_LOCK = 0x51747F
_SCHEMA_SQL = (
    f"CREATE TABLE IF NOT EXISTS plots ({_COLUMNS_SQL}, geom geometry(MultiPolygon, 3006) NOT NULL, "
    f"PRIMARY KEY ({s.PLOT_ID}))",
    "CREATE INDEX IF NOT EXISTS plots_geom ON plots USING gist (geom)",
    f"CREATE TABLE IF NOT EXISTS plot_versions (id bigserial PRIMARY KEY, {_COLUMNS_SQL}, valid_to text, "
    "geom geometry(MultiPolygon, 3006))",
    f"CREATE INDEX IF NOT EXISTS plot_versions_id ON plot_versions ({s.PLOT_ID})",
)


class _Idle:
    """Idle connections kept per database URL (at most :attr:`KEEP` each), for this process only."""

    KEEP = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, list[Any]] = {}
        self._pid = os.getpid()

    def take(self, url: str) -> Any | None:
        """A kept connection to ``url`` that answers, or None."""
        while True:
            with self._lock:
                if self._pid != os.getpid():  # a forked child: its parent's connections are not its own
                    self._kept, self._pid = {}, os.getpid()
                kept = self._kept.get(url)
                con = kept.pop() if kept else None
            if con is None:
                return None
            try:
                con.execute("SELECT 1")
                con.rollback()
                return con
            except Exception:  # gone (the server restarted, the connection timed out): try the next
                _close(con)

    def give(self, url: str, con: Any) -> None:
        """Keep ``con`` for the next transaction if it is idle and there is room; else close it."""
        idle = getattr(con.info, "transaction_status", None) == 0  # psycopg.pq.TransactionStatus.IDLE
        with self._lock:
            kept = self._kept.setdefault(url, [])
            if idle and not con.closed and not con.broken and len(kept) < self.KEEP and self._pid == os.getpid():
                kept.append(con)
                return
        _close(con)


def _close(con: Any) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail too; it is gone either way
        con.close()


_IDLE = _Idle()


#: Whether the store's tables are there, and how many of them have the ``extras`` column (2: up to date).
_OPEN_CHECK = (
    "SELECT to_regclass('plots') IS NOT NULL AND to_regclass('plot_versions') IS NOT NULL, "
    "(SELECT count(*) FROM pg_attribute WHERE attrelid IN (to_regclass('plots'), to_regclass('plot_versions')) "
    "AND attname = %s AND NOT attisdropped)"
)


class PostGISStore(PlotStore):
    """A plot store in a PostGIS database (tables created by the first upload).

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/database``; the PostGIS extension must be available.
    create : bool
        False: refuse a database that holds no plot store yet (readers pass False).

    Raises
    ------
    StoreError
        If the database cannot be reached.
    StoreNotFoundError
        If ``create`` is false and the database holds no plot store.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError("the PostGIS store needs psycopg: pip install 'sitematch[postgis]'") from None
        self._psycopg = psycopg
        self.url = url
        with self._session() as con:  # one connection, one query when the store is there and up to date
            exists, extras = con.execute(_OPEN_CHECK, (base.EXTRAS,)).fetchone()
        if exists and extras != 2:
            self._migrate()
        if not create and not exists:
            raise StoreNotFoundError(f"{self._safe_url()}: no plot store in this database; upload plots first")

    def __repr__(self) -> str:
        return f"PostGISStore({self._safe_url()!r})"

    def _safe_url(self) -> str:
        head, _, tail = self.url.rpartition("@")
        return f"postgresql://…@{tail}" if head else self.url

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Any]:
        """One transaction: committed if the block succeeds, rolled back otherwise."""
        errors = self._psycopg.errors
        try:
            con = _IDLE.take(self.url) or self._psycopg.connect(self.url, autocommit=False, connect_timeout=10)
            try:
                if write:
                    con.execute(f"SET LOCAL lock_timeout = '{int(settings.lock_timeout_s * 1000)}ms'")
                yield con
                con.commit()
            except BaseException:
                try:
                    con.rollback()
                except Exception:  # the connection broke: it is closed below
                    _close(con)
                raise
            finally:
                _IDLE.give(self.url, con)
        except errors.LockNotAvailable:
            raise StoreBusyError(
                f"{self._safe_url()}: another upload held the store for more than {settings.lock_timeout_s:g} s; "
                "try again when it has finished"
            ) from None
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"{self._safe_url()}: cannot reach the PostGIS plot store: {exc}") from None
        except self._psycopg.Error as exc:
            raise StoreError(f"{self._safe_url()}: the store was not changed ({exc})") from None

    @staticmethod
    def _exists(con: Any) -> bool:
        row = con.execute("SELECT to_regclass('plots') IS NOT NULL AND to_regclass('plot_versions') IS NOT NULL")
        return bool(row.fetchone()[0])

    def _ensure_schema(self, con: Any) -> None:
        """Create the tables in this transaction, serialised with every other first upload."""
        if self._exists(con):
            return
        con.execute("SELECT pg_advisory_xact_lock(%s, %s)", _SCHEMA_LOCK)
        if self._exists(con):  # another first upload created them while this one waited: touching them again
            return  # (CREATE … IF NOT EXISTS still locks the table) would deadlock with its writers
        if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        for statement in _SCHEMA_SQL:
            con.execute(statement)
        logger.info("%s: created the plot store tables", self._safe_url())

    def _migrate(self) -> None:
        """Bring tables made by an earlier sitematch up to date: add ``extras`` to plots and their history."""
        check = (
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name IN ('plots', 'plot_versions') AND column_name = %s"
        )
        with self._session(write=True) as con:
            if con.execute(check, (base.EXTRAS,)).fetchone()[0] == 2:
                return
            con.execute("SELECT pg_advisory_xact_lock(%s, %s)", _SCHEMA_LOCK)
            for table in ("plots", "plot_versions"):
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {base.EXTRAS} json")
        logger.info("%s: added the extras column to the plot store", self._safe_url())

    # -- reading --------------------------------------------------------------------------------
    def _frame(self, rows: list[tuple], with_status: bool) -> gpd.GeoDataFrame:
        df = pd.DataFrame([r[:-1] for r in rows], columns=list(base.STORE_COLUMNS))
        geoms = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else np.array([], dtype=object)
        gdf = gpd.GeoDataFrame(df, geometry=list(geoms), crs=WORKING_CRS)
        return base.plots_frame(gdf, include_status=with_status)

    def plots(self, *, status: base.Status = "active", municipality_code: str | None = None) -> gpd.GeoDataFrame:
        """Plots in canonical columns, EPSG:3006, sorted by ``plot_id`` (see GeoPackageStore)."""
        wanted = base.status_value(status)
        clauses, params = ([f"{base.STATUS} = %s"], [wanted]) if wanted else ([], [])
        if municipality_code is not None:
            clauses.append(f"{s.MUNICIPALITY_CODE} = %s")
            params.append(str(municipality_code))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._session() as con:
            if not self._exists(con):
                return base.empty_plots(include_status=status != "active")
            rows = con.execute(f"SELECT {_SELECT}, ST_AsBinary(geom) FROM plots {where}", params).fetchall()
        return self._frame(rows, status != "active")

    def history(self, plot_id: str) -> pd.DataFrame:
        """Every version of a plot, oldest first, the current one last.

        Raises
        ------
        StoreNotFoundError
            If the store has no such plot.
        """
        with self._session() as con:
            if not self._exists(con):
                raise StoreNotFoundError(f"{self._safe_url()}: no plot {shown(plot_id)} in the store")
            old = con.execute(
                f"SELECT {_SELECT}, valid_to FROM plot_versions WHERE {s.PLOT_ID} = %s ORDER BY {base.VERSION}",
                (plot_id,),
            ).fetchall()
            cur = con.execute(f"SELECT {_SELECT}, NULL FROM plots WHERE {s.PLOT_ID} = %s", (plot_id,)).fetchall()
        if not cur:
            raise StoreNotFoundError(f"{self._safe_url()}: no plot {shown(plot_id)} in the store")
        out = pd.DataFrame(old + cur, columns=[*base.STORE_COLUMNS, "valid_to"])
        out[base.EXTRAS] = [base.extras_text(v) for v in out[base.EXTRAS]]
        return out

    # -- writing --------------------------------------------------------------------------------
    def _archive(self, con: Any, plot_id: str, valid_to: str) -> None:
        con.execute(
            f"INSERT INTO plot_versions ({_SELECT}, valid_to, geom) SELECT {_SELECT}, %s, geom FROM plots "
            f"WHERE {s.PLOT_ID} = %s",
            (valid_to, plot_id),
        )

    def _write_row(self, con: Any, row: pd.Series, uploader: str, stamp: str) -> str:
        """Insert, update or keep one plot; returns 'inserted', 'updated' or 'unchanged'."""
        geom = shapely.multipolygons(shapely.get_parts(row[s.GEOMETRY]))
        wkb = shapely.to_wkb(geom)
        values = (*base.row_values(row), base.ACTIVE)
        cur = con.execute(
            f"SELECT {_SELECT}, ST_AsBinary(geom) FROM plots WHERE {s.PLOT_ID} = %s FOR UPDATE", (row[s.PLOT_ID],)
        ).fetchone()
        if cur is None:
            con.execute(
                f"INSERT INTO plots ({', '.join(_WRITTEN)}, geom) "
                f"VALUES ({', '.join(['%s'] * len(_WRITTEN))}, ST_GeomFromWKB(%s, 3006))",
                (*values, 1, stamp, uploader, wkb),
            )
            return "inserted"
        old = pd.Series(dict(zip(base.STORE_COLUMNS, cur[:-1], strict=True)))
        old[s.GEOMETRY] = shapely.from_wkb(bytes(cur[-1]))
        if old[base.STATUS] == base.ACTIVE and base.same_plot(old, pd.Series({**row.to_dict(), s.GEOMETRY: geom})):
            return "unchanged"
        self._archive(con, row[s.PLOT_ID], stamp)
        sets = ", ".join(f"{c} = %s" for c in _WRITTEN)
        con.execute(
            f"UPDATE plots SET {sets}, geom = ST_GeomFromWKB(%s, 3006) WHERE {s.PLOT_ID} = %s",
            (*values, int(old[base.VERSION]) + 1, stamp, uploader, wkb, row[s.PLOT_ID]),
        )
        return "updated"

    @contextmanager
    def _writing(self, municipality_code: str, before_commit: Callable[[], None] | None) -> Iterator[Any]:
        with self._session(write=True) as con:
            self._ensure_schema(con)
            con.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_MUNICIPALITY_LOCK, int(municipality_code)))
            yield con
            if before_commit is not None:
                before_commit()

    def _where(self) -> str:
        return self._safe_url()

    def _withdrawing(self) -> AbstractContextManager[Any]:
        return self._session(write=True)

    def _status(self, con: Any, plot_id: str) -> str | None:
        if not self._exists(con):
            return None
        row = con.execute(f"SELECT {base.STATUS} FROM plots WHERE {s.PLOT_ID} = %s FOR UPDATE", (plot_id,)).fetchone()
        return None if row is None else str(row[0])

    def _mark_withdrawn(self, con: Any, plot_id: str, *, stamp: str, uploader: str, note: str) -> None:
        self._archive(con, plot_id, stamp)
        con.execute(
            f"UPDATE plots SET {base.STATUS} = %s, {base.VERSION} = {base.VERSION} + 1, "
            f"{base.UPLOADED_AT} = %s, {base.UPLOADER} = %s, {s.SOURCE} = {s.SOURCE} || %s WHERE {s.PLOT_ID} = %s",
            (base.WITHDRAWN, stamp, uploader, note, plot_id),
        )
