"""The municipality page's map: its plots over the offline municipality base, one self-contained page.

Built with the same parts as the match map (:mod:`sitematch.export._map_parts`): every asset
embedded, every text from data escaped, and a Content-Security-Policy that lets only the page's
own scripts run.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element

from sitematch import schema as s
from sitematch.crs import SERVING_CRS
from sitematch.export._assets import make_offline
from sitematch.export._map_parts import CSS, esc, municipalities_layer, to_display, with_csp
from sitematch.layers.layerset import LayerSet

STATUS_COLOURS = {"active": "#1a9641", "withdrawn": "#a0aec0"}


def plots_map(plots: gpd.GeoDataFrame, layers: LayerSet | None = None) -> str:
    """A page with ``plots`` (EPSG:3006, with a ``status`` column or all active) drawn by status.

    Examples
    --------
    >>> import shapely
    >>> plots = gpd.GeoDataFrame({"plot_id": ["1980:<b>"], "name": ["x"], "area_ha": [1.0]},
    ...                          geometry=[shapely.box(580000, 6610000, 580100, 6610100)], crs=3006)
    >>> page = plots_map(plots)
    >>> "1980:<b>" not in page and "Content-Security-Policy" in page  # escaped, then JSON
    True
    """
    m = make_offline(
        folium.Map(tiles=None, control_scale=True, zoom_start=8, location=[59.6, 16.5], zoom_animation=False)
    )
    m.get_root().header.add_child(Element(CSS))
    if layers is not None:
        municipalities_layer(layers).add_to(m)
    status = plots["status"] if "status" in plots else pd.Series("active", index=plots.index)
    tips = (
        plots[s.PLOT_ID].map(esc)
        + " · "
        + plots.get(s.NAME, pd.Series("", index=plots.index)).map(esc)
        + " · "
        + plots[s.AREA_HA].map(lambda v: esc(f"{v:g} ha"))
        + " · "
        + status.map(esc)
    )
    group = folium.FeatureGroup(name=f"Plots ({len(plots)})", show=True)
    if len(plots):
        shown = to_display(plots[[s.GEOMETRY]], 1.0)
        data = gpd.GeoDataFrame(
            {"tip": tips.to_numpy(dtype=object), "c": status.map(STATUS_COLOURS).fillna("#3182ce").to_numpy()},
            geometry=shown.geometry.values,
            crs=shown.crs,
        )
        folium.GeoJson(
            data.__geo_interface__,
            style_function=lambda f: {
                "color": "#1a202c",
                "weight": 1.5,
                "fillColor": f["properties"]["c"],
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
            name="plots",
        ).add_to(group)
        xmin, ymin, xmax, ymax = plots.to_crs(SERVING_CRS).total_bounds
        m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(30, 30), max_zoom=14)
    group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return with_csp(m.get_root().render())
