"""Small static maps as SVG, drawn from the layers with no tiles and no browser: for the dossier.

Coordinates stay in EPSG:3006 (metres, north up), scaled into the picture; text is escaped. The
pictures are plain vector graphics, crisp on screen and in the PDF.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sitematch import schema as s
from sitematch.export._sitefacts import COLOURS
from sitematch.layers.layerset import LayerSet


class _Canvas:
    """Maps EPSG:3006 metres in a box onto an SVG of ``width`` × ``height`` pixels."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int, height: int) -> None:
        xmin, ymin, xmax, ymax = bounds
        self.scale = min(width / (xmax - xmin), height / (ymax - ymin))
        self.xmin = (xmin + xmax) / 2 - width / self.scale / 2
        self.ymax = (ymin + ymax) / 2 + height / self.scale / 2
        self.width, self.height = width, height
        self.box = shapely.box(self.xmin, self.ymax - height / self.scale, self.xmin + width / self.scale, self.ymax)
        self.parts: list[str] = []
        self.placed: list[tuple[float, float, float, float]] = []

    def xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - self.xmin) * self.scale, (self.ymax - coords[:, 1]) * self.scale])

    def _d(self, geom: BaseGeometry) -> str:
        out = []
        for part in shapely.get_parts(geom):
            rings = [part] if part.geom_type == "LineString" else [part.exterior, *part.interiors]
            for ring in rings:
                pts = self.xy(np.asarray(ring.coords))
                if len(pts) > 1:
                    out.append(
                        "M"
                        + "L".join(f"{x:.1f} {y:.1f}" for x, y in pts.tolist())  # floats format faster
                        + ("Z" if ring.geom_type == "LinearRing" else "")
                    )
        return "".join(out)

    def shapes(self, geoms: Iterable[BaseGeometry], style: str) -> None:
        """Draw each geometry's part inside the picture (in order; points are not drawn here)."""
        array = geoms if isinstance(geoms, np.ndarray) else np.asarray(list(geoms), dtype=object)
        if not len(array):
            return
        clipped = shapely.clip_by_rect(array, *self.box.bounds)  # all at once: the same as one by one
        kinds = shapely.get_type_id(clipped)
        keep = ~shapely.is_empty(clipped) & (kinds != _POINT) & (kinds != _MULTIPOINT)
        for geom in clipped[keep]:
            self.parts.append(f'<path d="{self._d(geom)}" {style}/>')

    def points(self, geoms: Iterable[BaseGeometry], fill: str, radius: float = 3.5) -> list[tuple[int, float, float]]:
        """Draw each point (a multi-point by a point on it) inside the picture; say which, and where."""
        drawn = []
        for i, geom in enumerate(geoms):
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            if point.is_empty or not shapely.contains_xy(self.box, point.x, point.y):
                continue
            ((x, y),) = self.xy(np.array([[point.x, point.y]]))
            self.parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}" stroke="#222" stroke-width="0.8"/>'
            )
            drawn.append((i, x, y))
        return drawn

    def text_width(self, text: str, size: float) -> float:
        """A generous estimate of a label's width in pixels (no font metrics without a browser)."""
        return 0.62 * size * len(text) + 4

    def free_label(self, x: float, y: float, text: str, size: int = 9, weight: str = "normal") -> bool:
        """Label a point where no earlier label is, and wholly inside the frame: right of it, left,
        below or above; if every place is taken, nearest the point inside the frame. Returns
        whether the label found a free place."""
        w, h = self.text_width(text, size), size * 1.2
        spots = (
            (6, 3),
            (-6 - w, 3),
            (-w / 2, size + 8),
            (-w / 2, -8),
            (6, size + 6),
            (-6 - w, -6),
            (6, -6),
            (-6 - w, size + 6),
            (-w / 2, size + 20),
            (-w / 2, -20),
        )
        for dx, dy in spots:
            box = (x + dx, y + dy - h, x + dx + w, y + dy)
            inside = box[0] >= 2 and box[1] >= 2 and box[2] <= self.width - 2 and box[3] <= self.height - 2
            gap = 3.0  # labels never touch: "3" beside "1" would read "31"
            if inside and not any(
                box[0] - gap < b[2] and b[0] < box[2] + gap and box[1] - gap < b[3] and b[1] < box[3] + gap
                for b in self.placed
            ):
                self.placed.append(box)
                self.label(x + dx, y + dy, text, size, weight)
                return True
        return False

    def site_label(self, x: float, y: float, text: str, size: int = 11) -> None:
        """A site's number where no other label or site is: beside it, or further out with a leader line."""
        w, h = self.text_width(text, size), size * 1.2
        for dist in (9.0, 18.0, 28.0, 40.0):
            for angle in (0, 180, 90, 270, 45, 135, 225, 315):
                ax, ay = np.cos(np.radians(angle)), -np.sin(np.radians(angle))
                cx, cy = x + ax * (dist + w / 2), y + ay * (dist + h / 2)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                inside = box[0] >= 2 and box[1] >= 2 and box[2] <= self.width - 2 and box[3] <= self.height - 2
                if inside and not any(
                    box[0] - 2 < b[2] and b[0] < box[2] + 2 and box[1] - 2 < b[3] and b[1] < box[3] + 2
                    for b in self.placed
                ):
                    if dist > 9:
                        self.parts.append(
                            f'<path d="M{x:.1f} {y:.1f}L{cx - ax * w / 2:.1f} {cy - ay * h / 2:.1f}" '
                            'stroke="#1a202c" stroke-width="0.7"/>'
                        )
                    self.placed.append(box)
                    self.label(box[0] + 2, box[3] - 2, text, size, "bold")
                    return
        self.inside_label(x + 8, y + 4, text, size, "bold")

    def inside_label(self, x: float, y: float, text: str, size: int = 10, weight: str = "normal") -> None:
        """A label at (x, y) moved just enough to stay wholly inside the frame."""
        w, h = self.text_width(text, size), size * 1.2
        x = min(max(x, 2.0), self.width - 2 - w)
        y = min(max(y, h + 2), self.height - 2)
        self.placed.append((x, y - h, x + w, y))
        self.label(x, y, text, size, weight)

    def label(self, x: float, y: float, text: str, size: int = 10, weight: str = "normal") -> None:
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'paint-order="stroke" stroke="#fff" stroke-width="3" fill="#1a202c">{html.escape(text)}</text>'
        )

    def scale_bar(self) -> None:
        metres = self.width / self.scale / 4
        nice = 10 ** np.floor(np.log10(metres))
        nice *= 5 if metres / nice >= 5 else (2 if metres / nice >= 2 else 1)
        px = nice * self.scale
        y = self.height - 10
        self.parts.append(f'<path d="M10 {y}h{px:.1f}" stroke="#1a202c" stroke-width="3"/>')
        self.label(10, y - 5, f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m", 9)
        self.parts.append(
            f'<path d="M{self.width - 16} 24l6 -16l6 16l-6 -5z" fill="#1a202c"/>'
            f'<text x="{self.width - 14}" y="36" font-size="9">N</text>'
        )

    def svg(self, title: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" aria-label="{html.escape(title)}" '
            f'font-family="system-ui,sans-serif"><rect width="100%" height="100%" fill="#f7fafc"/>'
            + "".join(self.parts)
            + "</svg>"
        )


#: shapely's type ids of what :meth:`_Canvas.shapes` leaves out.
_POINT, _MULTIPOINT = 0, 4


def _geoms_and_names(layers: LayerSet, kind: str) -> tuple[np.ndarray, np.ndarray, Any]:
    """A layer's geometries, names (as text; "" without a name column) and spatial index (the layer's
    own ``sindex``): kept in the region's cache. For the region's layers only: a key not starting with
    "plots" outlives a change of plots (see :meth:`LayerSet.with_plots`)."""
    assert kind != "plots", "the plots change between matches: not kept here"

    def build() -> tuple[np.ndarray, np.ndarray, Any]:
        gdf = layers[kind]
        names = gdf[s.NAME].astype(str) if s.NAME in gdf.columns else [""] * len(gdf)
        return gdf.geometry.to_numpy(), np.asarray(names, dtype=object), gdf.sindex

    return layers.cached(("svgmap", kind), build)


def _layer_geoms(layers: LayerSet, kind: str, box: shapely.Polygon) -> tuple[np.ndarray, list[str]]:
    gdf = layers.get(kind)
    if gdf is None or gdf.empty:
        return np.empty(0, dtype=object), []
    geoms, names, sindex = _geoms_and_names(layers, kind)
    hits = sindex.query(box, predicate="intersects")
    return geoms[hits], names[hits].tolist()


def _boundaries(layers: LayerSet) -> np.ndarray | None:
    """The municipalities' boundaries (kept in the region's cache)."""
    munis = layers.get("municipalities")
    if munis is None:
        return None
    return layers.cached(("svgmap", "municipality boundaries"), lambda: munis.geometry.boundary.to_numpy())


def site_map(
    site: BaseGeometry,
    layers: LayerSet,
    *,
    colour: str,
    label: str,
    named: Iterable[str] = (),
    extent_m: float = 12_000,
) -> str:
    """An SVG map around one site: the site, roads, rail, boundaries, and the named nearest features.

    Parameters
    ----------
    site : shapely geometry
        The site, in EPSG:3006.
    layers : LayerSet
        The layers to draw.
    colour : str
        The site's fill (its score colour).
    label : str
        The site's label on the map (its rank).
    named : iterable of str
        Names of the features to label (the nearest junction, port, substation…).
    extent_m : float
        Width of the area shown, metres.

    Returns
    -------
    str
        An ``<svg>`` element.

    Examples
    --------
    >>> layers = LayerSet.from_path("layers")
    >>> svg = site_map(layers["plots"].geometry.iloc[0], layers, colour="#1a9641", label="1")
    >>> svg.startswith("<svg") and "km" in svg
    True
    """
    cx, cy = site.centroid.x, site.centroid.y
    canvas = _Canvas((cx - extent_m / 2, cy - extent_m * 0.375, cx + extent_m / 2, cy + extent_m * 0.375), 360, 270)
    boundaries = _boundaries(layers)
    if boundaries is not None:
        canvas.shapes(boundaries, 'fill="none" stroke="#90cdf4" stroke-width="1.2"')
    wanted = set(named)
    for kind, style in (
        ("motorways", f'fill="none" stroke="{COLOURS["motorway"]}" stroke-width="3"'),
        ("rail", f'fill="none" stroke="{COLOURS["rail"]}" stroke-width="1.6" stroke-dasharray="5 3"'),
    ):
        geoms, _ = _layer_geoms(layers, kind, canvas.box)
        canvas.shapes(geoms, style)
    canvas.shapes([site], f'fill="{colour}" fill-opacity="0.85" stroke="#1a202c" stroke-width="1.5"')
    ((sx, sy),) = canvas.xy(np.array([[cx, cy]]))
    canvas.inside_label(sx + 8, sy - 8, label, 13, "bold")
    for kind, fill in (
        ("motorway_junctions", COLOURS["junction"]),
        ("freight_terminals", COLOURS["terminal"]),
        ("substations", COLOURS["substation"]),
        ("ports", COLOURS["port"]),
        ("airports", COLOURS["airport"]),
    ):
        geoms, names = _layer_geoms(layers, kind, canvas.box)
        for i, x, y in canvas.points(geoms, fill):
            if names[i] in wanted and not canvas.free_label(x, y, names[i]):
                canvas.inside_label(x + 6, y + 3, names[i], 9)
    canvas.scale_bar()
    return canvas.svg(f"map around site {label}")


#: Towns at least this big are named on the overview map.
OVERVIEW_TOWN_POPULATION = 40_000


def overview_map(
    layers: LayerSet,
    sites: Iterable[tuple[str, BaseGeometry, str]],
    *,
    width: int = 640,
    region: Iterable[BaseGeometry] | None = None,
) -> str:
    """An SVG map of the region with the shortlisted sites numbered: (label, geometry, colour).

    It names the main towns, draws the motorways and the municipalities (members shaded), and
    carries a legend; every label stays inside the frame, and no label covers another. With
    ``region`` (the geometries of every site considered) the map shows the area those sites
    and the shortlist cover, with a margin; otherwise every municipality.

    Examples
    --------
    >>> layers = LayerSet.from_path("layers")
    >>> plots = layers["plots"].geometry
    >>> svg = overview_map(layers, [("1", plots.iloc[0], "#1a9641")], region=plots)
    >>> svg.count('fill="#1a9641"'), "Stockholm" in svg, "Legend" in svg
    (1, True, True)
    """
    munis = layers.get("municipalities")
    items = list(sites)
    geoms = [g for _, g, _ in items] + (list(region) if region is not None else [])
    if geoms:
        xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(geoms, dtype=object))  # 15 km around them
        bounds = (xmin - 15_000, ymin - 15_000, xmax + 15_000, ymax + 15_000)
    elif munis is not None and len(munis):
        bounds = tuple(munis.total_bounds)
    else:
        bounds = (0.0, 0.0, 1.0, 1.0)
    canvas = _Canvas(bounds, width, int(width * 0.75))
    if munis is not None:
        member = munis[s.MEMBER].fillna(False).astype(bool).to_numpy()
        simple = munis.geometry.simplify(1000).to_numpy()
        canvas.shapes(simple[~member], 'fill="#fff" stroke="#cbd5e0" stroke-width="0.6"')
        canvas.shapes(simple[member], 'fill="#ebf4ff" stroke="#4299e1" stroke-width="0.8"')
    motorways, _ = _layer_geoms(layers, "motorways", canvas.box)
    canvas.shapes(
        [shapely.simplify(g, 500) for g in motorways],
        f'fill="none" stroke="{COLOURS["motorway"]}" stroke-width="1.6" stroke-opacity="0.8"',
    )
    legend = _overview_legend(canvas)
    drawn = []
    for label, geom, colour in reversed(items):  # #1 drawn last, on top
        point = geom.representative_point()
        if canvas.points([point], colour, 7):
            ((x, y),) = canvas.xy(np.array([[point.x, point.y]]))
            drawn.append((label, x, y))
            canvas.placed.append((x - 6, y - 6, x + 6, y + 6))
    for label, x, y in reversed(drawn):  # the best sites label first, where they choose
        canvas.site_label(x, y, label)
    places = layers.get("places")
    if places is not None and len(places):
        big = places[places[s.POPULATION].fillna(0) >= OVERVIEW_TOWN_POPULATION].sort_values(
            s.POPULATION, ascending=False
        )
        for name, pt in zip(big[s.NAME].astype(str), big.geometry, strict=True):
            if not shapely.contains_xy(canvas.box, pt.x, pt.y):
                continue
            ((x, y),) = canvas.xy(np.array([[pt.x, pt.y]]))
            if x < legend[2] + 4 and y > legend[1] - 4:  # under the legend: not drawn
                continue
            canvas.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#2d3748"/>')
            canvas.free_label(x, y, name, 9)
    canvas.scale_bar()
    return canvas.svg("overview of the shortlisted sites")


def _overview_legend(canvas: _Canvas) -> tuple[float, float, float, float]:
    """The overview's legend in the bottom-left corner (above the scale bar); returns its box."""
    rows = [
        (
            '<circle cx="{x}" cy="{y}" r="6" fill="#a6d96a" stroke="#222" stroke-width="0.8"/>',
            "shortlisted site, by rank",
        ),
        ('<rect x="{x0}" y="{y0}" width="14" height="9" fill="#ebf4ff" stroke="#4299e1"/>', "member municipality"),
        ('<rect x="{x0}" y="{y0}" width="14" height="9" fill="#fff" stroke="#cbd5e0"/>', "other municipality"),
        (f'<path d="M{{x0}} {{y}}h14" stroke="{COLOURS["motorway"]}" stroke-width="2"/>', "motorway"),
        ('<circle cx="{x}" cy="{y}" r="2.2" fill="#2d3748"/>', "town"),
    ]
    w, line = 150.0, 14.0
    h = 16 + line * len(rows)
    x0, y0 = 8.0, canvas.height - 30 - h
    parts = [
        f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="#fff" fill-opacity="0.92" stroke="#a0aec0"/>',
        f'<text x="{x0 + 6}" y="{y0 + 12}" font-size="9" font-weight="bold">Legend</text>',
    ]
    for i, (symbol, words) in enumerate(rows):
        y = y0 + 16 + line * i + line / 2
        parts.append(symbol.format(x=x0 + 13, y=y, x0=x0 + 6, y0=y - 4.5))
        parts.append(f'<text x="{x0 + 26}" y="{y + 3}" font-size="9">{html.escape(words)}</text>')
    canvas.parts.extend(parts)
    box = (x0, y0, x0 + w, y0 + h)
    canvas.placed.append(box)
    return box
