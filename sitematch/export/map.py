"""The interactive map of a match: one self-contained HTML file that works offline.

What it shows:

- ranked sites as polygons filled by score, and a rank badge on each coloured by score — the
  top 10 always visible, #1 drawn on top, further badges clustered where they pile up; a popup on
  each explains every point, with coordinates, the nearest junction, port and substation by name,
  brownfield / MIFO status and what is still to verify;
- near misses (dashed, with a ring marker visible at any zoom) with what they missed, and a
  switch to show or hide them; the other excluded sites (off by default);
- infrastructure overlays, the names of the main towns and municipality boundaries (members
  outlined) as a base that needs no tiles; OpenStreetMap tiles for online use, with attribution;
- panels that never overlap: the lead's requirements with why few sites pass (top left), the
  legend of every symbol and the data sources (bottom right), the scale (bottom left), the
  layers (top right, folded); popups keep clear of them. The first view fits the best sites
  into the area the panels leave free, and on a small screen the panels open folded (see
  :mod:`sitematch.export._map_view`); town names move away from badges.

All JavaScript/CSS is embedded (see :mod:`sitematch.export._assets`): no CDN is contacted. Data
reaches the page only escaped or as JSON, and a Content-Security-Policy lets only the page's own
scripts run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element
from folium.plugins import FastMarkerCluster, MarkerCluster

from sitematch import schema as s
from sitematch import settings
from sitematch._io import write_text_atomic
from sitematch.criteria import Criterion, format_value
from sitematch.criteria.format import label_of
from sitematch.crs import SERVING_CRS
from sitematch.export._assets import make_offline
from sitematch.export._map_parts import (
    ATTRIBUTION,
    COLOURS,
    CSS,
    OVERLAYS,
    LayerToggle,
    Panel,
    esc,
    geo_interface,
    legend_html,
    municipalities_layer,
    place_labels,
    sources_html,
    to_display,
    tooltip_layer,
    with_csp,
)
from sitematch.export._map_render import plain_text_elements, render_page
from sitematch.export._map_view import FreeView
from sitematch.export._sitefacts import SCORE_COLOURS, coordinates, coordinates_text, site_status, title_of
from sitematch.export._whatif import WhatIf, payload
from sitematch.i18n import current_language, language
from sitematch.i18n import gettext as _
from sitematch.layers.layerset import LayerSet
from sitematch.result import NEAR_MISS, PASSED, RANK, SCORE, MatchResult
from sitematch.scoring import describe

#: Display simplification of sites, metres.
SITE_SIMPLIFY_M = 5.0
#: Badges always drawn on their own (never clustered).
ALWAYS_SHOWN = 10
#: Popups keep clear of the panels: padding (pixels) from the top-left and bottom-right corners.
POPUP_OPTIONS: dict[str, Any] = {
    "max_width": 330,
    "auto_pan_padding_top_left": [360, 64],
    "auto_pan_padding_bottom_right": [270, 40],
}


def _text_colour(background: str) -> str:
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _named(result: MatchResult) -> list[tuple[Criterion, str, str]]:
    """Each criterion that keeps the name of its nearest feature: (criterion, its name column, its short
    label escaped), in the registry's order (worked out once per map, not per site)."""
    return [
        (c, name_col, esc(c.short_label.lstrip("→ ")))
        for c in result.registry.measured()
        for name_col in c.measure.extra_columns()
    ]


def _nearest(
    result: MatchResult, row: Mapping[str, Any], named: list[tuple[Criterion, str, str]] | None = None
) -> list[str]:
    """The named nearest features: "junction Tp A 1.0 km", from every criterion that keeps a name."""
    out = []
    for c, name_col, label in _named(result) if named is None else named:
        name, value = row.get(name_col), row.get(c.name)
        if isinstance(name, str) and name and value is not None and pd.notna(value):
            out.append(f"{label} {esc(name)} {esc(format_value(c, value))}")
    return out


def popup_words() -> dict[str, str]:
    """The popups' own words in the current language (looked up once per map, not once per site)."""
    return {
        "zoning": _("zoning"),
        "score": _("score"),
        "criterion": _("criterion"),
        "value": _("value"),
        "points": _("points"),
        "nearest:": _("nearest:"),
        "To verify": _("To verify"),
        "price on request": _("price on request"),
        "Near miss: misses": _("Near miss: misses"),
        "Excluded: misses": _("Excluded: misses"),
    }


def site_popup(
    result: MatchResult,
    row: Mapping[str, Any],
    names: Mapping[str, str],
    where: str,
    words: Mapping[str, str] | None = None,
    named: list[tuple[Criterion, str, str]] | None = None,
) -> str:
    """The popup of one site: why it ranks or what it missed, and the facts behind it (escaped).

    ``row`` is a row of the result's sites: a pandas Series or, faster, a plain dict of its values.
    ``words`` is :func:`popup_words` and ``named`` the criteria naming a nearest feature (default:
    looked up now; a map looks them up once for all its popups).
    """
    w = popup_words() if words is None else words
    w_zoning, w_score, w_criterion, w_value, w_points = w["zoning"], w["score"], w["criterion"], w["value"], w["points"]
    w_nearest, w_verify = w["nearest:"], w["To verify"]
    lang = current_language()
    muni = esc(names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]))
    head = f"<b>{esc(title_of(row))}</b><br><span class='sm-muted'>{muni} · {esc(row[s.PLOT_ID])}</span>"
    area = result.registry[s.AREA_HA]
    price = row.get(s.PRICE_SEK_M2)
    facts = (
        f"{esc(format_value(area, row[s.AREA_HA], lang))} · {w_zoning} {esc(row[s.ZONING])} · "
        f"{esc(row[s.PLAN_STATUS])} · {esc(row[s.OWNER])}"
        + (
            f" · {esc(format_value(result.registry[s.PRICE_SEK_M2], price, lang))}"
            if pd.notna(price)
            else " · " + w["price on request"]
        )
    )
    if bool(row[PASSED]):
        rows = "".join(
            f"<tr><td>{esc(b.label)}</td><td>{esc(b.value)}</td>"
            f"<td class='sm-num'>{b.points:.1f} / {b.max_points:.1f}</td></tr>"
            for b in result.breakdown_row(row, lang)
        )
        score = (
            f"#{int(row[RANK])} · {w_score} {row[SCORE]:.1f}"
            if pd.notna(row[RANK])
            else f"{w_score} {row.get('lower_score', float('nan')):.1f}–{row.get('upper_score', float('nan')):.1f}"
        )
        body = (
            f"<div class='sm-score'>{esc(score)}</div>"
            f"<table class='sm-breakdown'><tr><th>{w_criterion}</th><th>{w_value}</th><th>{w_points}</th></tr>"
            f"{rows}</table>"
        )
    else:
        misses = "".join(f"<li>{esc(m)}</li>" for m in result.misses(row, lang))
        label = w["Near miss: misses"] if bool(row[NEAR_MISS]) else w["Excluded: misses"]
        body = f"<div class='sm-score'>{label}</div><ul>{misses}</ul>"
    verify = "".join(f"<li>{esc(v)}</li>" for v in result.to_verify(row, lang))
    nearest = _nearest(result, row, named)
    return (
        f"<div class='sm-popup'>{head}{body}<div>{facts}</div><div>{esc(site_status(row, lang))}</div>"
        + (f"<div>{w_nearest} {' · '.join(nearest)}</div>" if nearest else "")
        + (f"<div><b>{w_verify}</b><ul>{verify}</ul></div>" if verify else "")
        + f"<div class='sm-muted'>{esc(where)}</div><div class='sm-muted'>{esc(row[s.SOURCE])}</div></div>"
    )


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as plain dicts of their values (no pandas Series per row: the map's popups are built from these)."""
    values = pd.DataFrame(rows.drop(columns=[s.GEOMETRY], errors="ignore"))
    columns = list(values.columns)
    return [dict(zip(columns, row, strict=True)) for row in values.itertuples(index=False, name=None)]


def _popups(result: MatchResult, rows: gpd.GeoDataFrame, names: Mapping[str, str]) -> list[str]:
    if rows.empty:
        return []
    where = coordinates(rows)[["e", "n", "lat", "lon"]].to_numpy(dtype=float)
    words, named = popup_words(), _named(result)
    return [
        site_popup(result, row, names, coordinates_text(*xy), words, named)
        for row, xy in zip(_records(rows), where, strict=True)
    ]


def _sites_layer(
    rows: gpd.GeoDataFrame, popups: list[str], *, name: str, style: dict[str, Any], show: bool
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=show)
    if rows.empty:
        return group
    disp = to_display(rows[[s.GEOMETRY]], SITE_SIMPLIFY_M)
    score = rows[SCORE].to_numpy(dtype=float, na_value=float("nan"))
    fills = [SCORE_COLOURS(v) if v == v else style.get("fillColor", "#888888") for v in score]
    tips = [
        f"{'#' + str(int(r)) + ' · ' if pd.notna(r) else ''}{esc(title_of(row))} · {esc(row[s.PLOT_ID])}"
        for r, row in zip(rows[RANK], _records(rows[[c for c in (s.NAME, s.PLOT_ID) if c in rows]]), strict=True)
    ]
    folium.GeoJson(
        geo_interface({"popup": popups, "fill": fills, "tip": tips}, disp.geometry.values),
        style_function=lambda f: {**style, "fillColor": f["properties"]["fill"]},
        highlight_function=lambda _f: {"weight": 4, "color": "#000000"},
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, localize=False, **POPUP_OPTIONS),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
        name=name,
    ).add_to(group)
    return group


def _badges(rows: gpd.GeoDataFrame, popups: list[str], group: folium.FeatureGroup) -> None:
    """Rank badges coloured by score: the top ones always drawn (#1 on top), the rest clustered."""
    if rows.empty:
        return
    pts = gpd.GeoSeries(rows.geometry.representative_point(), crs=rows.crs).to_crs(SERVING_CRS)
    cluster = make_offline(MarkerCluster(options={"maxClusterRadius": 40, "disableClusteringAtZoom": 11}))
    for i, (rank, score, pt, popup) in enumerate(zip(rows[RANK].astype(int), rows[SCORE], pts, popups, strict=True)):
        colour = SCORE_COLOURS(float(score))[:7]
        badge = f"<div class='sm-rank' style='background:{colour};color:{_text_colour(colour)}'>{rank}</div>"
        marker = folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(html=badge, icon_size=(26, 26), icon_anchor=(13, 13), class_name="sm-rank-icon"),
            popup=folium.Popup(popup, max_width=POPUP_OPTIONS["max_width"], **_popup_options_but_width()),
            z_index_offset=(settings.map_max_labels + 1 - rank) * 10_000,  # beats Leaflet's by-latitude order
        )
        marker.add_to(group if i < ALWAYS_SHOWN else cluster)
    if len(rows) > ALWAYS_SHOWN:
        cluster.add_to(group)


def _popup_options_but_width() -> dict[str, Any]:
    return {k: v for k, v in POPUP_OPTIONS.items() if k != "max_width"}


def _near_rings(rows: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    """A ring on each near miss, so it is visible at any zoom (plots are sub-pixel below zoom 11)."""
    if rows.empty:
        return
    pts = gpd.GeoSeries(rows.geometry.representative_point(), crs=rows.crs).to_crs(SERVING_CRS)
    tips = rows[s.PLOT_ID].map(esc).to_numpy()
    tooltip_layer(
        gpd.GeoDataFrame(geometry=pts.values, crs=SERVING_CRS),
        pd.Series(["near miss · " + t for t in tips]),
        name="near-miss rings",
        marker=folium.CircleMarker(radius=6, color=COLOURS["near"], weight=2, fill=False),
    ).add_to(group)


#: The outline of assembled sites and their parts (as on the planner's fit map).
ASSEMBLED_COLOUR = "#6b46c1"


def _assembled_layer(result: MatchResult, shown: gpd.GeoDataFrame) -> folium.FeatureGroup | None:
    """Assembled sites among ``shown`` outlined (dashed), each with its parts (thin): a union hides
    where touching parts meet. None when no shown site is assembled (see ``assembly:`` in a profile)."""
    from sitematch.assembly import PARTS

    if PARTS not in shown.columns:
        return None
    made = shown[shown[PARTS].fillna("").astype(str) != ""]
    if made.empty:
        return None
    ids, named = made[s.PLOT_ID].astype(str), made[PARTS].astype(str)
    parts_of = {pid: [p.strip() for p in v.split(",")] for pid, v in zip(ids, named, strict=True)}
    owner = {part: pid for pid, parts in parts_of.items() for part in parts}
    parts = result.sites[result.sites[s.PLOT_ID].astype(str).isin(owner)].drop_duplicates(s.PLOT_ID)
    group = folium.FeatureGroup(name=f"Assembled sites and their parts ({len(made)})", show=True)
    tooltip_layer(
        to_display(made[[s.GEOMETRY]], 1.0),
        made[s.PLOT_ID].map(lambda p: f"assembled site {esc(p)}: {esc(', '.join(parts_of[str(p)]))}"),
        name="assembled sites",
        style=lambda _f: {"color": ASSEMBLED_COLOUR, "weight": 3, "dashArray": "6 4", "fill": False},
    ).add_to(group)
    if len(parts):
        tooltip_layer(
            to_display(parts[[s.GEOMETRY]], 1.0),
            parts[s.PLOT_ID].map(lambda p: f"part of {esc(owner[str(p)])}: {esc(p)}"),
            name="parts of assembled sites",
            style=lambda _f: {"color": ASSEMBLED_COLOUR, "weight": 1.5, "fill": False},
        ).add_to(group)
    return group


def requirements_html(result: MatchResult) -> str:
    """The lead's panel: requirements, preferences, the funnel and why few sites pass (escaped)."""
    from sitematch.funnel import binding, funnel

    p = result.profile
    none = "<li>" + _("none") + "</li>"
    lang = current_language()
    reqs = "".join(f"<li>{esc(describe(c, lang))}</li>" for c in p.requirements) or none
    prefs = "".join(f"<li>{esc(pr.describe(lang))}</li>" for pr in p.preferences) or none
    counts = _(
        "%(ranked)s of %(sites)s sites meet every requirement · %(near)s near misses · %(outside)s outside the region"
    ) % {
        "ranked": len(result.ranked), "sites": len(result.sites), "near": len(result.near_misses),
        "outside": result.outside_region,
    }  # fmt: skip
    why = binding(result)
    steps = funnel(result)
    short = {r.key: r.criterion.short_label.lstrip("→ ") if lang == "en" else label_of(r.criterion, lang)
             for r in p.requirements}  # fmt: skip
    chain = " → ".join(
        [
            _("%(n)s sites") % {"n": len(result.sites)},
            *(f"{r.remaining} {esc(short[str(r.key)])}" for r in steps.itertuples()),
        ]
    )
    return (
        f"<details open><summary><b>{esc(p.name)}</b></summary><div class='sm-muted'>{esc(p.sector)}</div>"
        f"<div>{counts}</div>"
        + (f"<div class='sm-why'>{esc(why.sentence(lang))}</div>" if why else "")
        + (f"<div class='sm-muted'>{chain}</div>" if len(steps) else "")
        + "<b>"
        + _("Requirements")
        + f"</b><ul>{reqs}</ul><b>"
        + _("Preferences")
        + f"</b><ul>{prefs}</ul></details>"
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
    with_rank = ranked[ranked[RANK].notna()]  # a staged run ranks its exact top; the rest are points
    polygons = with_rank.head(max_polygons)
    beyond = ranked.drop(index=polygons.index)
    excluded = result.excluded
    near = result.near_misses.head(max_polygons)
    other = excluded[~excluded[NEAR_MISS]].head(max_polygons)

    m = make_offline(folium.Map(tiles=None, control_scale=True, zoom_start=8, location=[59.4, 16.5]))
    folium.TileLayer(
        "OpenStreetMap",
        name="OpenStreetMap tiles (online)",
        attr="© <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors (ODbL)",
    ).add_to(m)
    m.get_root().header.add_child(Element(CSS))

    municipalities_layer(layers).add_to(m)
    for overlay in OVERLAYS:
        overlay.layer(layers).add_to(m)
    place_labels(layers).add_to(m)

    _sites_layer(
        other,
        _popups(result, other, names),
        name=_("Other excluded sites") + f" ({len(excluded) - len(result.near_misses)})",
        style={"color": "#718096", "weight": 1, "fillColor": COLOURS["excluded"], "fillOpacity": 0.3},
        show=False,
    ).add_to(m)
    near_group = _sites_layer(
        near,
        _popups(result, near, names),
        name=_("Near misses") + f" ({len(result.near_misses)})",
        style={"color": COLOURS["near"], "weight": 2, "dashArray": "4 3", "fillColor": "#fbd38d", "fillOpacity": 0.5},
        show=True,
    )
    _near_rings(near, near_group)
    near_group.add_to(m)
    popups = _popups(result, polygons, names)
    ranked_group = _sites_layer(
        polygons,
        popups,
        name=_("Ranked sites") + f" ({len(result.ranked)})",
        style={"color": "#1a202c", "weight": 1.5, "fillOpacity": 0.85},
        show=True,
    )
    _badges(polygons.head(settings.map_max_labels), popups[: settings.map_max_labels], ranked_group)
    ranked_group.add_to(m)
    assembled = _assembled_layer(result, pd.concat([polygons, near]))
    if assembled is not None:
        assembled.add_to(m)
    if len(beyond):
        pts = gpd.GeoSeries(
            beyond.geometry.head(settings.map_max_points).representative_point(), crs=beyond.crs
        ).to_crs(SERVING_CRS)
        make_offline(
            FastMarkerCluster(
                list(zip(pts.y.round(5), pts.x.round(5), strict=True)),
                name=_("Further ranked sites (%(n)s, points)") % {"n": len(beyond)},
            )
        ).add_to(m)

    Panel(requirements_html(result), "topleft", "sm-requirements").add_to(m)
    Panel(legend_html(has_near=len(near) > 0), "bottomright", "sm-legend").add_to(m)
    Panel(sources_html(result.provenance), "bottomright", "sm-sources", attribution=ATTRIBUTION).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if len(near):
        LayerToggle(near_group, "sm-near-toggle").add_to(m)

    lang = current_language()
    whatif = payload(result, lang=lang)
    if whatif is not None:
        WhatIf(whatif, lang).add_to(m)
    focus = polygons.head(ALWAYS_SHOWN) if len(polygons) else (near if len(near) else result.sites)
    if len(focus):  # fitted in the page, into the area the panels leave free (see _map_view)
        xmin, ymin, xmax, ymax = focus.to_crs(SERVING_CRS).total_bounds
        m.location = [(ymin + ymax) / 2, (xmin + xmax) / 2]
        FreeView([[ymin, xmin], [ymax, xmax]]).add_to(m)
    return m


def write_map(
    result: MatchResult,
    layers: LayerSet,
    path: Path,
    *,
    top_n: int | None = None,
    max_polygons: int | None = None,
    lang: str | None = None,
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
    lang : {"sv", "en"}, optional
        The language of the map's own words (layer names, popups' headings, the lead's panel);
        default the terminal's (``$SITEMATCH_LANG``, else English). Not yet the legend and sources.

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
    with language(lang), plain_text_elements():
        page = render_page(build_map(result, layers, top_n=top_n, max_polygons=max_polygons))
    return write_text_atomic(Path(path), with_csp(page))
