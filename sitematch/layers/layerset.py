"""The LayerSet: every spatial layer of a region, validated, in EPSG:3006, indexed once.

A LayerSet is read from one GeoPackage holding a layer per kind (``layers/region.gpkg``: the
layer names are the kinds in :data:`sitematch.schema.LAYERS`), or from a folder with one file per
kind (``plots.gpkg``, ``ports.geojson``, ``motorways.shp``…). Plots can be replaced by those of a
plot store with :meth:`LayerSet.with_plots`.

Indexes (:class:`sitematch.index.NearestIndex`) are built lazily, once per layer and parameter,
and kept on the LayerSet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from sitematch import schema as s
from sitematch.crs import to_working_crs
from sitematch.errors import LayerError

#: File suffixes read when a LayerSet is a folder of files.
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet")


def _read_any(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        if path.suffix == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        what = f"{path} (layer {layer!r})" if layer else str(path)
        raise LayerError(f"{what}: cannot be read as a spatial layer: {exc}") from None


def validate_layer(gdf: gpd.GeoDataFrame, kind: str, *, what: str) -> gpd.GeoDataFrame:
    """Check a layer against its schema and bring it to EPSG:3006.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    kind : str
        Its kind, a key of :data:`sitematch.schema.LAYERS`.
    what : str
        Where it came from, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:3006 with its canonical columns typed.

    Raises
    ------
    LayerError
        Listing every missing required column, empty required values, or a wrong geometry type.
    CRSError
        If the layer has no CRS or one that puts it outside Sweden.
    """
    schema = s.LAYERS[kind]
    problems: list[str] = []
    missing = [c for c in schema.required_names if c not in gdf.columns]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    else:
        for c in schema.required_names:
            n = int(gdf[c].isna().sum())
            if n:
                problems.append(f"column {c!r} is empty in {n} row(s)")
    if len(gdf):
        gtypes = set(gdf.geometry.geom_type.dropna().unique())
        if not gtypes <= {schema.geometry_type, f"Multi{schema.geometry_type}"}:
            problems.append(f"expected {schema.geometry_type} geometries, found {', '.join(sorted(gtypes))}")
        if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
            problems.append(f"{int((gdf.geometry.isna() | gdf.geometry.is_empty).sum())} row(s) have no geometry")
    if problems:
        raise LayerError(f"{what} is not a valid {kind!r} layer: " + "; ".join(problems))
    out = to_working_crs(gdf, what=what)
    for col in schema.all_columns:
        if col.name not in out.columns:
            out[col.name] = pd.NA
            continue
        if col.dtype == "str" or col.dtype == "date":
            out[col.name] = out[col.name].astype("string")
        elif col.dtype == "float":
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("float64")
        elif col.dtype == "int":
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("Int64")
        elif col.dtype == "bool":
            out[col.name] = out[col.name].astype("boolean")
    return out.reset_index(drop=True)


class LayerSet:
    """The layers of a region, in EPSG:3006, with indexes built once.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers by kind; each is validated and reprojected.
    members : pandas.DataFrame, optional
        The members table (see :data:`sitematch.schema.MEMBERS_COLUMNS`).
    origin : str
        Where the layers came from, for messages and provenance.

    Examples
    --------
    >>> layers = LayerSet.from_path("layers/region.gpkg")  # doctest: +SKIP
    >>> layers["ports"].crs.to_epsg()  # doctest: +SKIP
    3006
    """

    def __init__(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        members: pd.DataFrame | None = None,
        origin: str = "<memory>",
        *,
        validated: bool = False,
    ) -> None:
        unknown = set(layers) - set(s.LAYERS)
        if unknown:
            raise LayerError(
                f"{origin}: unknown layer kind(s) {', '.join(sorted(unknown))}; known: {', '.join(s.LAYERS)}"
            )
        self.origin = origin
        self._layers = (
            dict(layers)
            if validated
            else {k: validate_layer(v, k, what=f"{origin}: layer {k!r}") for k, v in layers.items()}
        )
        self.members = members
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path, kinds: Iterable[str] | None = None) -> LayerSet:
        """Read a LayerSet from a GeoPackage (one layer per kind) or a folder (one file per kind).

        Parameters
        ----------
        path : str or pathlib.Path
            ``region.gpkg``, or a folder holding ``region.gpkg`` or files named by kind.
        kinds : iterable of str, optional
            Only read these kinds.

        Returns
        -------
        LayerSet

        Raises
        ------
        LayerError
            If the path does not exist or a layer is unreadable or invalid.
        """
        path = Path(path)
        want = set(kinds) if kinds is not None else set(s.LAYERS)
        if path.is_dir() and (path / "region.gpkg").is_file():
            path = path / "region.gpkg"
        layers: dict[str, gpd.GeoDataFrame] = {}
        members = None
        if path.is_file():
            try:
                names = {str(row[0]) for row in pyogrio.list_layers(path)}
            except (pyogrio.errors.DataSourceError, OSError) as exc:
                raise LayerError(f"{path}: not a readable GeoPackage: {exc}") from None
            for kind in sorted(want & names):
                layers[kind] = _read_any(path, kind)
            if "members" in names:
                members = pyogrio.read_dataframe(path, layer="members", read_geometry=False)
        elif path.is_dir():
            for f in sorted(path.iterdir()):
                if f.suffix.lower() in VECTOR_SUFFIXES and f.stem in want:
                    layers[f.stem] = _read_any(f)
            if (path / "members.csv").is_file():
                members = pd.read_csv(path / "members.csv", dtype=str)
        else:
            raise LayerError(
                f"{path}: no such layer file or folder; build the demo region with `sitematch layers build-demo`"
            )
        if not layers:
            raise LayerError(f"{path}: holds none of the layer kinds sitematch knows ({', '.join(s.LAYERS)})")
        return cls(layers, members, str(path))

    # -- access ----------------------------------------------------------------------------------
    def __contains__(self, kind: str) -> bool:
        return kind in self._layers

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        if kind not in self._layers:
            raise LayerError(f"{self.origin}: has no {kind!r} layer; layers present: {', '.join(self.kinds) or 'none'}")
        return self._layers[kind]

    def get(self, kind: str) -> gpd.GeoDataFrame | None:
        """The layer of this kind, or None if the set has none."""
        return self._layers.get(kind)

    @property
    def kinds(self) -> list[str]:
        """Kinds of the layers present."""
        return list(self._layers)

    def with_plots(self, plots: gpd.GeoDataFrame, origin: str | None = None) -> LayerSet:
        """A LayerSet with the same infrastructure layers (and indexes) but other plots."""
        other = LayerSet.__new__(LayerSet)
        other.origin = origin or self.origin
        other._layers = dict(self._layers)
        other._layers["plots"] = validate_layer(plots, "plots", what=f"{origin or 'plots'}")
        other.members = self.members
        other._cache = {k: v for k, v in self._cache.items() if not (isinstance(k, tuple) and k[0] == "plots")}
        other._lock = threading.Lock()
        return other

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Return ``build()`` once per key; used for indexes. Thread-safe."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    def provenance(self) -> pd.DataFrame:
        """One row per (layer, source, licence) with the number of rows: what every number rests on."""
        rows = []
        for kind, gdf in self._layers.items():
            if not len(gdf):
                continue
            grouped = gdf.groupby([s.SOURCE, s.LICENCE], dropna=False).size()
            for (source, licence), n in grouped.items():
                rows.append({"layer": kind, s.SOURCE: source, s.LICENCE: licence, "rows": int(n)})
        return pd.DataFrame(rows, columns=["layer", s.SOURCE, s.LICENCE, "rows"])

    def __getstate__(self) -> dict[str, Any]:
        # Picklable for Dask workers: indexes are rebuilt there, not shipped.
        state = self.__dict__.copy()
        state["_cache"] = {}
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v)}" for k, v in self._layers.items())
        return f"LayerSet({self.origin!r}: {parts})"
