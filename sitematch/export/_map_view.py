"""The map's first view: the best sites in the part of the screen the panels leave free.

Folium's ``fit_bounds`` fits the whole map, so a site can open under a panel. :class:`FreeView`
runs in the page once its panels are drawn: on a small screen (under 700 pixels wide or 560
high) it folds every panel to its title; then it measures the panels and fits the sites into the
largest rectangle that no panel covers (each panel is avoided from the side or from the top or
bottom, whichever leaves more room), so every badge of the best sites opens visible and
clickable. It also moves a town's name away from any rank badge or group count it would sit
under, and moves a rank badge that would cover a better-ranked one aside, after every zoom.
"""

from __future__ import annotations

from branca.element import MacroElement, Template

#: Pixels kept between the fitted sites and a panel or the map's edge (a badge is 26 pixels wide).
FIT_MARGIN_PX = 24
#: The first view never zooms in further than this (a single site would fill the screen).
MAX_FIT_ZOOM = 13


class FreeView(MacroElement):
    """Fit ``bounds`` (``[[south, west], [north, east]]``, degrees) into the area the panels leave free."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var bounds = L.latLngBounds({{ this.bounds|tojson }});
            var margin = {{ this.margin }}, maxZoom = {{ this.max_zoom }};
            if (window.innerWidth < 700 || window.innerHeight < 560) {
                document.querySelectorAll('.sm-panel details[open]').forEach(function(d) {
                    d.removeAttribute('open');
                });
            }
            function rects() {
                var c = map.getContainer().getBoundingClientRect();
                var out = [];
                document.querySelectorAll('.leaflet-control-container .leaflet-control').forEach(function(e) {
                    var r = e.getBoundingClientRect();
                    if (r.width > 0 && r.height > 0) {
                        out.push({x0: r.left - c.left, x1: r.right - c.left, y0: r.top - c.top, y1: r.bottom - c.top});
                    }
                });
                return {w: c.width, h: c.height, panels: out};
            }
            // each panel is avoided either sideways or from above/below: try every choice, keep the largest free area
            function freeArea() {
                var s = rects(), n = s.panels.length, best = null;
                for (var mask = 0; mask < (1 << n); mask++) {
                    var p = {l: 0, r: 0, t: 0, b: 0};
                    s.panels.forEach(function(q, i) {
                        if (mask & (1 << i)) {
                            if (q.x0 + q.x1 < s.w) { p.l = Math.max(p.l, q.x1); }
                            else { p.r = Math.max(p.r, s.w - q.x0); }
                        } else {
                            if (q.y0 + q.y1 < s.h) { p.t = Math.max(p.t, q.y1); }
                            else { p.b = Math.max(p.b, s.h - q.y0); }
                        }
                    });
                    var w = s.w - p.l - p.r - 2 * margin, h = s.h - p.t - p.b - 2 * margin;
                    var area = Math.max(w, 0) * Math.max(h, 0);
                    if (best === null || area > best.area) { best = {area: area, p: p}; }
                }
                return best;
            }
            function fit() {
                var size = map.getSize();  // a frame not laid out yet (hidden, zero-sized): fit once it has a size
                if (!(size.x > 0 && size.y > 0)) { map.once('resize', fit); return; }
                var f = freeArea();
                if (!bounds.isValid()) { return; }
                if (f === null || f.area <= 0) { map.fitBounds(bounds, {maxZoom: maxZoom}); return; }
                map.fitBounds(bounds, {
                    paddingTopLeft: [f.p.l + margin, f.p.t + margin],
                    paddingBottomRight: [f.p.r + margin, f.p.b + margin],
                    maxZoom: maxZoom, animate: false
                });
            }
            function overlaps(a, b) {
                return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
            }
            // a town's name never sits under a rank badge or a group count: it moves above, right or left
            function placeLabels() {
                var marks = [];
                document.querySelectorAll('.leaflet-marker-pane .sm-rank, .leaflet-marker-pane .marker-cluster')
                    .forEach(function(e) {
                        var icon = e.closest('.leaflet-marker-icon') || e;
                        if (getComputedStyle(icon).opacity !== '0') { marks.push(e.getBoundingClientRect()); }
                    });
                document.querySelectorAll('.leaflet-marker-pane .sm-place span').forEach(function(span) {
                    span.style.position = 'relative'; span.style.left = '0px'; span.style.top = '0px';
                    var w = span.getBoundingClientRect().width / 2 + 16;
                    var tries = [[0, 0], [0, -30], [w, -14], [-w, -14], [0, 24], [0, -52]];
                    var best = 0, fewest = Infinity;
                    for (var i = 0; i < tries.length; i++) {
                        span.style.left = tries[i][0] + 'px'; span.style.top = tries[i][1] + 'px';
                        var r = span.getBoundingClientRect();
                        var n = marks.filter(function(m) { return overlaps(r, m); }).length;
                        if (n === 0) { marks.push(r); return; }
                        if (n < fewest) { fewest = n; best = i; }
                    }
                    span.style.left = tries[best][0] + 'px'; span.style.top = tries[best][1] + 'px';
                });
            }
            function panelRects() {
                var out = [];
                document.querySelectorAll('.leaflet-control-container .leaflet-control').forEach(function(e) {
                    var r = e.getBoundingClientRect();
                    if (r.width > 0 && r.height > 0) { out.push(r); }
                });
                return out;
            }
            // badges that would cover a better-ranked one step aside (the best keeps its place)
            function spreadBadges() {
                var c = map.getContainer().getBoundingClientRect(), panels = panelRects();
                var badges = Array.prototype.slice.call(document.querySelectorAll('.leaflet-marker-pane .sm-rank'));
                badges.forEach(function(b) {
                    b.style.position = 'relative'; b.style.left = '0px'; b.style.top = '0px';
                });
                badges.sort(function(a, b) { return parseInt(a.textContent, 10) - parseInt(b.textContent, 10); });
                var placed = [], steps = [[0, 0], [28, 0], [-28, 0], [0, 28], [0, -28], [28, 28], [-28, 28],
                                           [28, -28], [-28, -28], [56, 0], [-56, 0], [0, 56], [0, -56]];
                badges.forEach(function(b) {
                    var base = b.getBoundingClientRect();
                    for (var i = 0; i < steps.length; i++) {
                        var r = {left: base.left + steps[i][0], right: base.right + steps[i][0],
                                 top: base.top + steps[i][1], bottom: base.bottom + steps[i][1]};
                        var inside = r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom;
                        var free = !placed.some(function(p) { return overlaps(r, p); }) &&
                                   !(i > 0 && panels.some(function(p) { return overlaps(r, p); }));
                        if ((inside || i === 0) && free) {
                            b.style.left = steps[i][0] + 'px'; b.style.top = steps[i][1] + 'px';
                            placed.push(r); return;
                        }
                    }
                    placed.push(base);
                });
            }
            var pending = null;
            function tidy() {
                if (pending !== null) { clearTimeout(pending); }
                pending = setTimeout(function() { pending = null; spreadBadges(); placeLabels(); }, 50);
            }
            fit();
            map.on('zoomend moveend overlayadd layeradd', tidy);
            tidy();
            window.addEventListener('load', tidy);
            setTimeout(tidy, 300);
            setTimeout(tidy, 1000);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], margin: int = FIT_MARGIN_PX, max_zoom: int = MAX_FIT_ZOOM) -> None:
        super().__init__()
        self._name = "SitematchFreeView"
        self.bounds = bounds
        self.margin = margin
        self.max_zoom = max_zoom
