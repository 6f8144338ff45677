"""Offline map assets: the JavaScript and CSS a Folium map needs, shipped inside the package.

Folium loads Leaflet, jQuery, Bootstrap, Font Awesome and plugins from public CDNs; a machine or a
municipal network without internet then shows an empty grey page. sitematch ships those files
(fetched from the npm registry by ``scripts/fetch_map_assets.py``; versions in
``assets/manifest.json``, licences beside them) and points each Folium element at them as
``data:`` URIs, in one place (:func:`make_offline`), so every map is one self-contained HTML file
that works offline and can be e-mailed to a lead.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from importlib.resources import files
from typing import Any

ASSETS = files("sitematch.export") / "assets"

#: Folium's asset names → the shipped file that replaces each. Files named by a list are
#: concatenated. ``None`` drops an asset the maps never use (Bootstrap 3 glyphicons).
REPLACEMENTS: dict[str, tuple[str, ...] | None] = {
    "leaflet": ("leaflet/leaflet.js",),
    "d3": ("d3/d3.min.js",),
    "jquery": ("jquery/jquery.min.js",),
    "bootstrap": ("bootstrap/bootstrap.bundle.min.js",),
    "awesome_markers": ("drmonty-leaflet-awesome-markers/leaflet.awesome-markers.js",),
    "leaflet_css": ("leaflet/leaflet.css",),
    "bootstrap_css": ("bootstrap/bootstrap.min.css",),
    "glyphicons_css": None,
    "awesome_markers_font_css": (
        "fontawesome-free/fontawesome.css",
        "fontawesome-free/solid.css",
        "fontawesome-free/regular.css",
    ),
    "awesome_markers_css": ("drmonty-leaflet-awesome-markers/leaflet.awesome-markers.css",),
    "awesome_rotate_css": None,  # folium's rotation CSS; only used for rotated icons
    "markerclusterjs": ("leaflet.markercluster/leaflet.markercluster.js",),
    "markerclustercss": ("leaflet.markercluster/MarkerCluster.css",),
    "markerclusterdefaultcss": ("leaflet.markercluster/MarkerCluster.Default.css",),
}


@cache
def data_uri(name: str) -> str | None:
    """The ``data:`` URI replacing Folium's asset ``name``, or None to drop it."""
    parts = REPLACEMENTS[name]
    if parts is None:
        return None
    raw = b"\n".join((ASSETS / p).read_bytes() for p in parts)
    mime = "text/css" if parts[0].endswith(".css") else "text/javascript"
    return f"data:{mime};charset=utf-8;base64,{base64.b64encode(raw).decode()}"


def manifest() -> list[dict[str, Any]]:
    """The shipped packages: name, version, licence, files."""
    return json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))


def make_offline(element: Any) -> Any:
    """Point a Folium element (map or plugin) at the shipped assets instead of CDNs.

    Sets ``default_js`` / ``default_css`` on the instance, so other maps in the same process are
    untouched. Raises ``KeyError`` for an asset sitematch does not ship, so a new plugin cannot
    silently bring a CDN link back.
    """
    for attr in ("default_js", "default_css"):
        entries = []
        for name, _url in getattr(element, attr, []):
            uri = data_uri(name)
            if uri is not None:
                entries.append((name, uri))
        setattr(element, attr, entries)
    return element
