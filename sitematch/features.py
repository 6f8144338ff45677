"""Features: one row per site, one column per criterion, measured against a LayerSet.

Each criterion's measure (see :mod:`sitematch.measures`) is one vectorised call over all sites,
against indexes built once per LayerSet. All distances are exact, in metres, in EPSG:3006, from the
site's polygon (0 when it touches or contains the feature).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError
from sitematch.layers.layerset import LayerSet
from sitematch.measures import MeasureContext

log = logging.getLogger(__name__)


def check_sites(sites: gpd.GeoDataFrame) -> None:
    """Refuse sites that are not in the working CRS."""
    if sites.crs is None or not sites.crs.equals(WORKING_CRS):
        raise LayerError(f"sites must be in EPSG:3006 (got {sites.crs}); read them through LayerSet or to_working_crs")


def empty_like(values: object, index: pd.Index) -> pd.Series:
    """An all-missing column of the dtype of some measured values (to fill in part by part)."""
    dtype = pd.Series(values).dtype
    missing = np.nan if dtype.kind == "f" else (None if dtype.kind == "O" else pd.NA)
    return pd.Series(missing, index=index, dtype=dtype)


def compute_features(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    parameters: Mapping[str, float] | None = None,
    *,
    columns: Iterable[str] | None = None,
    max_distance_m: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Measure criteria for every site.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites (plots) in EPSG:3006.
    layers : LayerSet
        The layers; their indexes are built on first use and cached. Its registry says which
        criteria there are and how each is measured.
    parameters : mapping of str to float, optional
        Profile parameters (port depth, radii…); defaults where not given.
    columns : iterable of str, optional
        Only these criteria (default: every measured criterion of ``layers.region.registry``).
    max_distance_m : mapping of str to float, optional
        Search no further than this for a boundable criterion; sites with nothing that close get
        ``inf`` ("beyond"). Bounded searches are much faster; used where the exact value beyond
        the bound cannot change a result.
    progress : callable, optional
        Called with the name of each criterion as it starts (for progress bars).

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with the criterion columns (and companion columns such as ``nearest_port``)
        added or replaced (a copy).

    Raises
    ------
    LayerError
        If the sites are not in EPSG:3006.

    Examples
    --------
    >>> layers = LayerSet.from_path("layers")
    >>> feats = compute_features(layers["plots"].head(3), layers, columns=["distance_to_rail_m"])
    >>> bool((feats["distance_to_rail_m"] >= 0).all())
    True
    """
    check_sites(sites)
    wanted = None if columns is None else set(columns)
    criteria = [c for c in layers.region.registry.measured() if wanted is None or c.name in wanted]
    ctx = MeasureContext(layers, layers.region.registry.resolve(parameters))
    bounds = dict(max_distance_m or {})
    out = sites.copy()
    step = progress or (lambda _name: None)
    for c in criteria:
        step(c.name)
        measured = c.measure.compute(sites, ctx, max_distance_m=bounds.get(c.name) if c.boundable else None)
        for name, values in ((c.name, measured.values), *measured.extra.items()):
            out[name] = values
        log.debug("measured %s for %d sites", c.name, len(sites))
    return out


def build_indexes(layers: LayerSet, parameters: Mapping[str, float] | None = None, *, screens: bool = False) -> None:
    """Build and cache every index the layers' criteria use, so that later calls only query.

    Parameters
    ----------
    layers : LayerSet
    parameters : mapping of str to float, optional
        Profile parameters (port depth, radii…): indexes and screens depend on them.
    screens : bool
        Also build the screening rasters staged evaluation uses (:mod:`sitematch.screen`).

    Examples
    --------
    >>> build_indexes(LayerSet.from_path("layers"))
    """
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WORKING_CRS))
    compute_features(empty, layers, parameters)
    if screens:
        ctx = MeasureContext(layers, layers.region.registry.resolve(parameters))
        for c in layers.region.registry.measured():
            c.measure.screen(ctx)
