"""``ZonalStat(layer, stat)``: a raster's mean, max or share above a threshold over each plot.

Any GeoTIFF a catalogue names as a raster layer (``geometry: Raster``, ``file: noise.tif``) —
flood depth, road noise, elevation, land cover such as Naturvårdsverket's NMD — becomes a
criterion by declaration::

    layers:
      noise: {file: buller.tif, geometry: Raster, source: "Kommunen, bullerkartläggning", licence: CC0}
    criteria:
      road_noise_db_max: {measure: zonal, layer: noise, stat: max, unit: dB, label: Road noise}
      noisy_share: {measure: zonal, layer: noise, stat: share_above, threshold: 55, label: Share above 55 dB}

The raster is read in its own CRS (the plots are transformed to it, never the raster
resampled) with exactextract, which weighs every cell by the fraction of it the plot covers, for
all plots in one call. Cells holding the raster's nodata value do not count; a plot with no
valid cell gets unknown (NaN). A raster without a CRS is refused, as a vector layer is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sitematch.errors import CRSError, LayerError
from sitematch.measures._base import Fail, Measure, MeasureContext, Measured, check_choice, check_keys
from sitematch.measures._registry import register

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.schema import LayerSchema

log = logging.getLogger(__name__)

STATS = ("mean", "max", "share_above")
#: Cells a plot covers by less than this fraction are left out: slivers from transforming the plot's
#: edges to the raster's CRS (they would otherwise set a plot's max from a neighbouring cell).
MIN_COVERAGE = 1e-6

_NO_CRS_HINT = (
    "Give the GeoTIFF its CRS in your GIS, or with GDAL: gdal_edit.py -a_srs EPSG:3006 file.tif "
    "(EPSG:3006 SWEREF 99 TM, 3007–3018 the local SWEREF zones, 3021 RT90)."
)


def zonal_values(path: str | Path, geoms: gpd.GeoSeries, band: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The raster cells under each geometry: their values, the share of each cell covered, and the owner.

    Parameters
    ----------
    path : str or pathlib.Path
        A GeoTIFF (any raster GDAL reads) with a CRS.
    geoms : geopandas.GeoSeries
        Polygons with a CRS; transformed to the raster's CRS.
    band : int
        The band read (1-based).

    Returns
    -------
    values, coverage : numpy.ndarray of float
        Every valid (not nodata) cell a geometry covers (by at least :data:`MIN_COVERAGE`), and the
        fraction (0–1] of it covered.
    owner : numpy.ndarray of int
        The position of the geometry each cell belongs to.

    Raises
    ------
    LayerError
        If the file cannot be read as a raster.
    CRSError
        If the raster has no CRS.

    Examples
    --------
    >>> import tempfile, numpy as np, rasterio, geopandas as gpd
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> tif = tempfile.mkdtemp() + "/r.tif"
    >>> with rasterio.open(tif, "w", driver="GTiff", width=2, height=1, count=1, dtype="float32",
    ...                    crs="EPSG:3006", transform=from_origin(600000, 6600010, 10, 10)) as ds:
    ...     ds.write(np.array([[1.0, 3.0]], dtype="float32"), 1)
    >>> v, cov, owner = zonal_values(tif, gpd.GeoSeries([box(600005, 6600000, 600020, 6600010)], crs=3006))
    >>> v.tolist(), cov.tolist(), owner.tolist()
    ([1.0, 3.0], [0.5, 1.0], [0, 0])
    """
    import rasterio
    from exactextract import exact_extract

    path = Path(path)
    if not path.is_file():
        raise LayerError(f"{path}: no such raster file", where=str(path))
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise LayerError(f"{path}: cannot be read as a raster: {exc}", where=str(path)) from None
    with ds:
        if ds.crs is None:
            raise CRSError(
                f"{path} is a raster with no coordinate reference system (CRS); it is refused rather than guessed.",
                where=str(path),
                hint=_NO_CRS_HINT,
            )
        if not 1 <= band <= ds.count:
            raise LayerError(f"{path}: has {ds.count} band(s), no band {band}", where=str(path))
        local = geoms.to_crs(ds.crs).reset_index(drop=True)
        empty = np.empty(0)
        if len(local) == 0:
            return empty, empty, np.empty(0, dtype=np.intp)
        frame = local.to_frame("geometry")
        got = exact_extract(ds, frame, ["values", "coverage"], output="pandas", include_cols=[])
    values = got["values"].to_numpy()
    # exactextract reads every band; keep the asked one (its columns are then per band).
    if ds.count > 1:
        values = got[f"band_{band}_values"].to_numpy()
        coverage = got[f"band_{band}_coverage"].to_numpy()
    else:
        coverage = got["coverage"].to_numpy()
    counts = np.array([len(v) for v in values], dtype=np.intp)
    owner = np.repeat(np.arange(len(values)), counts)
    flat = np.concatenate([np.asarray(v, dtype=float) for v in values]) if counts.sum() else empty
    cov = np.concatenate([np.asarray(c, dtype=float) for c in coverage]) if counts.sum() else empty
    valid = np.isfinite(flat) & (cov >= MIN_COVERAGE)
    return flat[valid], cov[valid], owner[valid]


def summarise(
    values: np.ndarray, coverage: np.ndarray, owner: np.ndarray, n: int, stat: str, threshold: float = 0.0
) -> np.ndarray:
    """Per geometry: the coverage-weighted mean, the max, or the covered share of cells above ``threshold``.

    Geometries without a valid cell get NaN.

    Examples
    --------
    >>> summarise(np.array([1.0, 3.0]), np.array([0.5, 1.0]), np.array([0, 0]), 2, "mean").round(3).tolist()
    [2.333, nan]
    >>> summarise(np.array([1.0, 3.0]), np.array([0.5, 1.0]), np.array([0, 0]), 1, "share_above", 2.0).round(3).tolist()
    [0.667]
    """
    total = np.bincount(owner, weights=coverage, minlength=n)
    out = np.full(n, np.nan)
    has = total > 0
    if stat == "max":
        best = np.full(n, -np.inf)
        np.maximum.at(best, owner, values)
        out[has] = best[has]
    else:
        weights = coverage * (values if stat == "mean" else (values > threshold))
        out[has] = np.bincount(owner, weights=weights, minlength=n)[has] / total[has]
    return out


@register
@dataclass(frozen=True)
class ZonalStat(Measure):
    """A raster layer's statistic over each plot, from the cells the plot covers.

    Parameters
    ----------
    layer : str
        A raster layer kind the catalogue names (``geometry: Raster``).
    stat : str
        ``"mean"`` (weighted by the share of each cell covered), ``"max"``, or ``"share_above"``
        (the share 0–1 of the plot, by covered area, whose cells exceed ``threshold``).
    threshold : float, optional
        For ``share_above``: a number, or the name of a profile parameter holding it.
    band : int
        The band read (1-based).

    Examples
    --------
    >>> ZonalStat("noise", "share_above", 55.0).describe()
    "share of the site where raster 'noise' is above 55"
    """

    layer: str
    stat: str
    threshold: float | str | None = None
    band: int = 1

    name = "zonal"
    keys = ("layer", "stat", "threshold", "band")
    reads_rasters: ClassVar[bool] = True

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        file = ctx.layers.raster_file(self.layer)
        if file is None:
            return Measured(np.full(len(sites), np.nan))
        values, coverage, owner = zonal_values(file, sites.geometry, self.band)
        threshold = self.threshold
        if isinstance(threshold, str):
            threshold = ctx.parameter(threshold)
        log.debug("zonal %s of %s over %d sites", self.stat, self.layer, len(sites))
        return Measured(summarise(values, coverage, owner, len(sites), self.stat, float(threshold or 0.0)))

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> ZonalStat:
        check_keys(spec, cls.keys, ("layer", "stat"), path, fail)
        stat = check_choice(spec, "stat", STATS, path, fail)
        threshold = spec.get("threshold")
        if stat == "share_above":
            if threshold is None:
                raise fail(path, "missing 'threshold': the value cells must exceed (a number or a parameter's name)")
            if isinstance(threshold, str) and threshold not in parameters:
                raise fail((*path, "threshold"), f"{threshold!r} is neither a number nor a declared parameter")
            if isinstance(threshold, bool) or not isinstance(threshold, int | float | str):
                raise fail((*path, "threshold"), f"expected a number, got {threshold!r}")
        elif threshold is not None:
            raise fail((*path, "threshold"), "only stat: share_above takes a threshold")
        band = spec.get("band", 1)
        if isinstance(band, bool) or not isinstance(band, int) or band < 1:
            raise fail((*path, "band"), f"expected a band number ≥ 1, got {band!r}")
        value = threshold if isinstance(threshold, str) or threshold is None else float(threshold)
        return cls(str(spec["layer"]), stat, value, band)

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def parameters(self) -> tuple[str, ...]:
        return (self.threshold,) if isinstance(self.threshold, str) else ()

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 4

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        super().check(schema_of, path, fail)
        schema = schema_of(self.layer)
        if schema is not None and schema.geometry_type != "Raster":
            raise fail((*path, "layer"), f"'{self.layer}' is not a raster layer; declare it with 'geometry: Raster'")

    def describe(self) -> str:
        if self.stat == "share_above":
            limit = self.threshold if isinstance(self.threshold, str) else f"{self.threshold:g}"
            return f"share of the site where raster '{self.layer}' is above {limit}"
        return f"{self.stat} of raster '{self.layer}' over the site"
