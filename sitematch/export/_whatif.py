"""The live what-if on the map: move a preference's weight and the ranking follows in the page.

A site's score is linear in the weights — ``score = Σ 100 · wᵢ / Σw · vᵢ`` with each value score
``vᵢ`` in [0, 1] fixed by the site's measured value and the preference's breakpoints — so the page
needs only the value matrix (sites × preferences) to re-score and re-rank under any weights, with
no server. :func:`payload` gives it for the ranked sites whose every value is exact (the shortlist
the map shows, up to :data:`MAX_SITES`), and for all other ranked sites proven bounds: per site the
largest value score it can reach per preference (its exact value, or from the bounds a staged
evaluation proved, or 1 where nothing was measured), reduced to at most :data:`MAX_BOUND_ROWS`
rows that bound them all (:func:`bound_rows`). Under new weights, a site whose
new score does not beat the best any of those rows allows has no proven rank: the page marks it
("?", "would need the server") instead of ranking it wrongly.

:class:`WhatIf` draws a folded panel with a slider per preference, the new top ten and the reset;
the rank badges on the map take their new numbers and colours. The page's scores equal
:func:`sitematch.matching.match` run with the same weights (same formula, same order of sums, ties by
``plot_id``); ``window.smWhatIf`` lets a test set weights and read scores, ranks and the time the
last re-ranking took.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from branca.element import MacroElement, Template

from sitematch import schema as s
from sitematch.criteria.format import label_of
from sitematch.i18n import format_number, translations
from sitematch.result import EXACT, LOWER_PREFIX, RANK, UPPER_PREFIX, MatchResult
from sitematch.scoring import value_score

#: The most sites whose values the page carries (about 40 bytes per site and preference).
MAX_SITES = 5000
#: The most rows bounding the other ranked sites (see :func:`bound_rows`).
MAX_BOUND_ROWS = 4000
#: Stops of the score colour ramp (0, 25, 50, 75, 100), as the badges are coloured in Python.
RAMP = ("#d7301f", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")


def _upper_values(result: MatchResult, rows: pd.DataFrame) -> np.ndarray:
    """Per site of ``rows`` and preference, the largest value score the site can have: from its exact
    value, else from the bounds a staged evaluation proved, else 1 (nothing known)."""
    prefs = result.profile.preferences
    out = np.ones((len(rows), len(prefs)))
    for k, pref in enumerate(prefs):
        col = pref.column
        values = rows[col] if col in rows else pd.Series(np.nan, index=rows.index)
        known = values.notna().to_numpy()
        if known.any():
            out[known, k] = value_score(pref, values[known])
        lo, hi = f"{LOWER_PREFIX}{col}", f"{UPPER_PREFIX}{col}"
        if lo in rows and hi in rows:
            lower = pd.to_numeric(rows[lo], errors="coerce")
            upper = pd.to_numeric(rows[hi], errors="coerce")
            bounded = ~known & lower.notna().to_numpy() & upper.notna().to_numpy()
            if bounded.any():  # value functions are monotone: the best is at one end of the interval
                both = np.maximum(value_score(pref, lower[bounded]), value_score(pref, upper[bounded]))
                out[bounded, k] = both
    return np.ceil(out * 1e6) / 1e6  # shorter in the page, and still upper bounds


def bound_rows(upper: np.ndarray, weights: np.ndarray, budget: int = MAX_BOUND_ROWS) -> np.ndarray:
    """Fewer rows whose best weighted sum, under any non-negative weights, is at least that of every
    row of ``upper``: of the ``budget // 2`` rows scoring best under today's ``weights``, those no
    other row dominates; the rest as the component-wise maxima of ``budget // 2`` runs of rows in the
    same order (each a valid upper bound for its run).

    Examples
    --------
    >>> bound_rows(np.array([[1.0, 0.0], [0.5, 0.5], [0.4, 0.4], [0.0, 1.0]]), np.array([1.0, 1.0])).tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
    """
    if len(upper) == 0:
        return upper
    rows = upper[np.argsort(-(upper @ weights), kind="stable")]
    head, rest = rows[: budget // 2], rows[budget // 2 :]
    out = np.empty((0, upper.shape[1]))
    for start in range(0, len(head), 512):  # a row later in this order never beats an earlier one today
        block = head[start : start + 512]
        if len(out):
            block = block[~np.all(out[None, :, :] >= block[:, None, :], axis=2).any(axis=1)]
        if len(block) > 1:  # nor one earlier in its own block
            covers = np.all(block[None, :, :] >= block[:, None, :], axis=2)
            block = block[~np.tril(covers, k=-1).any(axis=1)]
        out = np.vstack([out, block])
    if len(rest):
        runs = np.array_split(rest, min(budget // 2, len(rest)))
        out = np.vstack([out, np.array([run.max(axis=0) for run in runs])])
    return out


def payload(result: MatchResult, max_sites: int = MAX_SITES, lang: str = "en") -> dict[str, Any] | None:
    """What the page needs to re-rank under other weights; None when there is nothing to weigh.

    Parameters
    ----------
    result : MatchResult
    max_sites : int
        Carry the values of at most this many of the best exact ranked sites.
    lang : {"en", "sv"}
        The language of the preferences' labels.

    Returns
    -------
    dict or None
        ``prefs`` (criterion, label, weight), ``sites`` (``id``, ``rank``, ``v``: value scores in
        profile order) and ``others`` (rows of value scores that bound every other ranked site's,
        see :func:`bound_rows`; None when there is no other ranked site).
    """
    prefs = result.profile.preferences
    if not prefs:
        return None
    ranked = result.ranked
    exact = ranked[RANK].notna().to_numpy(dtype=bool)
    if EXACT in ranked:
        exact = exact & ranked[EXACT].fillna(False).to_numpy(dtype=bool)
    carried = ranked[exact].head(max_sites)
    if carried.empty:
        return None
    others = ranked.drop(index=carried.index)
    matrix = np.column_stack([value_score(p, carried[p.column]) for p in prefs])
    weights = np.array([p.weight for p in prefs], dtype=float)
    return {
        "prefs": [
            {"criterion": p.column, "label": label_of(p.criterion, lang), "weight": float(p.weight)} for p in prefs
        ],
        "sites": [
            {"id": str(pid), "rank": int(rank), "v": [float(x) for x in row]}
            for pid, rank, row in zip(carried[s.PLOT_ID], carried[RANK], matrix, strict=True)
        ],
        "others": bound_rows(_upper_values(result, others), weights).tolist() if len(others) else None,
    }


def scores(data: dict[str, Any], weights: list[float]) -> dict[str, float]:
    """The scores the page computes for ``weights``: the server's formula, rounded as it rounds.

    Examples
    --------
    >>> data = {"prefs": [{}, {}], "sites": [{"id": "a", "rank": 1, "v": [1.0, 0.5]}]}
    >>> scores(data, [1.0, 3.0])
    {'a': 62.5}
    """
    total = sum(weights)
    return {
        x["id"]: float(np.round(sum(100.0 * w / total * v for w, v in zip(weights, x["v"], strict=True)), 6))
        for x in data["sites"]
    }


class WhatIf(MacroElement):
    """The what-if panel and its script (see the module docstring)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.data|tojson }};
            var ramp = {{ this.ramp|tojson }};
            var words = {{ this.words|tojson }};
            function num(x) { return String(x).replace('.', words.decimal); }
            var prefs = data.prefs, sites = data.sites, n = sites.length;
            var base = prefs.map(function(p) { return p.weight; });
            var weights = base.slice();
            var byRank = {};
            sites.forEach(function(x, i) { byRank[x.rank] = i; });
            var state = {scores: new Float64Array(n), ranks: new Int32Array(n), proven: new Uint8Array(n),
                         order: [], lastMs: 0, bound: null};
            function hex(c) { return [1, 3, 5].map(function(i) { return parseInt(c.substr(i, 2), 16); }); }
            var stops = ramp.map(hex);
            function colour(score) {
                var t = Math.max(0, Math.min(1, score / 100)) * (stops.length - 1);
                var i = Math.min(Math.floor(t), stops.length - 2), f = t - i;
                var rgb = [0, 1, 2].map(function(k) {
                    return Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f);
                });
                return '#' + rgb.map(function(c) { return ('0' + c.toString(16)).slice(-2); }).join('');
            }
            function textColour(c) {
                var r = hex(c);
                return 0.299 * r[0] + 0.587 * r[1] + 0.114 * r[2] > 140 ? '#000000' : '#ffffff';
            }
            // as the server: numpy's round(x, 6), halves to even
            function round6(x) {
                var y = x * 1e6, r = Math.round(y);
                if (Math.abs(y - Math.trunc(y)) === 0.5) { r = 2 * Math.round(y / 2); }
                return r / 1e6;
            }
            function rescore() {
                var t0 = performance.now(), total = 0, k, i;
                for (k = 0; k < weights.length; k++) { total += weights[k]; }
                var factors = weights.map(function(w) { return total > 0 ? 100.0 * w / total : 0; });
                for (i = 0; i < n; i++) {
                    var v = sites[i].v, sum = 0;
                    for (k = 0; k < v.length; k++) { sum += factors[k] * v[k]; }
                    state.scores[i] = round6(sum);
                }
                state.bound = null;
                if (data.others) {  // the best any other ranked site can score under these weights
                    state.bound = 0;
                    for (i = 0; i < data.others.length; i++) {
                        var u = data.others[i], b = 0;
                        for (k = 0; k < u.length; k++) { b += factors[k] * u[k]; }
                        if (b > state.bound) { state.bound = b; }
                    }
                }
                var order = new Array(n);
                for (i = 0; i < n; i++) { order[i] = i; }
                order.sort(function(a, b) {
                    var d = state.scores[b] - state.scores[a];
                    if (d !== 0) { return d; }
                    return sites[a].id < sites[b].id ? -1 : (sites[a].id > sites[b].id ? 1 : 0);
                });
                for (i = 0; i < n; i++) {
                    var j = order[i];
                    state.ranks[j] = i + 1;
                    state.proven[j] = state.bound === null || state.scores[j] > state.bound ? 1 : 0;
                }
                state.order = order;
                paint();
                state.lastMs = performance.now() - t0;
                if (window.parent !== window) {  // the service's page offers to save the weights
                    window.parent.postMessage({sitematch: 'weights', weights: weights.slice(),
                        changed: weights.some(function(w, k) { return w !== base[k]; }),
                        criteria: prefs.map(function(p) { return p.criterion; })}, '*');
                }
                return state.lastMs;
            }
            // rank badges: each knows its site by the rank it was drawn with
            function paint() {
                document.querySelectorAll('.leaflet-marker-pane .sm-rank').forEach(function(b) {
                    if (!b.dataset.rank0) { b.dataset.rank0 = b.textContent.trim(); }
                    var i = byRank[parseInt(b.dataset.rank0, 10)];
                    if (i === undefined) { return; }
                    var c = colour(state.scores[i]);
                    b.textContent = state.proven[i] ? String(state.ranks[i]) : '?';
                    b.title = state.proven[i] ? '' : words.unprovenBadge;
                    b.style.background = c; b.style.color = textColour(c);
                    b.classList.toggle('sm-unproven', !state.proven[i]);
                    var icon = b.closest('.leaflet-marker-icon');
                    if (icon) { icon.style.zIndex = String(100000 + (n - state.ranks[i])); }
                });
                var list = document.getElementById('sm-whatif-top');
                if (!list) { return; }
                var rows = [];
                for (var r = 0; r < Math.min(10, n); r++) {
                    var j = state.order[r], x = sites[j];
                    var move = x.rank - state.ranks[j];
                    var mark = move > 0 ? ' ▲' + move : (move < 0 ? ' ▼' + (-move) : '');
                    var li = document.createElement('li');
                    var said = num(state.scores[j].toFixed(1));
                    li.textContent = (state.proven[j] ? '' : '? ') + x.id + ' ' + said + mark;
                    if (!state.proven[j]) { li.className = 'sm-unproven'; li.title = words.unproven; }
                    rows.push(li);
                }
                list.replaceChildren.apply(list, rows);
                var note = document.getElementById('sm-whatif-note');
                var unproven = 0;
                for (var q = 0; q < n; q++) { unproven += state.proven[q] ? 0 : 1; }
                note.textContent = unproven ? words.unprovenNote.replace('%(unproven)s', unproven)
                    .replace('%(n)s', n) : '';
            }
            function setWeights(ws) {
                weights = ws.map(Number);
                prefs.forEach(function(p, k) {
                    var el = document.getElementById('sm-whatif-w' + k);
                    if (el) { el.value = weights[k]; }
                    var out = document.getElementById('sm-whatif-o' + k);
                    if (out) { out.textContent = num(weights[k]); }
                });
                return rescore();
            }
            var ctl = L.control({position: 'bottomleft'});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', 'sm-panel sm-whatif');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
            prefs.forEach(function(p, k) {
                var el = document.getElementById('sm-whatif-w' + k);
                el.addEventListener('input', function() {
                    weights[k] = Number(el.value);
                    document.getElementById('sm-whatif-o' + k).textContent = num(el.value);
                    rescore();
                });
            });
            document.getElementById('sm-whatif-reset').addEventListener('click', function() { setWeights(base); });
            map.on('zoomend moveend layeradd', paint);
            window.smWhatIf = {
                setWeights: setWeights,
                reset: function() { return setWeights(base); },
                weights: function() { return weights.slice(); },
                scores: function() {
                    var out = {};
                    for (var i = 0; i < n; i++) { out[sites[i].id] = state.scores[i]; }
                    return out;
                },
                ranks: function() {
                    var out = {};
                    for (var i = 0; i < n; i++) { out[sites[i].id] = state.proven[i] ? state.ranks[i] : null; }
                    return out;
                },
                lastMs: function() { return state.lastMs; }
            };
            rescore();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], lang: str = "en") -> None:
        super().__init__()
        self._name = "SitematchWhatIf"
        self.data = data
        self.ramp = list(RAMP)
        self.html = panel_html(data, lang)
        self.words = script_words(lang)


def script_words(lang: str = "en") -> dict[str, str]:
    """The words the panel's script writes (rank not proven, the note), in ``lang``."""
    _ = translations(lang).gettext
    return {
        "decimal": "," if lang == "sv" else ".",
        "unproven": _("rank not proven"),
        "unprovenBadge": _("rank not proven under these weights: it would need the server"),
        "unprovenNote": _(
            "%(unproven)s of %(n)s sites: rank not proven under these weights "
            "(other sites were not measured exactly; run the match again)"
        ),
    }


def panel_html(data: dict[str, Any], lang: str = "en") -> str:
    """The panel's HTML: a folded "what if" with a slider per preference (labels escaped), in ``lang``."""
    _ = translations(lang).gettext
    rows = []
    for k, p in enumerate(data["prefs"]):
        w = p["weight"]
        top = max(10.0, 2 * w)
        step = 0.5 if top <= 20 else 1.0
        rows.append(
            f"<label class='sm-whatif-row'><span>{html.escape(p['label'])}</span>"
            f"<input type='range' id='sm-whatif-w{k}' min='0' max='{top:g}' step='{step:g}' value='{w:g}'>"
            f"<output id='sm-whatif-o{k}'>{format_number(w, lang, decimals=2)}</output></label>"
        )
    move = _(
        "Move a weight: the %(n)s exactly measured ranked sites are re-scored and re-ranked here; "
        "the rank badges follow."
    ) % {"n": len(data["sites"])}
    title, reset, top_ten = _("What if? Weights"), _("Reset"), _("New top ten:")
    return (
        f"<details><summary>{html.escape(title)}</summary>"
        f"<p class='sm-small'>{html.escape(move)}</p>"
        + "".join(rows)
        + f"<button type='button' id='sm-whatif-reset'>{html.escape(reset)}</button>"
        f"<p class='sm-small'>{html.escape(top_ten)}</p><ol id='sm-whatif-top'></ol>"
        "<p class='sm-small sm-note' id='sm-whatif-note'></p></details>"
    )
