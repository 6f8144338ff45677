"""A raster as a criterion: a GeoTIFF written here in EPSG:3011 (Stockholm's local zone), plots in EPSG:3006.

The raster has 4 × 4 cells of 10 m, its top-left corner at (X0, Y0) in EPSG:3011, nodata −9999::

            col 0  col 1  col 2  col 3
    row 0     1      2      3      4
    row 1     5      6      7      8
    row 2     9     10     11     12
    row 3    13     14     15   nodata

The plots are drawn in EPSG:3011 on the cell grid, then given to sitematch in EPSG:3006 (the
measure transforms them back to the raster's CRS):

- plot 1 covers cells (0,0), (0,1), (1,0), (1,1) whole: mean (1+2+5+6)/4 = 3.5, max 6,
  share above 4.5 = 2 of 4 cells = 0.5;
- plot 2 covers x 25…40 m, y −40…−20 m: half of (2,2)=11, all of (2,3)=12, half of (3,2)=15 and
  (3,3) nodata: mean (0.5·11 + 12 + 0.5·15) / 2 = 12.5, max 15, share above 11.5 = (1 + 0.5) / 2 = 0.75;
- plot 3 lies 1 km away, outside the raster: unknown.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely import box

from sitematch.errors import CatalogueError, CRSError
from sitematch.features import compute_features
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.conftest import plot_row

# Stockholm Central (EPSG:3006 N 6 580 822, E 674 032) in EPSG:3011, on a 10 m grid.
_x, _y = Transformer.from_crs(3006, 3011, always_xy=True).transform(674_032, 6_580_822)
X0, Y0 = round(_x, -1), round(_y, -1)
VALUES = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, -9999]], dtype="float32")

CATALOGUE = """
layers:
  plots: {file: region.gpkg}
  noise:
    file: noise.tif
    geometry: Raster
    source: "example: a 4 × 4 test raster"
    licence: CC0
parameters:
  noise_limit_db: {default: 11.5, unit: dB, label: Noise limit}
criteria:
  noise_mean_db: {measure: zonal, layer: noise, stat: mean, unit: dB, label: Mean noise}
  noise_max_db: {measure: zonal, layer: noise, stat: max, unit: dB, label: Highest noise}
  noisy_share: {measure: zonal, layer: noise, stat: share_above, threshold: 4.5, label: Share above 4.5}
  noisy_by_limit_share:
    measure: zonal
    layer: noise
    stat: share_above
    threshold: noise_limit_db
    label: Share above the lead's limit
"""


def write_raster(path: Path, crs: str | None = "EPSG:3011") -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(X0, Y0, 10, 10),
        nodata=-9999,
    ) as ds:
        ds.write(VALUES, 1)
    return path


def plots() -> gpd.GeoDataFrame:
    local = [
        box(X0, Y0 - 20, X0 + 20, Y0),
        box(X0 + 25, Y0 - 40, X0 + 40, Y0 - 20),
        box(X0 + 1000, Y0 - 1000, X0 + 1020, Y0 - 980),
    ]
    rows = [plot_row(str(i), "0180", g, 0.04) for i, g in enumerate(local, start=1)]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=3011).to_crs(3006)


@pytest.fixture
def region(tmp_path: Path) -> LayerSet:
    write_raster(tmp_path / "noise.tif")
    cat = parse_catalogue(CATALOGUE, base=tmp_path)
    return LayerSet({"plots": plots()}, origin="zonal test", catalogue=cat)


def test_zonal_statistics_by_hand(region: LayerSet) -> None:
    feats = compute_features(region["plots"], region)
    assert feats["noise_mean_db"].tolist()[:2] == pytest.approx([3.5, 12.5], abs=1e-6)
    assert feats["noise_max_db"].tolist()[:2] == [6.0, 15.0]
    assert feats["noisy_share"].tolist()[:2] == pytest.approx([0.5, 1.0], abs=1e-6)
    assert feats["noisy_by_limit_share"].tolist()[:2] == pytest.approx([0.0, 0.75], abs=1e-6)
    assert feats[["noise_mean_db", "noise_max_db", "noisy_share"]].iloc[2].isna().all()


def test_threshold_from_the_profile(region: LayerSet) -> None:
    feats = compute_features(region["plots"], region, {"noise_limit_db": 5.5})
    assert feats["noisy_by_limit_share"].tolist()[:2] == pytest.approx([0.25, 1.0], abs=1e-6)


def test_a_match_requires_the_raster_criterion(region: LayerSet) -> None:
    profile = parse_profile(
        "name: Quiet site\nregion: {members_only: false}\nrequirements: {max_noise_mean_db: 10}\n",
        registry=region.registry,
    )
    result = match(profile, region)
    assert result.ranked["plot_id"].tolist() == ["0180:1"]


def test_raster_without_crs_is_refused(tmp_path: Path) -> None:
    write_raster(tmp_path / "noise.tif", crs=None)
    layers = LayerSet({"plots": plots()}, origin="zonal test", catalogue=parse_catalogue(CATALOGUE, base=tmp_path))
    with pytest.raises(CRSError, match="no coordinate reference system") as info:
        compute_features(layers["plots"], layers, columns=["noise_mean_db"])
    assert "gdal_edit.py -a_srs" in str(info.value)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ("x_m: {measure: nearest, layer: noise}", "'noise' is a raster layer; measure it with 'measure: zonal'"),
        ("x_db: {measure: zonal, layer: plots, stat: mean, unit: dB}", "'plots' is not a raster layer"),
        ("x_share: {measure: zonal, layer: noise, stat: share_above}", "missing 'threshold'"),
        ("x_share: {measure: zonal, layer: noise, stat: median}", "unknown value 'median'"),
    ],
)
def test_catalogue_errors(criteria: str, message: str) -> None:
    text = "layers:\n  plots: {file: a.gpkg}\n  noise: {file: n.tif, geometry: Raster}\ncriteria:\n  " + criteria
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(text)


def test_a_region_folder_names_the_raster(tmp_path: Path) -> None:
    write_raster(tmp_path / "noise.tif")
    pyogrio.write_dataframe(plots(), tmp_path / "region.gpkg", layer="plots")
    (tmp_path / "layers.yaml").write_text(CATALOGUE, encoding="utf-8")
    layers = LayerSet.from_path(tmp_path)
    assert layers.kinds == ["plots"]  # the raster is read by the measure, window by window
    prov = layers.provenance().set_index("layer")
    assert prov.loc["noise", "source"] == "example: a 4 × 4 test raster" and prov.loc["noise", "licence"] == "CC0"
    assert compute_features(layers["plots"], layers)["noise_max_db"].tolist()[:2] == [6.0, 15.0]
