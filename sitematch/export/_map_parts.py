"""Pieces of the map that do not depend on the sites: escaping, the base, overlays, panels, CSP.

Everything from data that reaches the page goes through :func:`esc` (HTML-escaped, and safe inside
the JavaScript template literals Folium wraps popups in) or through JSON.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from sitematch import schema as s
from sitematch._io import is_missing
from sitematch.crs import SERVING_CRS
from sitematch.export._sitefacts import COLOURS
from sitematch.i18n import gettext as _
from sitematch.layers.layerset import LayerSet

#: Display simplification tolerances in metres (EPSG:3006), for display only.
LINE_SIMPLIFY_M = 100.0
BOUNDARY_SIMPLIFY_M = 200.0
#: Places at least this big get a name label on the offline base.
LABELLED_PLACE_POPULATION = 50_000

ATTRIBUTION = "SCB (CC0) · GeoNames (CC BY 4.0) · airportsdata (MIT) · see Data sources"

#: Colours of the map's symbols, named once for the map and its legend.


def esc(value: object) -> str:
    """Text from data, safe in HTML, inside a JavaScript template literal (backtick, ``$``, ``\\``) and
    from Jinja (braces: Folium compiles each element's rendered script as a Jinja template again, so
    ``{{ … }}`` in a plot's name would otherwise be evaluated when the map is written).

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)> `${x}` \\\\x3c")
    '&lt;img src=x onerror=alert(1)&gt; &#96;&#36;&#123;x&#125;&#96; &#92;x3c'
    >>> esc("{{ 7*7 }} {% if 1 %}")
    '&#123;&#123; 7*7 &#125;&#125; &#123;% if 1 %&#125;'
    >>> esc(None), esc(float("nan")), esc(pd.NA)
    ('', '', '')
    """
    if is_missing(value):
        return ""
    text = html.escape(str(value), quote=True)
    return text.translate(_MORE)


#: What :func:`esc` escapes beyond HTML's own characters.
_MORE = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})


def to_display(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """A copy simplified for display (in metres) and in EPSG:4326."""
    out = gdf.copy()
    if tolerance_m and len(out):
        out[s.GEOMETRY] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out.to_crs(SERVING_CRS)


def geo_interface(properties: dict[str, Any], geometry: Any) -> dict[str, Any]:
    """What ``GeoDataFrame(properties, geometry=geometry).__geo_interface__`` is, without the frame.

    The same dict, key for key (ids from 0, a ``bbox`` on each feature and on the collection,
    missing values as None), built from plain lists: geopandas spends most of its time on pandas
    work for each call, which a map makes for each layer of sites.
    """
    geoms = np.asarray(geometry, dtype=object)
    columns = {}
    for name, values in properties.items():
        column = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
        missing = pd.isna(column).to_numpy()
        columns[name] = [None if m else v for v, m in zip(column.tolist(), missing, strict=True)]
    names = list(columns)
    features = []
    for i, geom in enumerate(geoms):
        features.append(
            {
                "id": str(i),
                "type": "Feature",
                "properties": {name: columns[name][i] for name in names},
                "geometry": geom.__geo_interface__ if geom else None,
                "bbox": geom.bounds if geom else None,
            }
        )
    bounds = shapely.total_bounds(geoms) if len(geoms) else np.full(4, np.nan)
    return {"type": "FeatureCollection", "features": features, "bbox": tuple(bounds)}


def tip_features(gdf: gpd.GeoDataFrame, tips: pd.Series) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of ``gdf``'s geometries, each with its tooltip as property ``tip``."""
    return geo_interface({"tip": tips.to_numpy(dtype=object)}, gdf.geometry.values)


def tooltip_layer(
    gdf: gpd.GeoDataFrame | dict[str, Any],
    tips: pd.Series | None = None,
    *,
    name: str,
    style: Any = None,
    marker: Any = None,
) -> folium.GeoJson:
    """A GeoJSON layer whose tooltip is one pre-escaped HTML field (never raw data).

    ``gdf`` with ``tips``, or the :func:`tip_features` of them (``tips`` then None).
    """
    return folium.GeoJson(
        gdf if tips is None else tip_features(gdf, tips),
        style_function=style,
        marker=marker,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
        name=name,
    )


def _tips(gdf: pd.DataFrame, fields: tuple[str, ...], aliases: tuple[str, ...]) -> pd.Series:
    """Each row's tooltip: its fields, escaped and labelled, one per line (plain lists: no pandas work per row)."""
    parts = []
    for field, alias in zip(fields, aliases, strict=True):
        label = esc(alias)
        values = [esc(v) for v in gdf[field]] if field in gdf.columns else [""] * len(gdf)
        parts.append([f"{label} {v}".strip() if v else "" for v in values])
    joined = ["<br>".join(x for x in row if x) for row in zip(*parts, strict=True)]
    return pd.Series(joined, index=gdf.index, dtype=object) if len(joined) else pd.Series([], dtype=object)


@dataclass(frozen=True)
class Overlay:
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
        group = folium.FeatureGroup(name=self.name, show=self.show)
        data = layers.cached(
            ("map-overlay", self.kind, self.fields, self.line_style is not None), lambda: self._data(layers)
        )
        if data is None:
            return group
        if self.line_style is not None:
            style = dict(self.line_style)
            tooltip_layer(data, name=self.name, style=lambda _f: style).add_to(group)
        else:
            marker = folium.CircleMarker(
                radius=self.radius, color="#222222", weight=1, fill=True, fill_color=self.colour, fill_opacity=0.9
            )
            tooltip_layer(data, name=self.name, marker=marker).add_to(group)
        return group

    def _data(self, layers: LayerSet) -> dict[str, Any] | None:
        """The overlay's features with their tooltips, for display (None: the region has no such layer).

        The same for every map of a region: kept in the region's cache (folium only reads it).
        """
        gdf = layers.get(self.kind)
        if gdf is None or gdf.empty:
            return None
        gdf = display_columns(self.kind, gdf)
        tips = _tips(gdf, (*self.fields, s.SOURCE), (*self.aliases, "source:"))
        tolerance_m = LINE_SIMPLIFY_M if self.line_style is not None else 0
        return tip_features(to_display(gdf[[s.GEOMETRY]], tolerance_m), tips)


def display_columns(kind: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the worded columns some tooltips show, and keep only places big enough to draw."""
    if kind == "ports":
        return gdf.assign(draught=gdf[s.MAX_DRAUGHT_M].map(lambda v: f"{v:g} m"))
    if kind == "substations":
        return gdf.assign(capacity=gdf[s.AVAILABLE_CAPACITY_MW].map(lambda v: f"{v:g} MW available (indicative)"))
    if kind == "places":
        return gdf[gdf[s.POPULATION] >= 10_000]
    return gdf


#: The infrastructure overlays, in drawing order.
OVERLAYS: tuple[Overlay, ...] = (
    Overlay(
        "motorways",
        "Motorways (generalised)",
        (s.ROAD,),
        ("",),
        "",
        line_style={"color": COLOURS["motorway"], "weight": 3},
    ),
    Overlay("motorway_junctions", "Motorway junctions", (s.NAME, s.ROAD), ("", "road"), COLOURS["junction"], 3),
    Overlay(
        "rail",
        "Rail (generalised)",
        (s.LINE_NAME,),
        ("",),
        "",
        line_style={"color": COLOURS["rail"], "weight": 2, "dashArray": "6 4"},
    ),
    Overlay("freight_terminals", "Rail freight terminals", (s.NAME, s.KIND), ("", "kind"), COLOURS["terminal"], 4),
    Overlay(
        "ports", "Ports (max draught)", (s.NAME, "draught", s.LOCODE), ("", "draught", "LOCODE"), COLOURS["port"], 7
    ),
    Overlay(
        "substations",
        "Grid capacity (illustrative)",
        (s.NAME, "capacity", s.CAPACITY_DATE),
        ("", "", "as of"),
        COLOURS["substation"],
        6,
    ),
    Overlay("airports", "Airports", (s.NAME, s.IATA, s.AIRPORT_CLASS), ("", "IATA", "class"), COLOURS["airport"], 6),
    Overlay(
        "places", "Places ≥ 10 000 inhabitants", (s.NAME, s.POPULATION), ("", "population"), COLOURS["place"], 3, False
    ),
)


def municipalities_layer(layers: LayerSet) -> folium.FeatureGroup:
    """The offline base: municipality boundaries, members outlined."""
    group = folium.FeatureGroup(name="Municipalities (offline base)", show=True)
    features = layers.cached(("map-municipalities",), lambda: _municipality_features(layers))
    if features is None:
        return group
    folium.GeoJson(
        features,
        style_function=lambda f: {
            "color": COLOURS["member"] if f["properties"]["m"] else "#a0aec0",
            "weight": 1.5 if f["properties"]["m"] else 0.8,
            "fillColor": "#edf2f7" if f["properties"]["m"] else "#f7fafc",
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
        name="municipalities",
    ).add_to(group)
    return group


def _municipality_features(layers: LayerSet) -> dict[str, Any] | None:
    """The municipalities for display, each with its tooltip and whether it is a member (``m``).

    The same for every map of a region: kept in the region's cache (folium only reads it).
    """
    munis = layers.get("municipalities")
    if munis is None:
        return None
    member = munis[s.MEMBER].fillna(False).astype(bool).to_numpy()
    tips = munis[s.MUNICIPALITY_NAME].map(esc) + " " + munis[s.MUNICIPALITY_CODE].map(esc)
    tips = tips + np.where(member, " · member", " · not a member")
    data = to_display(munis[[s.GEOMETRY]], BOUNDARY_SIMPLIFY_M).assign(tip=tips.to_numpy(), m=member)
    return data.__geo_interface__


def place_labels(layers: LayerSet) -> folium.FeatureGroup:
    """Names of the main towns, drawn offline (no tiles needed)."""
    group = folium.FeatureGroup(name="Place names", show=True)
    places = layers.get("places")
    if places is None or places.empty:
        return group
    big = places[places[s.POPULATION].fillna(0) >= LABELLED_PLACE_POPULATION]
    pts = big.geometry.to_crs(SERVING_CRS)
    for name, pt in zip(big[s.NAME], pts, strict=True):
        folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(
                html=f"<span>{esc(name)}</span>", class_name="sm-place", icon_size=(120, 16), icon_anchor=(60, -4)
            ),
            interactive=False,
        ).add_to(group)
    return group


#: The map's own styles (panels, badges, place names, legend keys).
CSS = "<style>\n" + (files("sitematch.export") / "templates" / "map.css").read_text(encoding="utf-8") + "</style>"


class Panel(MacroElement):
    """A Leaflet control holding HTML (from trusted code; data inside it is escaped) at a corner."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', 'sm-panel ' + {{ this.css_class|tojson }});
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


class LayerToggle(MacroElement):
    """Binds a checkbox in a panel (by id) to a layer, both ways (the layer control stays in step)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }}, layer = {{ this.layer.get_name() }};
            var box = document.getElementById({{ this.box_id|tojson }});
            if (!box) { return; }
            box.checked = map.hasLayer(layer);
            box.addEventListener('change', function() {
                if (box.checked) { map.addLayer(layer); } else { map.removeLayer(layer); }
            });
            map.on('overlayadd overlayremove', function() { box.checked = map.hasLayer(layer); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: Any, box_id: str) -> None:
        super().__init__()
        self._name = "SitematchLayerToggle"
        self.layer = layer
        self.box_id = box_id


def legend_html(has_near: bool) -> str:
    """The legend: every symbol on the map, and the near-miss switch."""
    c = COLOURS

    def row(key: str, words: str) -> str:
        return f"<div>{key}{words}</div>"

    def box(fill: str, line: str = "#333", dash: bool = False) -> str:
        style = f"background:{fill};border-color:{line}" + (";border-style:dashed" if dash else "")
        return f"<span class='sm-key' style='{style}'></span>"

    def dot(fill: str) -> str:
        return f"<span class='sm-dot' style='background:{fill}'></span>"

    def line(colour: str, dash: bool = False) -> str:
        style = f"border-top:3px {'dashed' if dash else 'solid'} {colour}"
        return f"<span class='sm-key' style='{style};border-left:0;border-right:0;border-bottom:0;height:0'></span>"

    rows = [
        "<div class='sm-ramp'></div><div style='display:flex;justify-content:space-between'>"
        "<span>0</span><span>" + _("score") + "</span><span>100</span></div>",
        row(
            "<span class='sm-rank' style='display:inline-block;background:#a6d96a;margin-right:5px'>1</span>",
            _("rank (colour: score)"),
        ),
        row("<span class='sm-cluster'>+3</span>", _("more ranked sites here (zoom in)")),
        row(box("#a6d96a"), _("ranked site")),
        row(box("#fbd38d", c["near"], True) + dot(c["near"]), _("near miss")),
        row(box(c["excluded"]), _("other excluded (off)")),
        row(line(c["motorway"]), _("motorway")) + row(dot(c["junction"]), _("junction")),
        row(line(c["rail"], True), _("rail")) + row(dot(c["terminal"]), _("freight terminal")),
        row(dot(c["port"]), _("port")) + row(dot(c["substation"]), _("substation (grid capacity)")),
        row(dot(c["airport"]), _("airport")),
        row(box("#edf2f7", c["member"]), _("member municipality")) + row(box("#f7fafc", "#a0aec0"), _("not a member")),
    ]
    show_near = _("show near misses")
    switch = f"<label><input type='checkbox' id='sm-near-toggle'> {show_near}</label>" if has_near else ""
    return "<details open><summary><b>" + _("Legend") + f"</b></summary>{''.join(rows)}{switch}</details>"


def sources_html(provenance: pd.DataFrame) -> str:
    """The data sources with their licences and dates."""
    rows = "".join(
        f"<li><b>{esc(r['layer'])}</b>: {esc(r[s.SOURCE])} ({esc(r[s.LICENCE])}"
        + (f", {esc(r['date'])}" if r.get("date") else "")
        + ")</li>"
        for _i, r in provenance.iterrows()
    )
    return (
        "<details><summary><b>" + _("Data sources") + "</b></summary>"
        "<div class='sm-muted'>"
        + _("Grid capacity figures are indicative and dated; confirm with the grid company.")
        + " "
        + _('Layers marked "generalised", "illustrative" or "example" are demo data, not survey or official data.')
        + f"</div><ul>{rows}</ul>"
        + _("Tiles © OpenStreetMap contributors (ODbL), online only.")
        + "</details>"
    )


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_ASSET_SCRIPT = re.compile(r'<script src="data:text/javascript;charset=utf-8;base64,([A-Za-z0-9+/=]+)"></script>')


def _inline(match: re.Match[str]) -> str:
    return _inlined(match.group(1))


@functools.lru_cache(maxsize=32)
def _inlined(encoded: str) -> str:
    """A shipped asset's ``<script>``, decoded once per process (every map carries the same assets)."""
    code = base64.b64decode(encoded).decode("utf-8")
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", code, flags=re.I) + "</script>"


def inline_scripts(page: str) -> list[str]:
    """The code of each ``<script>…</script>`` in ``page``: what ``<script>(.*?)</script>`` finds (dot
    matching newlines), by plain string search (a lazy regex over megabytes of page is slow).

    Examples
    --------
    >>> inline_scripts("<script>a</script> <script src=x></script><script>b<script>c</script><script>d")
    ['a', 'b<script>c']
    """
    out = []
    pos = 0
    while (start := page.find("<script>", pos)) >= 0:
        end = page.find("</script>", start + 8)
        if end < 0:
            break
        out.append(page[start + 8 : end])
        pos = end + 9
    return out


def with_csp(page: str) -> str:
    """Add a Content-Security-Policy: only the scripts this page was written with run, each by its hash.

    The shipped assets are inlined (they were ``data:`` URIs) so that they too are allowed by hash
    and no ``data:`` script is. Inline event handlers (``onerror=…``) and injected ``<script>``
    elements do not run, even if escaping ever failed somewhere; nothing is fetched but
    OpenStreetMap tiles.
    """
    # A browser hashes a script as parsed, and HTML parsing turns CR LF and CR into LF (the
    # markercluster asset ships with CR LF): hash what the browser will hash.
    page = _ASSET_SCRIPT.sub(_inline, page).replace("\r\n", "\n").replace("\r", "\n")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode() + "'"
        for code in inline_scripts(page)
    )
    policy = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline' data:; "
        "img-src data: https://tile.openstreetmap.org https://*.tile.openstreetmap.org; font-src data:; "
        "connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return page.replace("<head>", "<head>\n    " + meta, 1)
