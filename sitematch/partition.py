"""Plots as a folder of spatially sorted GeoParquet partitions, for workers to read where they live.

:func:`write_partitioned` sorts plots along a Hilbert curve (the distance of each plot's bounding
box centre, computed once on the writer) and writes one GeoParquet file per contiguous run of the
curve — ``part-00000.parquet``, ``part-00001.parquet``, … — so each partition's plots lie near
each other and touch the same parts of the layer indexes. No shuffle is ever needed: every file
carries its partition's bounding box, row count and municipality counts in its own key-value
metadata (key ``sitematch``), and the folder holds the same for every file in ``_sitematch.json``
(the manifest: the format version, the CRS, the total row count).

The folder is written whole or not at all: into a hidden temporary folder beside it, renamed into
place once every file is written.

Examples
--------
>>> from sitematch.bench.synthetic import synthetic_plots
>>> import tempfile, pathlib
>>> out = write_partitioned(synthetic_plots(300), pathlib.Path(tempfile.mkdtemp()) / "plots.parquet", 3)
>>> manifest = read_manifest(out)
>>> manifest.rows, [p.path.name for p in manifest.parts]
(300, ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet'])
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError

log = logging.getLogger(__name__)

#: Bump when the folder's layout or metadata change: folders of other versions are refused.
FORMAT_VERSION = 1
#: The folder's manifest (one JSON object).
MANIFEST = "_sitematch.json"
#: The key of each file's own metadata.
METADATA_KEY = b"sitematch"
#: Plots per partition when no count is given (at most; see :func:`default_partitions`).
DEFAULT_ROWS_PER_PARTITION = 125_000


@dataclass(frozen=True)
class Partition:
    """One file of a partitioned plots folder.

    Attributes
    ----------
    path : pathlib.Path
        The GeoParquet file.
    rows : int
        Plots in it.
    bbox : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of its plots in EPSG:3006 metres.
    municipality_counts : mapping of str to int
        Plots by kommunkod (for the region's size without reading the file).
    """

    path: Path
    rows: int
    bbox: tuple[float, float, float, float]
    municipality_counts: Mapping[str, int]


@dataclass(frozen=True)
class PartitionedPlots:
    """A partitioned plots folder, as its manifest describes it (see :func:`read_manifest`)."""

    folder: Path
    crs: str
    parts: tuple[Partition, ...]
    provenance: tuple[tuple[str, str, int], ...]

    @property
    def rows(self) -> int:
        """Plots in every partition."""
        return sum(p.rows for p in self.parts)

    def municipality_counts(self) -> pd.Series:
        """Plots by kommunkod over every partition (index: the code as text)."""
        total: dict[str, int] = {}
        for p in self.parts:
            for code, n in p.municipality_counts.items():
                total[code] = total.get(code, 0) + n
        return pd.Series(total, dtype="int64")


def hilbert_order(plots: gpd.GeoDataFrame) -> np.ndarray:
    """The order of ``plots`` along a Hilbert curve over their extent (by bounding box centre).

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=shapely.points([(0, 0), (10, 10), (0, 1)]), crs=WORKING_CRS)
    >>> hilbert_order(g).tolist()
    [0, 2, 1]
    """
    if not len(plots):
        return np.arange(0)
    distance = plots.geometry.hilbert_distance(total_bounds=plots.total_bounds, level=16).to_numpy()
    return np.argsort(distance, kind="stable")


def default_partitions(rows: int) -> int:
    """Partitions for ``rows`` plots: at most :data:`DEFAULT_ROWS_PER_PARTITION` each, and up to 8
    of at least 10,000 each (enough to keep a few workers busy without tiny tasks).

    Examples
    --------
    >>> [default_partitions(n) for n in (0, 5_000, 100_000, 1_000_000, 3_000_000)]
    [1, 1, 8, 8, 24]
    """
    return max(1, -(-rows // DEFAULT_ROWS_PER_PARTITION), min(8, rows // 10_000))


def write_partitioned(
    plots: gpd.GeoDataFrame, folder: str | Path, n_partitions: int | None = None, *, overwrite: bool = False
) -> Path:
    """Write plots as spatially sorted GeoParquet partitions, atomically.

    Parameters
    ----------
    plots : geopandas.GeoDataFrame
        Plots in EPSG:3006 (the working CRS) with the plot columns.
    folder : str or pathlib.Path
        The folder to create (by convention named ``….parquet``).
    n_partitions : int, optional
        How many files; default :func:`default_partitions`.
    overwrite : bool
        Replace an existing partitioned plots folder (never any other folder or file).

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    LayerError
        If the plots are not in EPSG:3006, ``folder`` exists (and is not a partitioned plots
        folder to overwrite), or ``n_partitions`` is below 1.
    """
    folder = Path(folder)
    if plots.crs is None or not plots.crs.equals(WORKING_CRS):
        raise LayerError(
            f"plots must be in EPSG:3006 to be partitioned (got {plots.crs})",
            hint="Reproject them with to_crs(3006), or read them through a LayerSet or a plot store.",
            where=str(folder),
        )
    if n_partitions is not None and n_partitions < 1:
        raise LayerError(f"{folder}: the number of partitions must be at least 1, not {n_partitions}")
    if folder.exists() and not (overwrite and (folder / MANIFEST).is_file()):
        if (folder / MANIFEST).is_file():
            msg = "already exists (a partitioned plots folder); replace it with --overwrite, or choose another name"
        else:
            msg = "already exists (a file or folder that is not partitioned plots); choose another name"
        raise LayerError(f"{folder}: {msg}", where=str(folder))
    n = n_partitions or default_partitions(len(plots))
    n = max(1, min(n, len(plots))) if len(plots) else 1
    ordered = plots.iloc[hilbert_order(plots)].reset_index(drop=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        parts = []
        for i, rows in enumerate(np.array_split(np.arange(len(ordered)), n)):
            parts.append(_write_part(ordered.iloc[rows], tmp / f"part-{i:05d}.parquet"))
        prov = ordered.groupby([s.SOURCE, s.LICENCE], dropna=False).size() if s.SOURCE in ordered.columns else {}
        manifest = {
            "sitematch_partitioned_plots": FORMAT_VERSION,
            "crs": "EPSG:3006",
            "rows": len(ordered),
            "parts": [{"file": p.path.name, **_part_meta(p)} for p in parts],
            "provenance": [[str(src), str(lic), int(k)] for (src, lic), k in dict(prov).items()],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if folder.exists():  # overwrite: the old folder goes only once the new one is complete
            old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
            os.replace(folder, old / folder.name)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %d plots in %d partitions to %s", len(ordered), n, folder)
    return folder


def _part_meta(p: Partition) -> dict[str, object]:
    return {"rows": p.rows, "bbox": list(p.bbox), "municipality_counts": dict(p.municipality_counts)}


def _bbox(values: Iterable[float]) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` as floats."""
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    return xmin, ymin, xmax, ymax


def _write_part(part: gpd.GeoDataFrame, path: Path) -> Partition:
    import pyarrow.parquet as pq
    from geopandas.io.arrow import _geopandas_to_arrow  # GeoParquet metadata as to_parquet writes it

    bbox = _bbox(part.total_bounds if len(part) else (np.nan,) * 4)
    codes = part[s.MUNICIPALITY_CODE].astype(str).value_counts() if s.MUNICIPALITY_CODE in part.columns else {}
    info = Partition(path, len(part), bbox, {str(k): int(v) for k, v in dict(codes).items()})
    table = _geopandas_to_arrow(part, index=False)
    meta = {"format_version": FORMAT_VERSION, "crs": "EPSG:3006", **_part_meta(info)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta).encode()})
    pq.write_table(table, path)
    return info


def _not_partitioned(folder: Path, why: str) -> LayerError:
    return LayerError(
        f"{folder}: not a partitioned plots folder ({why})",
        where=str(folder),
        hint="Write one with the 'plots partition' command (sitematch.partition.write_partitioned).",
        option="plots",
    )


def read_manifest(folder: str | Path) -> PartitionedPlots:
    """Read and check a partitioned plots folder's manifest (no plots are read).

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder :func:`write_partitioned` wrote.

    Returns
    -------
    PartitionedPlots

    Raises
    ------
    LayerError
        If the folder is missing, is not a partitioned plots folder, is of another format
        version or CRS, or lacks a file its manifest lists.
    """
    folder = Path(folder)
    if not folder.exists():
        raise LayerError(f"{folder}: no such folder", where=str(folder), option="plots")
    if not folder.is_dir():
        raise _not_partitioned(folder, "it is a file")
    if not (folder / MANIFEST).is_file():
        raise _not_partitioned(folder, f"it has no {MANIFEST}")
    try:
        meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        version = meta["sitematch_partitioned_plots"]
        crs = meta["crs"]
        parts = tuple(
            Partition(
                folder / p["file"],
                int(p["rows"]),
                _bbox(p["bbox"]),
                {str(k): int(v) for k, v in p["municipality_counts"].items()},
            )
            for p in meta["parts"]
        )
        provenance = tuple((str(a), str(b), int(c)) for a, b, c in meta.get("provenance", []))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise _not_partitioned(folder, f"its {MANIFEST} is unreadable: {exc}") from None
    if version != FORMAT_VERSION:
        raise LayerError(
            f"{folder}: written in partition format {version}; this sitematch reads format {FORMAT_VERSION}",
            where=str(folder),
            hint="Write the folder again with this version of sitematch.",
        )
    if crs != "EPSG:3006":
        raise LayerError(f"{folder}: plots in {crs}; sitematch works in EPSG:3006", where=str(folder))
    missing = [p.path.name for p in parts if not p.path.is_file()]
    if missing:
        raise LayerError(f"{folder}: the partition file(s) {', '.join(missing[:3])} are missing", where=str(folder))
    return PartitionedPlots(folder, crs, parts, provenance)


def read_partition(path: str | Path) -> gpd.GeoDataFrame:
    """Read one partition file, checking its format version and CRS.

    Raises
    ------
    LayerError
        If the file is unreadable, not a sitematch partition, or not in EPSG:3006.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
        plots = gpd.read_parquet(path)
    except (OSError, ValueError, TypeError) as exc:  # pyarrow's errors derive from these
        raise LayerError(f"{path}: cannot read the partition: {exc}", where=str(path)) from None
    if raw is None or json.loads(raw).get("format_version") != FORMAT_VERSION:
        raise LayerError(f"{path}: not a sitematch plots partition of format {FORMAT_VERSION}", where=str(path))
    if plots.crs is None or not plots.crs.equals(WORKING_CRS):
        raise LayerError(f"{path}: plots in {plots.crs}; sitematch works in EPSG:3006", where=str(path))
    return plots


def read_partitioned(folder: str | Path) -> gpd.GeoDataFrame:
    """Every plot of a partitioned plots folder, in partition order (one process).

    Raises
    ------
    LayerError
        As :func:`read_manifest` and :func:`read_partition`.
    """
    manifest = read_manifest(folder)
    frames = [read_partition(p.path) for p in manifest.parts]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry=s.GEOMETRY, crs=WORKING_CRS)
