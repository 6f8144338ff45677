"""The interactive map of a match: one self-contained HTML file that works offline.

What it shows:

- ranked sites as polygons coloured by score (legend), with rank labels and a popup explaining
  every point; only the top ``max_polygons`` are drawn as polygons, further ranked sites as
  clustered points, so a national run stays light;
- near misses (excluded, but within the tolerance of one requirement) with what they missed, and
  the other excluded sites (hidden by default);
- infrastructure overlays: motorways and junctions, rail and freight terminals, ports with their
  draught, substations with their indicative capacity and its date, airports, places;
- a vector base of municipality boundaries (members outlined), so the map is still a map when
  OpenStreetMap tiles cannot load; tiles are kept for online use, with attribution;
- a panel with the profile's requirements and preferences, and one with the data sources.

All JavaScript/CSS is embedded (see :mod:`sitematch.export._assets`): no CDN is contacted.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, JavascriptLink, MacroElement, Template
from folium.plugins import FastMarkerCluster

from sitematch import schema as s
from sitematch import settings
from sitematch._io import write_text_atomic
from sitematch.criteria import format_value
from sitematch.crs import SERVING_CRS
from sitematch.export._assets import data_uri, make_offline
from sitematch.layers.layerset import LayerSet
from sitematch.result import NEAR_MISS, PASSED, RANK, SCORE, MatchResult

#: Display simplification tolerances in metres (EPSG:3006), for display only.
SITE_SIMPLIFY_M = 5.0
LINE_SIMPLIFY_M = 100.0
BOUNDARY_SIMPLIFY_M = 200.0


class _OfflineColormap(cm.LinearColormap):
    """branca's colour legend, with its d3 dependency served from the shipped assets."""

    def render(self, **kwargs: Any) -> None:
        super().render(**kwargs)
        self.get_root().header.add_child(JavascriptLink(data_uri("d3")), name="d3")


SCORE_COLOURS = _OfflineColormap(["#d7301f", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"], vmin=0, vmax=100)
SCORE_COLOURS.caption = "Score (0–100), ranked sites"

ATTRIBUTION = (
    "Boundaries © SCB (CC0) · places © GeoNames (CC BY 4.0) · airports: airportsdata (MIT) · "
    "motorways and rail generalised, grid capacity illustrative, plots example data (sitematch demo)"
)


def _to_display(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if tolerance_m and len(out):
        out[s.GEOMETRY] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out.to_crs(SERVING_CRS)


def _esc(value: object) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def _site_popup(result: MatchResult, row: pd.Series, names: Mapping[str, str]) -> str:
    title = _esc(row.get(s.NAME) or row[s.PLOT_ID])
    muni = _esc(names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]))
    head = f"<b>{title}</b><br><span class='sm-muted'>{muni} · {_esc(row[s.PLOT_ID])}</span>"
    facts = (
        f"{_esc(format_value(result.registry[s.AREA_HA], row[s.AREA_HA]))} · zoning {_esc(row[s.ZONING])} · "
        f"{_esc(row[s.PLAN_STATUS])} · {_esc(row[s.OWNER])}"
    )
    if bool(row[PASSED]):
        rows = "".join(
            f"<tr><td>{_esc(b.label)}</td><td>{_esc(b.value)}</td>"
            f"<td class='sm-num'>{b.points:.1f} / {b.max_points:.1f}</td></tr>"
            for b in result.breakdown_row(row)
        )
        body = (
            f"<div class='sm-score'>#{int(row[RANK])} · score {row[SCORE]:.1f}</div>"
            f"<table class='sm-breakdown'><tr><th>criterion</th><th>value</th><th>points</th></tr>{rows}</table>"
        )
    else:
        misses = "".join(f"<li>{_esc(m)}</li>" for m in result.misses(row))
        label = "Near miss" if bool(row[NEAR_MISS]) else "Excluded"
        body = f"<div class='sm-score'>{label}: misses</div><ul>{misses}</ul>"
    return f"<div class='sm-popup'>{head}<br>{facts}{body}<div class='sm-muted'>{_esc(row[s.SOURCE])}</div></div>"


def _sites_layer(
    result: MatchResult,
    rows: gpd.GeoDataFrame,
    names: Mapping[str, str],
    *,
    name: str,
    style: dict[str, Any],
    show: bool,
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show)
    if rows.empty:
        return group
    disp = _to_display(rows, SITE_SIMPLIFY_M)
    props = pd.DataFrame(
        {
            "plot_id": rows[s.PLOT_ID].astype(str).to_numpy(),
            "score": rows[SCORE].to_numpy(dtype=float, na_value=np.nan),
            "popup": [_site_popup(result, r, names) for _, r in rows.iterrows()],
        }
    )
    props["score"] = props["score"].round(1).where(props["score"].notna(), None)
    data = gpd.GeoDataFrame(props, geometry=disp.geometry.values, crs=SERVING_CRS)

    def style_fn(feature: dict[str, Any]) -> dict[str, Any]:
        score = feature["properties"]["score"]
        fill = SCORE_COLOURS(score) if score is not None else style.get("fillColor", "#888888")
        return {**style, "fillColor": fill}

    folium.GeoJson(
        data.__geo_interface__,
        style_function=style_fn,
        highlight_function=lambda _f: {"weight": 4, "color": "#000000"},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420),
        tooltip=folium.GeoJsonTooltip(fields=["plot_id", "score"], aliases=["plot", "score"]),
        name=name,
    ).add_to(group)
    return group


def _rank_labels(rows: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    if rows.empty:
        return
    pts = gpd.GeoSeries(rows.geometry.representative_point(), crs=rows.crs).to_crs(SERVING_CRS)
    for rank, pt in zip(rows[RANK].astype(int), pts, strict=True):
        folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(
                html=f"<div class='sm-rank'>{rank}</div>",
                icon_size=(22, 22),
                icon_anchor=(11, 11),
                class_name="sm-rank-icon",
            ),
            interactive=False,
        ).add_to(group)


def _points_layer(
    gdf: gpd.GeoDataFrame | None,
    *,
    name: str,
    tooltip: list[str],
    aliases: list[str],
    colour: str,
    radius: int = 5,
    show: bool = True,
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show)
    if gdf is None or gdf.empty:
        return group
    data = gdf[[*tooltip, s.GEOMETRY]].copy()
    for col in tooltip:
        data[col] = data[col].astype(object).where(data[col].notna(), "").astype(str)
    folium.GeoJson(
        _to_display(data, 0).__geo_interface__,
        marker=folium.CircleMarker(
            radius=radius, color="#222222", weight=1, fill=True, fill_color=colour, fill_opacity=0.9
        ),
        tooltip=folium.GeoJsonTooltip(fields=tooltip, aliases=aliases),
        name=name,
    ).add_to(group)
    return group


def _lines_layer(gdf: gpd.GeoDataFrame | None, *, name: str, field: str, style: dict[str, Any]) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=True)
    if gdf is None or gdf.empty:
        return group
    data = _to_display(gdf[[field, s.SOURCE, s.GEOMETRY]], LINE_SIMPLIFY_M)
    folium.GeoJson(
        data.__geo_interface__,
        style_function=lambda _f: style,
        tooltip=folium.GeoJsonTooltip(fields=[field, s.SOURCE], aliases=["", "source"]),
        name=name,
    ).add_to(group)
    return group


def _municipalities_layer(layers: LayerSet) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="Municipalities (offline base)", show=True)
    munis = layers.get("municipalities")
    if munis is None:
        return group
    data = _to_display(munis[[s.MUNICIPALITY_NAME, s.MUNICIPALITY_CODE, s.MEMBER, s.GEOMETRY]], BOUNDARY_SIMPLIFY_M)
    data[s.MEMBER] = np.where(data[s.MEMBER].fillna(False).astype(bool), "member", "not a member")
    folium.GeoJson(
        data.__geo_interface__,
        style_function=lambda f: {
            "color": "#2b6cb0" if f["properties"][s.MEMBER] == "member" else "#a0aec0",
            "weight": 1.5 if f["properties"][s.MEMBER] == "member" else 0.8,
            "fillColor": "#edf2f7" if f["properties"][s.MEMBER] == "member" else "#f7fafc",
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[s.MUNICIPALITY_NAME, s.MUNICIPALITY_CODE, s.MEMBER], aliases=["", "", ""]
        ),
        name="municipalities",
    ).add_to(group)
    return group


_CSS = """
<style>
.sm-panel{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.35);
 font:12px/1.35 system-ui,sans-serif;max-width:340px;max-height:45vh;overflow:auto}
.sm-panel h4{margin:0 0 4px;font-size:14px} .sm-panel ul{margin:2px 0 4px 16px;padding:0}
.sm-muted{color:#666;font-size:11px} .sm-score{font-weight:bold;margin:4px 0}
.sm-breakdown td,.sm-breakdown th{padding:1px 6px 1px 0;font-size:12px;text-align:left} .sm-num{text-align:right}
.sm-rank{background:#1a202c;color:#fff;border-radius:11px;width:22px;height:22px;line-height:22px;text-align:center;
 font:bold 11px system-ui,sans-serif;border:1px solid #fff}
.sm-rank-icon{background:none;border:none}
</style>
"""


class _Panel(MacroElement):
    """A Leaflet control holding HTML, at a corner of the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', 'sm-panel {{ this.css_class }}');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
            {% if this.attribution %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.attribution|tojson }});
            {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str, css_class: str, attribution: str = "") -> None:
        super().__init__()
        self._name = "SitematchPanel"
        self.html = html_text
        self.position = position
        self.css_class = css_class
        self.attribution = attribution


def _requirements_html(result: MatchResult) -> str:
    p = result.profile
    reqs = "".join(f"<li>{_esc(c.describe())}</li>" for c in p.requirements) or "<li>none</li>"
    prefs = "".join(f"<li>{_esc(pr.describe())}</li>" for pr in p.preferences) or "<li>none</li>"
    counts = (
        f"{len(result.ranked)} of {len(result.sites)} sites meet every requirement · "
        f"{len(result.near_misses)} near misses · {result.outside_region} outside the region"
    )
    return (
        f"<h4>{_esc(p.name)}</h4><div class='sm-muted'>{_esc(p.sector)}</div>"
        f"<b>Requirements</b><ul>{reqs}</ul><b>Preferences</b><ul>{prefs}</ul><div>{counts}</div>"
    )


def _sources_html(result: MatchResult) -> str:
    rows = "".join(
        f"<li><b>{_esc(r['layer'])}</b>: {_esc(r[s.SOURCE])} ({_esc(r[s.LICENCE])})</li>"
        for _, r in result.provenance.iterrows()
    )
    return (
        "<details><summary><b>Data sources</b> — grid capacity is indicative and dated</summary>"
        f"<ul>{rows}</ul>Tiles © OpenStreetMap contributors (ODbL), online only.</details>"
    )


@dataclass(frozen=True)
class _Overlay:
    """One infrastructure overlay: which layer, how it is drawn, what its tooltip says."""

    kind: str
    name: str
    fields: tuple[str, ...]
    aliases: tuple[str, ...]
    colour: str
    radius: int = 5
    show: bool = True
    line_style: dict[str, Any] | None = None

    def layer(self, layers: LayerSet) -> folium.FeatureGroup:
        gdf = layers.get(self.kind)
        if self.line_style is not None:
            return _lines_layer(gdf, name=self.name, field=self.fields[0], style=self.line_style)
        if gdf is not None:
            gdf = _display_columns(self.kind, gdf)
        return _points_layer(
            gdf,
            name=self.name,
            tooltip=list(self.fields),
            aliases=list(self.aliases),
            colour=self.colour,
            radius=self.radius,
            show=self.show,
        )


def _display_columns(kind: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the worded columns some tooltips show, and keep only places big enough to draw."""
    if kind == "ports":
        return gdf.assign(draught=gdf[s.MAX_DRAUGHT_M].map(lambda v: f"{v:g} m"))
    if kind == "substations":
        return gdf.assign(capacity=gdf[s.AVAILABLE_CAPACITY_MW].map(lambda v: f"{v:g} MW available (indicative)"))
    if kind == "places":
        return gdf[gdf[s.POPULATION] >= 10_000]
    return gdf


#: The infrastructure overlays, in drawing order.
OVERLAYS: tuple[_Overlay, ...] = (
    _Overlay(
        "motorways", "Motorways (generalised)", (s.ROAD,), ("",), "", line_style={"color": "#c05621", "weight": 3}
    ),
    _Overlay("motorway_junctions", "Motorway junctions", (s.NAME, s.ROAD), ("", "road"), "#ed8936", 3),
    _Overlay(
        "rail",
        "Rail (generalised)",
        (s.LINE_NAME,),
        ("",),
        "",
        line_style={"color": "#2d3748", "weight": 2, "dashArray": "6 4"},
    ),
    _Overlay("freight_terminals", "Rail freight terminals", (s.NAME, s.KIND), ("", "kind"), "#4a5568", 4),
    _Overlay("ports", "Ports (max draught)", (s.NAME, "draught", s.LOCODE), ("", "draught", "LOCODE"), "#3182ce", 7),
    _Overlay(
        "substations",
        "Grid capacity (illustrative)",
        (s.NAME, "capacity", s.CAPACITY_DATE),
        ("", "", "as of"),
        "#d69e2e",
        6,
    ),
    _Overlay("airports", "Airports", (s.NAME, s.IATA), ("", "IATA"), "#805ad5", 6),
    _Overlay("places", "Places ≥ 10 000 inhabitants", (s.NAME, s.POPULATION), ("", "population"), "#718096", 3, False),
)


def build_map(
    result: MatchResult, layers: LayerSet, *, top_n: int | None = None, max_polygons: int | None = None
) -> folium.Map:
    """Build the Folium map of a match.

    Parameters
    ----------
    result : MatchResult
        The match.
    layers : LayerSet
        The layers it was matched against (for the overlays and the base).
    top_n : int, optional
        Draw only this many ranked sites (default: all, as polygons up to ``max_polygons``).
    max_polygons : int, optional
        Ranked sites drawn as polygons; further ranked sites are drawn as clustered points (at
        most :data:`sitematch.settings.map_max_points`), and at most this many excluded sites are
        drawn. Default :data:`sitematch.settings.map_max_polygons`.

    Returns
    -------
    folium.Map
        With every asset embedded; save it with :func:`write_map`.
    """
    names = result.run.municipality_names or layers.municipality_names
    max_polygons = settings.map_max_polygons if max_polygons is None else max_polygons
    ranked = result.ranked if top_n is None else result.ranked.head(top_n)
    polygons, beyond = ranked.head(max_polygons), ranked.iloc[max_polygons:]
    excluded = result.excluded
    near, other = excluded[excluded[NEAR_MISS]].head(max_polygons), excluded[~excluded[NEAR_MISS]].head(max_polygons)

    m = make_offline(folium.Map(tiles=None, control_scale=True, zoom_start=8, location=[59.4, 16.5]))
    folium.TileLayer(
        "OpenStreetMap",
        name="OpenStreetMap tiles (online)",
        attr="© <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors (ODbL)",
    ).add_to(m)
    m.get_root().header.add_child(Element(_CSS))

    _municipalities_layer(layers).add_to(m)
    for overlay in OVERLAYS:
        overlay.layer(layers).add_to(m)

    _sites_layer(
        result,
        other,
        names,
        name=f"Other excluded sites ({len(excluded) - len(result.near_misses)})",
        style={"color": "#718096", "weight": 1, "fillColor": "#a0aec0", "fillOpacity": 0.3},
        show=False,
    ).add_to(m)
    _sites_layer(
        result,
        near,
        names,
        name=f"Near misses ({len(result.near_misses)})",
        style={"color": "#dd6b20", "weight": 2, "dashArray": "4 3", "fillColor": "#fbd38d", "fillOpacity": 0.5},
        show=True,
    ).add_to(m)
    ranked_group = _sites_layer(
        result,
        polygons,
        names,
        name=f"Ranked sites ({len(result.ranked)})",
        style={"color": "#1a202c", "weight": 1.5, "fillOpacity": 0.8},
        show=True,
    )
    _rank_labels(polygons.head(settings.map_max_labels), ranked_group)
    ranked_group.add_to(m)
    if len(beyond):
        pts = gpd.GeoSeries(
            beyond.geometry.head(settings.map_max_points).representative_point(), crs=beyond.crs
        ).to_crs(SERVING_CRS)
        cluster = make_offline(
            FastMarkerCluster(
                list(zip(pts.y.round(5), pts.x.round(5), strict=True)),
                name=f"Further ranked sites ({len(beyond)}, points)",
            )
        )
        cluster.add_to(m)

    SCORE_COLOURS.add_to(m)
    _Panel(_requirements_html(result), "topleft", "sm-requirements").add_to(m)
    _Panel(_sources_html(result), "bottomleft", "sm-sources", attribution=ATTRIBUTION).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)

    focus = polygons if len(polygons) else (near if len(near) else result.sites)
    if len(focus):
        xmin, ymin, xmax, ymax = focus.to_crs(SERVING_CRS).total_bounds
        m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(20, 20))
    return m


def write_map(
    result: MatchResult, layers: LayerSet, path: Path, *, top_n: int | None = None, max_polygons: int | None = None
) -> Path:
    """Write the map of a match as one self-contained HTML file (atomically).

    Parameters
    ----------
    result : MatchResult
        The match.
    layers : LayerSet
        The layers it was matched against.
    path : pathlib.Path
        The ``.html`` file to write.
    top_n, max_polygons
        See :func:`build_map`.

    Returns
    -------
    pathlib.Path
        ``path``, now holding the whole map (assets included).

    Examples
    --------
    >>> from tempfile import mkdtemp
    >>> from sitematch import LayerSet, load_profile, match
    >>> region = LayerSet.from_path("layers")
    >>> lead = load_profile("scenarios/logistics_warehouse.yaml")
    >>> write_map(match(lead, region), region, Path(mkdtemp()) / "map.html").stat().st_size > 1_000_000
    True
    """
    page = build_map(result, layers, top_n=top_n, max_polygons=max_polygons).get_root().render()
    return write_text_atomic(Path(path), page)
