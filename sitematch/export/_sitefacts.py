"""What the map and the dossier both say about a site, without folium: colours, names, coordinates, status.

The dossier (HTML and PDF) imports only this, so writing it does not load the web-map stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from sitematch import schema as s
from sitematch.crs import SERVING_CRS
from sitematch.i18n import translations

#: Colours of the layers and outcomes, shared by the web map, the dossier's maps and the legend.
COLOURS = {
    "motorway": "#c05621",
    "junction": "#ed8936",
    "rail": "#2d3748",
    "terminal": "#4a5568",
    "port": "#3182ce",
    "substation": "#d69e2e",
    "airport": "#805ad5",
    "place": "#718096",
    "near": "#dd6b20",
    "excluded": "#a0aec0",
    "member": "#2b6cb0",
}


class _LazyColormap:
    """A ``branca`` linear colour map built at its first use (a match without a map never loads branca)."""

    def __init__(self, colours: list[str], vmin: float, vmax: float) -> None:
        self._args = (colours, vmin, vmax)
        self._map: Any = None

    def _get(self) -> Any:
        if self._map is None:
            import branca.colormap as cm

            colours, vmin, vmax = self._args
            self._map = cm.LinearColormap(colours, vmin=vmin, vmax=vmax)
        return self._map

    def __call__(self, value: float) -> str:
        """``#RRGGBBAA`` for ``value``: branca's ``LinearColormap.__call__``, its arithmetic step for
        step, without importing branca (a dossier colours every site; ~50 ms of a CLI match)."""
        colours, vmin, vmax = self._args
        n = len(colours)
        index = [vmin + (vmax - vmin) * i * 1.0 / (n - 1) for i in range(n)]
        rgba = [(*(int(c[k : k + 2], 16) / 255.0 for k in (1, 3, 5)), 1.0) for c in colours]
        if value <= index[0]:
            floats = rgba[0]
        elif value >= index[-1]:
            floats = rgba[-1]
        else:
            i = len([u for u in index if u < value])
            p = (value - index[i - 1]) * 1.0 / (index[i] - index[i - 1]) if index[i - 1] < index[i] else 1.0
            floats = tuple((1.0 - p) * rgba[i - 1][j] + p * rgba[i][j] for j in range(4))
        return "#" + "".join(f"{int(u * 255.9999):02x}" for u in floats)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._get(), name)


#: Score colours, 0 (red) to 100 (green).
SCORE_COLOURS = _LazyColormap(["#d7301f", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"], vmin=0, vmax=100)


def title_of(row: pd.Series | Mapping[str, Any]) -> str:
    """A site's name, or its plot id when it has none."""
    name = row.get(s.NAME)
    return name if isinstance(name, str) and name.strip() else str(row[s.PLOT_ID])


def coordinates(rows: gpd.GeoDataFrame) -> pd.DataFrame:
    """A point inside each site in SWEREF 99 TM and WGS 84 (columns ``e``, ``n``, ``lon``, ``lat``)."""
    pts = rows.geometry.representative_point()
    wgs = gpd.GeoSeries(pts, crs=rows.crs).to_crs(SERVING_CRS)
    return pd.DataFrame({"e": pts.x, "n": pts.y, "lon": wgs.x, "lat": wgs.y}, index=rows.index)


def coordinates_text(e: float, n: float, lat: float, lon: float) -> str:
    """Coordinates as people read them: ``N 6 610 250 · E 580 250 (SWEREF 99 TM) · 59.61234° N, 16.54321° E``."""

    def grouped(v: float) -> str:
        return f"{round(v):,}".replace(",", " ")

    return f"N {grouped(n)} · E {grouped(e)} (SWEREF 99 TM) · {lat:.5f}° N, {lon:.5f}° E"


def site_status(row: pd.Series | Mapping[str, Any], lang: str = "en") -> str:
    """Greenfield, or brownfield with its MIFO risk class (or that it was not assessed), in ``lang``."""
    _ = translations(lang).gettext
    flag = row.get(s.BROWNFIELD)
    if flag is None or pd.isna(flag):
        return _("brownfield or not: not stated")
    if not bool(flag):
        return _("greenfield")
    mifo = row.get(s.MIFO_RISK_CLASS)
    if mifo is None or pd.isna(mifo):
        return _("brownfield · MIFO class not assessed")
    return _("brownfield · MIFO risk class %(n)s") % {"n": int(mifo)}
