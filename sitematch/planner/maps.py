"""Maps for planners (offline folium, like every map here): the fit map and the kartbild.

- :func:`fit_map`: each site coloured by how many profiles it fits; its popup lists the leads it
  fits (rank, score) and what it lacks for the others; assembled sites outlined with their parts.
- :func:`kartbild`: a choropleth per municipality — the land that fits at least one profile, and the
  land one requirement away — each municipality's popup naming its binding requirement per profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from sitematch import schema as s
from sitematch._io import write_text_atomic
from sitematch.assembly import ID_JOIN
from sitematch.crs import SERVING_CRS
from sitematch.export._assets import make_offline
from sitematch.export._map_parts import (
    CSS,
    Panel,
    esc,
    municipalities_layer,
    place_labels,
    to_display,
    tooltip_layer,
    with_csp,
)
from sitematch.layers.layerset import LayerSet
from sitematch.planner.fit import FitResult

#: Fill colours by how many profiles a site fits (0, 1, 2, 3+); a choropleth's classes.
FIT_COLOURS = ("#cbd5e0", "#c6f6d5", "#68d391", "#276749")
CLASS_COLOURS = ("#f7fafc", "#fefcbf", "#fbd38d", "#ed8936", "#c05621")
POPUP: dict[str, Any] = {"max_width": 340, "auto_pan": True, "auto_pan_padding": [20, 20]}


def _base(layers: LayerSet) -> folium.Map:
    m = make_offline(folium.Map(tiles=None, control_scale=True, zoom_start=8, location=[59.4, 16.5]))
    folium.TileLayer(
        "OpenStreetMap",
        name="OpenStreetMap tiles (online)",
        attr="© <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors (ODbL)",
        show=False,
    ).add_to(m)
    m.get_root().header.add_child(Element(CSS))
    municipalities_layer(layers).add_to(m)
    place_labels(layers).add_to(m)
    return m


def _fit_popup(found: FitResult, plot_id: str, title: str, confidential: set[str]) -> str:
    rows = found.for_site(plot_id)
    fits = rows[rows["passed"]]
    lacks = rows[~rows["passed"]]

    def name(p: str) -> str:
        return f"a confidential lead ({found.sectors.get(p, '')})" if p in confidential else p

    parts = [f"<div class='sm-popup'><b>{esc(title)}</b><div class='sm-muted'>{esc(plot_id)}</div>"]
    if ID_JOIN in plot_id:
        parts.append(f"<div>assembled from {esc(', '.join(plot_id.split(ID_JOIN)))}</div>")
    if len(fits):
        items = "".join(
            f"<li>{esc(name(r['profile']))}: #{int(r['rank'])} of {int(r['ranked_of'])}, score {r['score']:.1f}</li>"
            for r in fits.to_dict("records")
        )
        parts.append(f"<div><b>Fits</b><ul>{items}</ul></div>")
    else:
        parts.append("<div><b>Fits no profile</b></div>")
    if len(lacks):
        items = "".join(f"<li>{esc(name(r['profile']))}: {esc(r['lacks'])}</li>" for r in lacks.to_dict("records"))
        parts.append(f"<div><b>What it lacks</b><ul>{items}</ul></div>")
    return "".join(parts) + "</div>"


def fit_map(
    found: FitResult,
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    *,
    confidential: set[str] | None = None,
    parts_of: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The fit map of some sites (a layer per how many profiles they fit).

    Parameters
    ----------
    found : FitResult
    sites : geopandas.GeoDataFrame
        The sites in ``found`` with their geometry (EPSG:3006).
    layers : LayerSet
        The region (the offline base).
    confidential : set of str, optional
        Profile names to show only by their sector.
    parts_of : geopandas.GeoDataFrame, optional
        Where to find the parts of assembled sites (default ``sites``).
    """
    secret = confidential or set()
    m = _base(layers)
    sites = sites.drop_duplicates(s.PLOT_ID)
    n_fits = found.table.groupby(s.PLOT_ID)["passed"].sum()
    count = sites[s.PLOT_ID].astype(str).map(n_fits).fillna(0).astype(int).to_numpy()
    titles = sites[s.NAME].fillna(sites[s.PLOT_ID]).astype(str) if s.NAME in sites else sites[s.PLOT_ID].astype(str)
    popups = [_fit_popup(found, pid, t, secret) for pid, t in zip(sites[s.PLOT_ID].astype(str), titles, strict=True)]
    fills = [FIT_COLOURS[min(c, 3)] for c in count]
    tips = [f"{esc(pid)} · fits {c} of {len(found.profiles)}" for pid, c in zip(sites[s.PLOT_ID], count, strict=True)]
    assembled = sites[s.PLOT_ID].astype(str).str.contains(ID_JOIN, regex=False).to_numpy()
    for label, which, style in (
        ("Sites", ~assembled, {"color": "#1a202c", "weight": 1.5, "fillOpacity": 0.85}),
        (
            "Assembled sites (parts outlined)",
            assembled,
            {"color": "#6b46c1", "weight": 3, "dashArray": "6 4", "fillOpacity": 0.25},
        ),
    ):
        if not which.any():
            continue
        group = folium.FeatureGroup(name=label, show=True)
        rows = sites[which]
        disp = to_display(rows[[s.GEOMETRY]], 5.0)
        data = gpd.GeoDataFrame(
            {
                "popup": np.array(popups, dtype=object)[which],
                "fill": np.array(fills, dtype=object)[which],
                "tip": np.array(tips, dtype=object)[which],
            },
            geometry=disp.geometry.values,
            crs=SERVING_CRS,
        )
        folium.GeoJson(
            data.__geo_interface__,
            style_function=lambda f, st=style: {**st, "fillColor": f["properties"]["fill"]},
            highlight_function=lambda _f: {"weight": 4, "color": "#000000"},
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False, **POPUP),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
            name=label,
        ).add_to(group)
        # a dot on each, so a site is found at any zoom (plots are sub-pixel at the region's scale)
        pts = gpd.GeoSeries(rows.geometry.representative_point(), crs=rows.crs).to_crs(SERVING_CRS)
        for pt, fill, tip, popup in zip(pts, data["fill"], data["tip"], data["popup"], strict=True):
            folium.CircleMarker(
                [pt.y, pt.x],
                radius=5,
                color="#1a202c",
                weight=1,
                fill=True,
                fill_color=fill,
                fill_opacity=0.95,
                tooltip=folium.Tooltip(tip),
                popup=folium.Popup(popup, max_width=POPUP["max_width"]),
            ).add_to(group)
        group.add_to(m)
    if assembled.any():  # each assembled site's parts, outlined (the union hides where touching parts meet)
        part_ids = sorted({p for pid in sites.loc[assembled, s.PLOT_ID].astype(str) for p in pid.split(ID_JOIN)})
        parts = parts_of if parts_of is not None else sites
        parts = parts[parts[s.PLOT_ID].astype(str).isin(part_ids)].drop_duplicates(s.PLOT_ID)
        if len(parts):
            group = folium.FeatureGroup(name="Parts of assembled sites", show=True)
            tooltip_layer(
                to_display(parts[[s.GEOMETRY]], 5.0),
                parts[s.PLOT_ID].map(lambda p: f"part: {esc(p)}"),
                name="parts",
                style=lambda _f: {"color": "#6b46c1", "weight": 1.5, "fill": False},
            ).add_to(group)
            group.add_to(m)
    legend = "".join(
        f"<div><span class='sm-key' style='background:{c}'></span> {label}</div>"
        for c, label in zip(FIT_COLOURS, ("fits no profile", "fits 1", "fits 2", "fits 3 or more"), strict=True)
    )
    Panel(f"<b>Which leads each site fits</b>{legend}", "bottomright", "sm-legend").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if len(sites):
        xmin, ymin, xmax, ymax = sites.to_crs(SERVING_CRS).total_bounds
        m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(40, 40))
    return m


def _classes(values: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Five classes: 0, then quartiles of the positive values (rounded)."""
    pos = values[values > 0]
    if not len(pos):
        return np.zeros(len(values), dtype=int), []
    edges = sorted({float(np.round(q, 0)) for q in np.quantile(pos, [0.25, 0.5, 0.75])})
    cls = np.where(values > 0, 1 + np.searchsorted(edges, values, side="left"), 0)
    return np.minimum(cls, len(CLASS_COLOURS) - 1), edges


def kartbild(
    overview: pd.DataFrame,
    binding: pd.DataFrame,
    layers: LayerSet,
    *,
    names: Mapping[str, str] | None = None,
    confidential: set[str] | None = None,
    sectors: Mapping[str, str] | None = None,
) -> folium.Map:
    """The kartbild: member municipalities coloured by land that fits, and by land one change away.

    Parameters
    ----------
    overview : pandas.DataFrame
        :func:`sitematch.planner.gaps.municipality_overview`.
    binding : pandas.DataFrame
        :attr:`sitematch.planner.GapSummary.binding`.
    layers : LayerSet
        With the ``municipalities`` layer.
    names, confidential, sectors
        Municipality names; profiles shown only by sector, and their sectors.
    """
    names = names or layers.municipality_names
    secret = confidential or set()
    m = _base(layers)
    munis = layers.get("municipalities")
    if munis is None:
        return m
    munis = munis[munis[s.MUNICIPALITY_CODE].astype(str).isin(overview.index)]
    if munis.empty or "one_miss_ha" not in overview.columns:  # no profiles, or no sites: nothing to colour
        Panel("<b>Kartbild</b>: no profiles or no sites to show", "bottomright", "sm-legend").add_to(m)
        return m
    codes = munis[s.MUNICIPALITY_CODE].astype(str)
    per = binding[binding["scope"] == "municipality"]

    def popup(code: str) -> str:
        o = overview.loc[[code]].iloc[0]
        name = names.get(code, code)
        lines = [
            f"<div class='sm-popup'><b>{esc(name)}</b> <span class='sm-muted'>{esc(code)}</span>",
            f"<div>{int(o['sites'])} sites, {o['ha']:.0f} ha; fits at least one lead: {int(o['fits_sites'])} "
            f"({o['fits_ha']:.0f} ha); one requirement away: {int(o['one_miss_sites'])} "
            f"({o['one_miss_ha']:.0f} ha)</div>",
        ]
        rows = per[per["code"] == code]
        if len(rows):
            items = []
            for r in rows.itertuples():
                profile = str(r.profile)
                who = f"a confidential lead ({(sectors or {}).get(profile, '')})" if profile in secret else profile
                what = (
                    f"{r.requirement_words}: the only miss for {r.only_miss_ha:.0f} ha"
                    if r.only_miss
                    else f"{r.requirement_words}: excludes {r.excluded_ha:.0f} ha"
                )
                items.append(f"<li>{esc(who)} — {esc(what)}</li>")
            lines.append(f"<div><b>What holds it back</b><ul>{''.join(items)}</ul></div>")
        return "".join(lines) + "</div>"

    popups = [popup(c) for c in codes]
    disp = to_display(munis[[s.GEOMETRY]], 200.0)
    legends: list[str] = []
    for label, column, show in (
        ("Land one requirement away (ha)", "one_miss_ha", True),
        ("Land that fits at least one lead (ha)", "fits_ha", False),
    ):
        values = overview.loc[codes, column].to_numpy(dtype=float)
        cls, edges = _classes(values)
        tips = [f"{esc(names.get(c, c))}: {v:.0f} ha" for c, v in zip(codes, values, strict=True)]
        data = gpd.GeoDataFrame(
            {"popup": popups, "fill": [CLASS_COLOURS[k] for k in cls], "tip": tips},
            geometry=disp.geometry.values,
            crs=SERVING_CRS,
        )
        group = folium.FeatureGroup(name=label, show=show, overlay=False)
        folium.GeoJson(
            data.__geo_interface__,
            style_function=lambda f: {
                "color": "#2d3748",
                "weight": 1,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.75,
            },
            highlight_function=lambda _f: {"weight": 3},
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False, **POPUP),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
            name=label,
        ).add_to(group)
        group.add_to(m)
        bounds = [0.0, *edges]
        keys = ["0 ha"] + [
            f"{bounds[i]:.0f}–{bounds[i + 1]:.0f} ha" if i + 1 < len(bounds) else f"over {bounds[i]:.0f} ha"
            for i in range(len(bounds))
        ]
        legends.append(
            f"<div><b>{esc(label)}</b></div>"
            + "".join(
                f"<div><span class='sm-key' style='background:{CLASS_COLOURS[i]}'></span> {esc(k)}</div>"
                for i, k in enumerate(keys[: len(CLASS_COLOURS)])
            )
        )
    Panel(
        "<b>Kartbild</b> (choose the picture in the layers box)" + "".join(legends), "bottomright", "sm-legend"
    ).add_to(m)
    place_labels(layers).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if len(munis):
        xmin, ymin, xmax, ymax = munis.to_crs(SERVING_CRS).total_bounds
        m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(20, 20))
    return m


def write_map_html(m: folium.Map, path: Path) -> Path:
    """Write a folium map as one self-contained HTML file (atomically, with the CSP)."""
    return write_text_atomic(Path(path), with_csp(m.get_root().render()))
