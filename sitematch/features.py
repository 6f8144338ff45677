"""Features: one row per site, one column per criterion, measured against a LayerSet.

All distances are exact, in metres, in EPSG:3006, from the site's polygon (0 when it touches or
contains the feature), computed for all sites at once against indexes built once per LayerSet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError
from sitematch.index import NearestIndex
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Parameters

#: Distance features: column → layer kind they measure to.
DISTANCE_FEATURES: dict[str, str] = {
    s.DISTANCE_TO_MOTORWAY_JUNCTION_M: "motorway_junctions",
    s.DISTANCE_TO_MOTORWAY_M: "motorways",
    s.DISTANCE_TO_RAIL_M: "rail",
    s.DISTANCE_TO_FREIGHT_TERMINAL_M: "freight_terminals",
    s.DISTANCE_TO_AIRPORT_M: "airports",
}

#: Every feature column :func:`compute_features` can add, in output order.
FEATURE_COLUMNS: tuple[str, ...] = (
    s.DISTANCE_TO_MOTORWAY_JUNCTION_M,
    s.DISTANCE_TO_MOTORWAY_M,
    s.DISTANCE_TO_RAIL_M,
    s.DISTANCE_TO_FREIGHT_TERMINAL_M,
    s.DISTANCE_TO_PORT_M,
    s.DISTANCE_TO_AIRPORT_M,
    s.DISTANCE_TO_SUBSTATION_M,
    s.GRID_CAPACITY_MW,
    s.LABOUR_POOL_POPULATION,
)


def layer_index(layers: LayerSet, kind: str, *, min_draught_m: float = 0.0) -> NearestIndex:
    """The (cached) nearest index of a layer; for ports, only those with enough draught."""

    def build() -> NearestIndex:
        gdf = layers.get(kind)
        if gdf is None:
            return NearestIndex.build(np.empty(0, dtype=object))
        if kind == "ports" and min_draught_m > 0:
            gdf = gdf[gdf[s.MAX_DRAUGHT_M].fillna(0) >= min_draught_m]
        return NearestIndex.build(gdf.geometry.values)

    return layers.cached((kind, "nearest", float(min_draught_m)), build)


def _port_positions(layers: LayerSet, min_draught_m: float) -> np.ndarray:
    ports = layers.get("ports")
    if ports is None:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(ports[s.MAX_DRAUGHT_M].fillna(0).to_numpy() >= min_draught_m)


def _names(layers: LayerSet, kind: str, which: np.ndarray, positions: np.ndarray | None = None) -> pd.Series:
    gdf = layers.get(kind)
    out = np.full(len(which), None, dtype=object)
    if gdf is not None and len(gdf):
        ok = which >= 0
        pos = which[ok] if positions is None else positions[which[ok]]
        out[ok] = gdf[s.NAME].to_numpy(dtype=object)[pos]
    return pd.Series(out, dtype="string")


def compute_features(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    parameters: Parameters | None = None,
    *,
    columns: Iterable[str] | None = None,
    max_distance_m: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Measure every criterion for every site.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites (plots) in EPSG:3006.
    layers : LayerSet
        The infrastructure layers; their indexes are built on first use and cached.
    parameters : Parameters, optional
        Port depth, labour-pool radius and grid connection radius (defaults if omitted).
    columns : iterable of str, optional
        Only compute these feature columns (default: all of :data:`FEATURE_COLUMNS`).
    max_distance_m : mapping of str to float, optional
        Search no further than this for a distance column; sites with nothing that close get
        ``inf`` ("beyond"). Bounded searches are much faster; used where the exact value beyond
        the bound cannot change a result.
    progress : callable, optional
        Called with the name of each feature as it starts (for progress bars).

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with the feature columns added (a copy).

    Raises
    ------
    LayerError
        If the sites are not in EPSG:3006.

    Examples
    --------
    >>> feats = compute_features(layers["plots"], layers)  # doctest: +SKIP
    >>> feats["distance_to_rail_m"].describe()  # doctest: +SKIP
    """
    if sites.crs is None or not sites.crs.equals(WORKING_CRS):
        raise LayerError(f"sites must be in EPSG:3006 (got {sites.crs}); read them through LayerSet or to_working_crs")
    params = parameters or Parameters()
    want = list(FEATURE_COLUMNS if columns is None else [c for c in FEATURE_COLUMNS if c in set(columns)])
    out = sites.copy()
    geoms = np.asarray(sites.geometry.values)
    step = progress or (lambda _name: None)
    bounds = dict(max_distance_m or {})

    for col in want:
        step(col)
        if col in DISTANCE_FEATURES:
            kind = DISTANCE_FEATURES[col]
            dist, which = layer_index(layers, kind).nearest(geoms, bounds.get(col))
            out[col] = dist
            if kind == "motorway_junctions":  # named in explanations, like ports and substations
                out[s.NEAREST_JUNCTION] = _names(layers, kind, which)
        elif col == s.DISTANCE_TO_PORT_M:
            depth = params.port_min_depth_m
            dist, which = layer_index(layers, "ports", min_draught_m=depth).nearest(geoms, bounds.get(col))
            out[col] = dist
            out[s.NEAREST_PORT] = _names(layers, "ports", which, _port_positions(layers, depth))
        elif col == s.DISTANCE_TO_SUBSTATION_M:
            dist, which = layer_index(layers, "substations").nearest(geoms, bounds.get(col))
            out[col] = dist
            out[s.NEAREST_SUBSTATION] = _names(layers, "substations", which)
        elif col == s.GRID_CAPACITY_MW:
            subs = layers.get("substations")
            cap = np.zeros(len(sites)) if subs is None else subs[s.AVAILABLE_CAPACITY_MW].fillna(0).to_numpy(float)
            out[col] = (
                layer_index(layers, "substations").aggregate_within(geoms, params.grid_connection_radius_m, cap, "max")
                if subs is not None
                else 0.0
            )
        elif col == s.LABOUR_POOL_POPULATION:
            places = layers.get("places")
            if places is None:
                out[col] = np.nan
            else:
                pop = places[s.POPULATION].fillna(0).to_numpy(float)
                out[col] = layer_index(layers, "places").aggregate_within(
                    geoms, params.labour_pool_radius_m, pop, "sum"
                )
    return out
