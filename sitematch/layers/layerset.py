"""The LayerSet: every spatial layer of a region, validated, in EPSG:3006, indexed once.

A LayerSet is read from a region folder with a catalogue (``layers/layers.yaml``, see
:mod:`sitematch.layers.catalogue`: it names every layer, may declare new kinds and criteria on
them), from one GeoPackage holding a layer per built-in kind (the layer names are the kinds in
:data:`sitematch.schema.LAYERS`), or from a folder with one file per kind (``plots.gpkg``,
``ports.geojson``, ``motorways.shp``…). Plots can be replaced by those of a plot store with
:meth:`LayerSet.with_plots`.

Indexes (:class:`sitematch.index.NearestIndex`) are built lazily, once per layer and parameter,
and kept on the LayerSet.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from sitematch import schema as s
from sitematch.crs import to_working_crs
from sitematch.errors import LayerError
from sitematch.layers.catalogue import CATALOGUE_FILE, MEMBERS, RASTER, Region, read_catalogue

if TYPE_CHECKING:
    from sitematch.criteria import Registry

log = logging.getLogger(__name__)

#: File suffixes read when a LayerSet is a folder of files.
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet")


def _read_any(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    what = f"{path} (layer {layer!r})" if layer else str(path)
    if not path.is_file():
        raise LayerError(f"{what}: no such file", where=str(path))
    try:
        if path.suffix == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        raise LayerError(f"{what}: cannot be read as a spatial layer: {exc}", where=str(path)) from None


def _layer_names(path: Path) -> set[str]:
    try:
        return {str(row[0]) for row in pyogrio.list_layers(path)}
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise LayerError(f"{path}: not a readable GeoPackage: {exc}", where=str(path)) from None


def _default_layer(path: Path, kind: str) -> str | None:
    """Inside a multi-layer file, the layer named like the kind; in a single-layer file, that one."""
    if path.suffix.lower() != ".gpkg":
        return None
    return kind if kind in _layer_names(path) else None


def _read_table(path: Path, layer: str) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str)
    try:
        return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise LayerError(f"{path} (table {layer!r}): cannot be read: {exc}", where=str(path)) from None


def validate_layer(
    gdf: gpd.GeoDataFrame, kind: str, *, what: str, schema: s.LayerSchema | None = None
) -> gpd.GeoDataFrame:
    """Check a layer against its schema and bring it to EPSG:3006.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    kind : str
        Its kind.
    what : str
        Where it came from, for error messages.
    schema : sitematch.schema.LayerSchema, optional
        Its schema (a catalogue's); default the built-in kind's, :data:`sitematch.schema.LAYERS`.

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

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> rail = gpd.GeoDataFrame({"line_name": ["Mälarbanan"], "source": ["example"], "licence": ["CC0"]},
    ...                         geometry=[Point(16.5, 59.6).buffer(0.01).boundary], crs=4326)
    >>> validate_layer(rail, "rail", what="example").crs.to_epsg()
    3006
    """
    schema = schema or s.LAYERS[kind]
    problems: list[str] = []
    missing = [c for c in schema.required_names if c not in gdf.columns]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    typed, unreadable = _typed(gdf, schema)
    problems += unreadable
    if not missing:
        for c in schema.required_names:
            n = int(typed[c].isna().sum())
            if n:
                problems.append(f"column {c!r} is empty in {n} row(s)")
    if len(gdf):
        gtypes = set(gdf.geometry.geom_type.dropna().unique())
        if not gtypes <= {schema.geometry_type, f"Multi{schema.geometry_type}"}:
            problems.append(f"expected {schema.geometry_type} geometries, found {', '.join(sorted(gtypes))}")
        if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
            problems.append(f"{int((gdf.geometry.isna() | gdf.geometry.is_empty).sum())} row(s) have no geometry")
    if problems:
        raise LayerError(f"{what} is not a valid {kind!r} layer: " + "; ".join(problems), where=what)
    out = to_working_crs(typed, what=what)
    return out.reset_index(drop=True)


#: Words read as yes/no in a layer's boolean columns.
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "ja": True, "nej": False, "1": True, "0": False}


def _yes_no(value: object) -> bool | None:
    """A yes/no cell: True or False, 1 or 0 (GDAL's integer booleans), or a word such as ja or nej; else None."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number) and value in (0, 1):
        return bool(value)
    return _BOOLEANS.get(str(value).strip().lower())


#: The pandas dtype a schema column type is read into (a column of this dtype needs no reading).
_TYPED = {"float": "float64", "int": "Int64", "bool": "boolean"}
_STRING = pd.Series([], dtype="string").dtype


def _typed(gdf: gpd.GeoDataFrame, schema: s.LayerSchema) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The layer with its schema's columns typed, and a problem for every column with unreadable values.

    A value that is there but cannot be read (``"40,5"`` for a number, ``"kanske"`` for yes/no) is
    a problem, never silently missing.
    """
    out, problems = gdf.copy(), []
    for col in schema.all_columns:
        if col.name not in out.columns:
            out[col.name] = pd.NA
            continue
        raw = out[col.name]
        if col.dtype in ("str", "date"):
            if raw.dtype != _STRING:  # (pandas' "str" with NaN for missing compares equal to "string")
                out[col.name] = raw.astype("string")
            continue
        if str(raw.dtype) == _TYPED[col.dtype]:  # typed already (a store's plots, a layer typed before)
            continue
        blank = raw.astype("string").str.strip().fillna("").eq("").to_numpy(dtype=bool)
        given = raw.notna().to_numpy(dtype=bool) & ~blank
        if col.dtype == "bool":
            parsed = raw.map(_yes_no)
            typed = parsed.astype("boolean")
        else:
            typed = pd.to_numeric(raw, errors="coerce").astype("float64" if col.dtype == "float" else "Float64")
            if col.dtype == "int":
                whole = typed.isna() | (typed % 1 == 0)
                typed = typed.where(whole).round().astype("Int64")
        bad = given & typed.isna().to_numpy(dtype=bool)
        if bad.any():
            example = raw[bad].iloc[0]
            kind = "yes/no values" if col.dtype == "bool" else ("whole numbers" if col.dtype == "int" else "numbers")
            problems.append(
                f"column {col.name!r} has {int(bad.sum())} value(s) that are not {kind} (e.g. {str(example)[:40]!r})"
            )
        out[col.name] = typed
    return out, problems


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
    region : Region, optional
        The region the layers are read per (:func:`sitematch.layers.catalogue.read_catalogue`):
        the schemas of its layer kinds (new kinds included), their provenance, and the criteria a
        profile can use (``region.registry``). Without one, the built-in kinds and criteria.
    catalogue : Region, optional
        The same, by its former name.

    Examples
    --------
    >>> layers = LayerSet.from_path("layers")
    >>> layers["ports"].crs.to_epsg()
    3006
    >>> layers.municipality_names["1980"]
    'Västerås'
    """

    def __init__(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        members: pd.DataFrame | None = None,
        origin: str = "<memory>",
        *,
        region: Region | None = None,
        catalogue: Region | None = None,
        validated: bool = False,
    ) -> None:
        self.region = region or catalogue or Region(None)
        unknown = [k for k in layers if self.catalogue.schema(k) is None or k == MEMBERS]
        if unknown:
            known = ", ".join(dict.fromkeys([*s.LAYERS, *self.catalogue.layers]))
            raise LayerError(
                f"{origin}: unknown layer kind(s) {', '.join(sorted(unknown))}; known: {known}. "
                f"A new kind is declared in the region's {CATALOGUE_FILE}.",
                where=origin,
            )
        self.origin = origin
        self._layers = (
            dict(layers)
            if validated
            else {
                k: validate_layer(v, k, what=f"{origin}: layer {k!r}", schema=self.catalogue.schema(k))
                for k, v in layers.items()
            }
        )
        self.members = members
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Any, threading.Lock] = {}

    # -- reading ---------------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path, kinds: Iterable[str] | None = None) -> LayerSet:
        """Read a region: a folder with a catalogue, a GeoPackage, or a folder of files by kind.

        Parameters
        ----------
        path : str or pathlib.Path
            A folder holding ``layers.yaml`` (its catalogue: every layer it names is read from
            its file); a ``layers.yaml`` file; a GeoPackage holding one layer per built-in kind
            (``region.gpkg``); or a folder holding ``region.gpkg`` or files named by kind
            (``ports.geojson``, ``rail.shp``…).
        kinds : iterable of str, optional
            Only read these kinds.

        Returns
        -------
        LayerSet

        Raises
        ------
        LayerError
            If the path does not exist or a layer is unreadable or invalid.
        CatalogueError
            If the catalogue is invalid.
        """
        path = Path(path)
        if path.name == CATALOGUE_FILE or (path.is_dir() and (path / CATALOGUE_FILE).is_file()):
            return cls._from_catalogue(read_catalogue(path), kinds)
        want = set(kinds) if kinds is not None else set(s.LAYERS)
        if path.is_dir() and (path / "region.gpkg").is_file():
            path = path / "region.gpkg"
        layers: dict[str, gpd.GeoDataFrame] = {}
        members = None
        if path.is_file():
            names = _layer_names(path)
            for kind in sorted(want & names):
                layers[kind] = _read_any(path, kind)
            if MEMBERS in names:
                members = _read_table(path, MEMBERS)
        elif path.is_dir():
            for f in sorted(path.iterdir()):
                if f.suffix.lower() in VECTOR_SUFFIXES and f.stem in want:
                    layers[f.stem] = _read_any(f)
            if (path / "members.csv").is_file():
                members = pd.read_csv(path / "members.csv", dtype=str)
        else:
            raise LayerError(
                f"{path}: no such layer file or folder",
                where=str(path),
                hint="Give a region folder (with layers.yaml), a GeoPackage, or build the demo region.",
                option="layers",
            )
        if not layers:
            raise LayerError(
                f"{path}: holds none of the layer kinds sitematch knows ({', '.join(s.LAYERS)})", where=str(path)
            )
        log.info("read %d layers from %s", len(layers), path)
        return cls(layers, members, str(path))

    @classmethod
    def _from_catalogue(cls, catalogue: Region, kinds: Iterable[str] | None) -> LayerSet:
        want = set(kinds) if kinds is not None else None
        layers: dict[str, gpd.GeoDataFrame] = {}
        members = None
        for kind, entry in catalogue.layers.items():
            if want is not None and kind not in want and kind != MEMBERS:
                continue
            if entry.file is None:
                raise LayerError(f"{catalogue.path}: layer {kind!r} names no 'file' to read it from")
            if kind == MEMBERS:
                members = _read_table(entry.file, entry.layer or MEMBERS)
                continue
            if entry.schema.geometry_type == RASTER:
                continue  # read by the measures that use it (sitematch.measures.zonal), window by window
            gdf = _read_any(entry.file, entry.layer or _default_layer(entry.file, kind))
            for col, value in ((s.SOURCE, entry.source), (s.LICENCE, entry.licence)):
                if value is not None:
                    gdf[col] = gdf[col].where(gdf[col].notna(), value) if col in gdf.columns else value
            layers[kind] = gdf
        log.info("read %d layers named by %s", len(layers), catalogue.path)
        return cls(layers, members, str(catalogue.path), region=catalogue)

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

    def raster_file(self, kind: str) -> Path | None:
        """The file of a raster layer the catalogue names (measures read it window by window), or None."""
        entry = self.catalogue.layers.get(kind)
        return entry.file if entry is not None else None

    @property
    def catalogue(self) -> Region:
        """The region the layers are read per (its former name)."""
        return self.region

    @property
    def registry(self) -> Registry:
        """The region's criteria and parameters (``self.region.registry``; the LayerSet owns none)."""
        return self.region.registry

    def schema(self, kind: str) -> s.LayerSchema | None:
        """The schema of a layer kind (the catalogue's, else the built-in one), or None if unknown."""
        return self.catalogue.schema(kind)

    @cached_property
    def municipality_names(self) -> dict[str, str]:
        """Municipality name by kommunkod, from the municipalities layer (empty without one)."""
        munis = self.get("municipalities")
        if munis is None:
            return {}
        return dict(zip(munis[s.MUNICIPALITY_CODE].astype(str), munis[s.MUNICIPALITY_NAME].astype(str), strict=True))

    def fingerprint(self) -> str:
        """A short hash of what a match rests on: the catalogue, and every value and geometry of every layer.

        Two runs with the same fingerprint used the same layers (plots excluded: they are listed
        in the result itself). Computed once per LayerSet.
        """

        def build() -> str:
            h = hashlib.sha256(self.catalogue.digest.encode())
            for kind in sorted(k for k in self._layers if k != "plots"):
                gdf = self._layers[kind]
                h.update(f"{kind}|{len(gdf)}|{','.join(map(str, gdf.columns))}".encode())
                values = pd.DataFrame(gdf.drop(columns=s.GEOMETRY))
                h.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
                h.update(b"".join(shapely.to_wkb(gdf.geometry.to_numpy())))
            return h.hexdigest()[:16]

        return str(self.cached(("fingerprint",), build))

    def with_plots(self, plots: gpd.GeoDataFrame, origin: str | None = None, *, add: bool = False) -> LayerSet:
        """A LayerSet with the same infrastructure layers (and indexes) but other plots.

        Parameters
        ----------
        plots : geopandas.GeoDataFrame
            The plots (validated here).
        origin : str, optional
            Where they came from.
        add : bool
            Keep this set's plots too; a plot in both (same ``plot_id``) is taken from ``plots``.
        """
        if add and "plots" in self._layers:
            mine = self._layers["plots"]
            kept = mine[~mine[s.PLOT_ID].isin(set(plots[s.PLOT_ID].astype(str)))]
            plots = pd.concat([kept, plots.to_crs(mine.crs)], ignore_index=True)
        other = LayerSet.__new__(LayerSet)
        other.__dict__.update(self.__getstate__())
        other.origin = origin or self.origin
        other._layers = dict(self._layers)
        other._layers["plots"] = validate_layer(
            plots, "plots", what=f"{origin or 'plots'}", schema=self.catalogue.schema("plots")
        )
        other._cache = {k: v for k, v in self._cache.items() if not (isinstance(k, tuple) and k[0] == "plots")}
        other._lock = threading.Lock()
        other._key_locks = {}
        return other

    def adopt_cache(self, other: LayerSet) -> None:
        """Keep ``other``'s cached indexes that do not rest on the plots (``other`` came from :meth:`with_plots`).

        A long-lived region then builds each index once, however many plot sets are matched on it.
        """
        with other._lock:
            kept = {k: v for k, v in other._cache.items() if not (isinstance(k, tuple) and k and k[0] == "plots")}
        with self._lock:
            for key, value in kept.items():
                self._cache.setdefault(key, value)

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Return ``build()`` once per key; used for indexes. Thread-safe."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one build per key; builds of other keys go on meanwhile
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            value = build()
            with self._lock:
                self._cache[key] = value
                self._key_locks.pop(key, None)
            return value

    def provenance(self) -> pd.DataFrame:
        """One row per (layer, source, licence) with the row count, and the catalogue's date and
        description of the layer (``about``). What every number rests on; maps and dossiers show it.

        Raster layers the catalogue names are listed too (with 0 rows: they are read by the
        measures that use them).
        """
        return self.cached(("plots", "provenance"), self._provenance).copy()  # the plots' rows count too

    def _provenance(self) -> pd.DataFrame:
        rows = []
        for kind, gdf in self._layers.items():
            if not len(gdf):
                continue
            entry = self.catalogue.layers.get(kind)
            date = entry.date if entry is not None and entry.date else ""
            about = entry.source if entry is not None and entry.source else ""
            grouped = gdf.groupby([s.SOURCE, s.LICENCE], dropna=False).size()
            for (source, licence), n in grouped.items():
                rows.append(
                    {"layer": kind, s.SOURCE: source, s.LICENCE: licence, "rows": int(n), "date": date, "about": about}
                )
        for kind, entry in self.catalogue.layers.items():
            if entry.schema.geometry_type == RASTER:  # read by the measures, not held: no rows to count
                row = {"layer": kind, s.SOURCE: entry.source, s.LICENCE: entry.licence, "rows": 0, "date": entry.date}
                rows.append({**{k: v if v is not None else "" for k, v in row.items()}, "about": entry.source or ""})
        return pd.DataFrame(rows, columns=["layer", s.SOURCE, s.LICENCE, "rows", "date", "about"])

    def __getstate__(self) -> dict[str, Any]:
        # Picklable for Dask workers: indexes are rebuilt there, not shipped.
        state = self.__dict__.copy()
        state["_cache"] = {}
        state.pop("_lock", None)
        state.pop("_key_locks", None)
        state.pop("municipality_names", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._key_locks = {}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v)}" for k, v in self._layers.items())
        return f"LayerSet({self.origin!r}: {parts})"
