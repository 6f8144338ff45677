"""Export columns made where the sites were scored (a Dask worker), taken into table order by the driver.

A worker that scored a partition also turns its sites into what ``ranking.csv`` and
``ranking.gpkg`` hold — each column as Arrow (``raw:<column>``), as the CSV's text
(``csv:<column>``), the polygons as MultiPolygon WKB (``wkb:geometry``) and the centroids as
``csv:lon`` / ``csv:lat`` text — and writes them to an Arrow file (:func:`write_part`): the
per-site work of the exports, done on every worker at once. The driver maps those files
(:func:`attach`, no copy) and the table writers take each column in table order
(:func:`prepared_column`) instead of making it; a column the parts cannot give as one (its
type differs between partitions) is made by the driver as before. The columns only the driver
knows (``rank``, ``in_region``, the municipality's name) are always made by the driver.
"""

from __future__ import annotations

import shutil
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.result import IN_REGION, RANK, WHY_PREFIX

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.result import MatchResult

#: Columns the driver adds after ranking: never made by a worker.
DRIVER_COLUMNS = (RANK, IN_REGION, s.MUNICIPALITY_NAME)


def write_part(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Worker side: the export columns of ``frame``'s sites, in its row order, to the Arrow file ``path``."""
    import pyarrow as pa

    from sitematch.export.tables import _lon_lat_text, _multipolygon_wkb, arrow_of, csv_text

    arrays: list[Any] = []
    names: list[str] = []
    for name in frame.columns:
        if name == s.GEOMETRY or str(name).startswith(WHY_PREFIX) or name in DRIVER_COLUMNS:
            continue
        try:
            raw = arrow_of([frame], name, floats=frame[name].dtype.kind == "f")
            text = csv_text(raw)
        except (pa.ArrowException, TypeError, ValueError):  # the driver makes this one
            continue
        arrays += [raw, text]
        names += [f"raw:{name}", f"csv:{name}"]
    geometry = np.asarray(frame.geometry.values)
    wkb = _multipolygon_wkb(geometry)
    if wkb is not None:
        arrays.append(wkb)
        names.append(f"wkb:{s.GEOMETRY}")
    arrays += _lon_lat_text(geometry, frame.crs)
    names += ["csv:lon", "csv:lat"]
    table = pa.Table.from_arrays(arrays, names=names)
    tmp = path.with_name(f".{path.name}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)
    return path


@dataclass
class _Prepared:
    tables: list[Any]  # one Arrow table per part, rows in the order of ``result.sites``
    order: Any = None  # positions in table order (ranked, then excluded), made when first asked


_PREPARED: dict[int, _Prepared] = {}
_LOCK = threading.Lock()


def attach(result: MatchResult, paths: list[Path], folder: Path | None = None) -> bool:
    """Driver side: let the table writers take ``result``'s columns from the parts at ``paths``.

    The parts' rows, one after the other, must be ``result.sites``' rows (checked by plot id);
    otherwise nothing is attached and the writers make every column themselves. ``folder`` (the
    parts' temporary folder) is removed when ``result`` is let go of.

    Returns
    -------
    bool
        Whether the parts were attached.
    """
    import pyarrow as pa

    if folder is not None:
        weakref.finalize(result, shutil.rmtree, str(folder), ignore_errors=True)
    try:
        tables = [pa.ipc.open_file(pa.memory_map(str(p))).read_all() for p in paths]
    except (OSError, pa.ArrowException):  # a worker elsewhere wrote to its own disk: the driver makes them
        return False
    key = f"raw:{s.PLOT_ID}"
    sites = result.sites
    if not sites.index.equals(pd.RangeIndex(len(sites))) or sum(t.num_rows for t in tables) != len(sites):
        return False
    if any(key not in t.column_names for t in tables):
        return False
    ids = pa.chunked_array([c for t in tables for c in t.column(key).chunks]).to_numpy()
    if not np.array_equal(ids, sites[s.PLOT_ID].to_numpy(dtype=object)):
        return False
    with _LOCK:
        _PREPARED[id(result)] = _Prepared(tables)
    weakref.finalize(result, _PREPARED.pop, id(result), None)
    return True


def prepared_column(result: MatchResult, kind: str, name: str) -> Any:
    """Column ``kind:name`` of the attached parts in table order, or None (not attached, not one type)."""
    import pyarrow as pa

    prepared = _PREPARED.get(id(result))
    key = f"{kind}:{name}"
    if prepared is None or any(key not in t.column_names for t in prepared.tables):
        return None
    chunks = [c for t in prepared.tables for c in t.column(key).chunks]
    types = {c.type for c in chunks if len(c) and not pa.types.is_null(c.type)}
    if len(types) > 1:
        return None
    kind_of = next(iter(types)) if types else pa.string()
    chunks = [c if c.type == kind_of else c.cast(kind_of) for c in chunks]
    if prepared.order is None:
        with _LOCK:
            if prepared.order is None:
                prepared.order = pa.array(
                    np.concatenate([result.ranked.index.to_numpy(), result.excluded.index.to_numpy()])
                )
    return pa.chunked_array(chunks, kind_of).take(prepared.order).combine_chunks()
