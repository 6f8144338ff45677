"""The planner's gap summary for the service, computed once per data change and kept.

The key is the region's and plots' fingerprint with the digests of the profiles: a new upload or a
changed profile computes anew; every other page load reads the kept answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile

_LOCK = threading.Lock()
_KEPT: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
#: Answers kept (per process); the oldest is dropped first.
KEEP = 8
#: How many times a summary was computed (for tests: bounded work is counted, not timed).
computed = 0


def gap_view(layers: LayerSet, profiles: list[Profile]) -> dict[str, Any]:
    """The gap summary of ``profiles`` over ``layers``, as plain data for a page (kept per data change).

    Returns
    -------
    dict
        ``binding`` (per profile: the binding requirement in the region, with hectares),
        ``changes`` (the headline smallest changes), ``municipalities`` (per municipality: sites,
        hectares, land that fits, land one requirement away, the binding requirement's short label
        per profile).
    """
    global computed
    key = (layers.fingerprint(), plots_digest(layers), tuple(p.digest() for p in profiles))
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    view = _compute(layers, profiles)
    with _LOCK:
        computed += 1
        _KEPT[key] = view
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)
    return view


def plots_digest(layers: LayerSet) -> str:
    """A short hash of the plots (every value and geometry): an upload or a withdrawal changes it."""
    import hashlib

    import pandas as pd
    import shapely

    from sitematch import schema as s

    plots = layers.get("plots")
    if plots is None:
        return ""
    h = hashlib.sha256(f"{len(plots)}|{','.join(map(str, plots.columns))}".encode())
    h.update(pd.util.hash_pandas_object(pd.DataFrame(plots.drop(columns=s.GEOMETRY)), index=False).to_numpy().tobytes())
    h.update(b"".join(shapely.to_wkb(plots.geometry.to_numpy())))
    return h.hexdigest()[:16]


def _compute(layers: LayerSet, profiles: list[Profile]) -> dict[str, Any]:
    from sitematch.planner import evaluate_profiles, gap_summary, smallest_changes
    from sitematch.planner.changes import headline_changes
    from sitematch.planner.gaps import municipality_overview

    names = layers.municipality_names
    if not profiles:
        return {"binding": [], "changes": [], "municipalities": [], "profiles": []}
    results = evaluate_profiles(profiles, layers)
    summary = gap_summary(results, names)
    changes = headline_changes(smallest_changes(results, layers), 10)
    overview = municipality_overview(results)
    b = summary.binding
    region = b[b["scope"] == "region"].set_index("profile")
    labels = {p.name: {r.key: r.criterion.short_label for r in p.requirements} for p in profiles}
    per = b[b["scope"] == "municipality"]
    munis = []
    for code, o in overview.iterrows():
        rows = per[per["code"] == code].set_index("profile")
        munis.append(
            {
                "code": str(code),
                "name": names.get(str(code), str(code)),
                "sites": int(o["sites"]),
                "ha": round(float(o["ha"]), 1),
                "fits_ha": round(float(o["fits_ha"]), 1),
                "one_miss_ha": round(float(o["one_miss_ha"]), 1),
                "binding": [
                    labels[p.name].get(rows["requirement"][p.name], "") if p.name in rows.index else ""
                    for p in profiles
                ],
            }
        )
    return {
        "profiles": [p.name for p in profiles],
        "binding": [
            {
                "profile": p.name,
                "requirement": region["requirement_words"][p.name] if p.name in region.index else "",
                "only_miss_ha": round(float(region["only_miss_ha"][p.name]), 1) if p.name in region.index else 0,
                "only_miss": int(region["only_miss"][p.name]) if p.name in region.index else 0,
                "excluded_ha": round(float(region["excluded_ha"][p.name]), 1) if p.name in region.index else 0,
            }
            for p in profiles
        ],
        "changes": [
            {"change": c, "ha": round(float(ha), 1)} for c, ha in zip(changes["change"], changes["ha"], strict=True)
        ],
        "municipalities": munis,
    }
