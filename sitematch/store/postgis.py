"""The server plot store: PostgreSQL with PostGIS, for a shared deployment.

Same interface and semantics as :class:`~sitematch.store.gpkg.GeoPackageStore`: one transaction
per upload (rows locked with ``SELECT … FOR UPDATE`` so concurrent uploads queue), history in
``plot_versions``, withdrawn plots kept. Geometries are stored as ``geometry(MultiPolygon, 3006)``
with a GiST index.
"""

from __future__ import annotations

import os
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
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
    VERSION,
    WITHDRAWN,
    UploadSummary,
    check_upload,
    now_iso,
    plots_frame,
    row_values,
    same_plot,
)
from sitematch.store.gpkg import PAUSE_ENV

_TYPES = {
    s.AREA_HA: "double precision",
    s.PRICE_SEK_M2: "double precision",
    s.READY: "boolean",
    s.BROWNFIELD: "boolean",
    s.MIFO_RISK_CLASS: "integer",
    VERSION: "integer",
}
_COLUMNS_SQL = ", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in STORE_COLUMNS)
_SELECT = ", ".join(STORE_COLUMNS)


class PostGISStore:
    """A plot store in a PostGIS database (tables created on first use).

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/database``; the PostGIS extension must be available.
    """

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError("the PostGIS store needs psycopg: pip install 'sitematch[postgis]'") from None
        self._psycopg = psycopg
        self.url = url
        try:
            with self._connect() as con:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS plots ({_COLUMNS_SQL}, geom geometry(MultiPolygon, 3006) NOT NULL, "
                    f"PRIMARY KEY ({s.PLOT_ID}))"
                )
                con.execute("CREATE INDEX IF NOT EXISTS plots_geom ON plots USING gist (geom)")
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS plot_versions (id bigserial PRIMARY KEY, {_COLUMNS_SQL}, "
                    "valid_to text, geom geometry(MultiPolygon, 3006))"
                )
                con.execute(f"CREATE INDEX IF NOT EXISTS plot_versions_id ON plot_versions ({s.PLOT_ID})")
        except psycopg.Error as exc:
            raise StoreError(f"{self._safe_url()}: cannot open the PostGIS plot store: {exc}") from None

    def __repr__(self) -> str:
        return f"PostGISStore({self._safe_url()!r})"

    def _safe_url(self) -> str:
        head, _, tail = self.url.rpartition("@")
        return f"postgresql://…@{tail}" if head else self.url

    def _connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=False)

    # -- reading --------------------------------------------------------------------------------
    def _frame(self, rows: list[tuple], with_status: bool) -> gpd.GeoDataFrame:
        df = pd.DataFrame([r[:-1] for r in rows], columns=list(STORE_COLUMNS))
        geoms = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else np.array([], dtype=object)
        gdf = gpd.GeoDataFrame(df, geometry=list(geoms), crs=WORKING_CRS)
        return plots_frame(gdf, include_status=with_status)

    def plots(self, *, municipality_code: str | None = None, include_withdrawn: bool = False) -> gpd.GeoDataFrame:
        """Current plots in canonical columns, EPSG:3006, sorted by ``plot_id`` (see GeoPackageStore)."""
        clauses, params = [], []
        if not include_withdrawn:
            clauses.append(f"{STATUS} = %s")
            params.append(ACTIVE)
        if municipality_code is not None:
            clauses.append(f"{s.MUNICIPALITY_CODE} = %s")
            params.append(str(municipality_code))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as con:
            rows = con.execute(f"SELECT {_SELECT}, ST_AsBinary(geom) FROM plots {where}", params).fetchall()
        return self._frame(rows, include_withdrawn)

    def history(self, plot_id: str) -> pd.DataFrame:
        """Every version of a plot, oldest first, the current one last."""
        with self._connect() as con:
            old = con.execute(
                f"SELECT {_SELECT}, valid_to FROM plot_versions WHERE {s.PLOT_ID} = %s ORDER BY {VERSION}", (plot_id,)
            ).fetchall()
            cur = con.execute(f"SELECT {_SELECT}, NULL FROM plots WHERE {s.PLOT_ID} = %s", (plot_id,)).fetchall()
        if not cur:
            raise StoreError(f"{self._safe_url()}: no plot {plot_id!r} in the store")
        return pd.DataFrame(old + cur, columns=[*STORE_COLUMNS, "valid_to"])

    # -- writing --------------------------------------------------------------------------------
    def _archive(self, con: Any, plot_id: str, valid_to: str) -> None:
        con.execute(
            f"INSERT INTO plot_versions ({_SELECT}, valid_to, geom) SELECT {_SELECT}, %s, geom FROM plots "
            f"WHERE {s.PLOT_ID} = %s",
            (valid_to, plot_id),
        )

    def upload(
        self, plots: gpd.GeoDataFrame, *, municipality_code: str, uploader: str, filename: str = ""
    ) -> UploadSummary:
        """Insert or update one municipality's validated plots in one transaction (see GeoPackageStore)."""
        check_upload(plots, municipality_code)
        stamp = now_iso()
        inserted, updated, unchanged = [], [], []
        cols = (*s.PLOTS.column_names, STATUS, VERSION, UPLOADED_AT, UPLOADER)
        placeholders = ", ".join(["%s"] * len(cols))
        sets = ", ".join(f"{c} = %s" for c in cols)
        try:
            with self._connect() as con:
                for _, row in plots.iterrows():
                    geom = row[s.GEOMETRY]
                    if geom.geom_type == "Polygon":
                        geom = shapely.MultiPolygon([geom])
                    wkb = shapely.to_wkb(geom)
                    values = row_values(row)
                    cur = con.execute(
                        f"SELECT {_SELECT}, ST_AsBinary(geom) FROM plots WHERE {s.PLOT_ID} = %s FOR UPDATE",
                        (row[s.PLOT_ID],),
                    ).fetchone()
                    if cur is None:
                        con.execute(
                            f"INSERT INTO plots ({', '.join(cols)}, geom) "
                            f"VALUES ({placeholders}, ST_GeomFromWKB(%s, 3006))",
                            (*values, ACTIVE, 1, stamp, uploader, wkb),
                        )
                        inserted.append(row[s.PLOT_ID])
                        continue
                    old = pd.Series(dict(zip(STORE_COLUMNS, cur[:-1], strict=True)))
                    old[s.GEOMETRY] = shapely.from_wkb(bytes(cur[-1]))
                    if old[STATUS] == ACTIVE and same_plot(old, pd.Series({**row.to_dict(), s.GEOMETRY: geom})):
                        unchanged.append(row[s.PLOT_ID])
                        continue
                    self._archive(con, row[s.PLOT_ID], stamp)
                    con.execute(
                        f"UPDATE plots SET {sets}, geom = ST_GeomFromWKB(%s, 3006) WHERE {s.PLOT_ID} = %s",
                        (*values, ACTIVE, int(old[VERSION]) + 1, stamp, uploader, wkb, row[s.PLOT_ID]),
                    )
                    updated.append(row[s.PLOT_ID])
                pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
                if pause:
                    time.sleep(pause)
        except self._psycopg.Error as exc:
            raise StoreError(f"{self._safe_url()}: upload failed and was rolled back: {exc}") from None
        return UploadSummary(municipality_code, inserted, updated, unchanged)

    def withdraw(self, plot_id: str, *, uploader: str, reason: str = "") -> None:
        """Mark a plot withdrawn; the previous version goes to the history."""
        stamp = now_iso()
        with self._connect() as con:
            cur = con.execute(f"SELECT {STATUS} FROM plots WHERE {s.PLOT_ID} = %s FOR UPDATE", (plot_id,)).fetchone()
            if cur is None:
                raise StoreError(f"{self._safe_url()}: no plot {plot_id!r} in the store")
            if cur[0] == WITHDRAWN:
                raise StoreError(f"{plot_id} is already withdrawn")
            self._archive(con, plot_id, stamp)
            note = f" (withdrawn by {uploader}" + (f": {reason})" if reason else ")")
            con.execute(
                f"UPDATE plots SET {STATUS} = %s, {VERSION} = {VERSION} + 1, {UPLOADED_AT} = %s, {UPLOADER} = %s, "
                f"{s.SOURCE} = {s.SOURCE} || %s WHERE {s.PLOT_ID} = %s",
                (WITHDRAWN, stamp, uploader, note, plot_id),
            )
