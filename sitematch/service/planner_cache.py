"""The planner's and the municipality's answers for the service, computed once per data change and kept.

Everything the planner pages show (gap summary, kartbild, municipality sheets, opportunity matrix,
brownfield view) and the municipality's "leads my plots fit" view is derived from one full
evaluation per profile over all sites (:func:`sitematch.planner.evaluate_profiles`). Both the
evaluations and what is derived from them are kept, keyed by the region's fingerprint, a digest of
the plots (an upload or a withdrawal changes it) and each profile's digest (a changed profile
changes it): a page load after the first reads the kept answer, and a profile shared by two views
(or two users' sets of profiles) is evaluated once.

:data:`evaluations` and :data:`computed` count the work done (tests assert bounded work by
counting, not by time).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile
from sitematch.result import MatchResult

_LOCK = threading.Lock()
#: Held while computing, so two requests for the same answer compute it once.
_WORK = threading.RLock()
_KEPT: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_RESULTS: OrderedDict[tuple[Any, ...], MatchResult] = OrderedDict()
#: Derived answers kept (per process); the oldest is dropped first.
KEEP = 64
#: Evaluations (one profile over all sites) kept.
KEEP_RESULTS = 32
#: How many gap summaries were computed (for tests: bounded work is counted, not timed).
computed = 0
#: How many profiles were evaluated over all sites.
evaluations = 0
#: How many derived answers (of any kind) were computed.
derived = 0


def data_key(layers: LayerSet) -> tuple[str, str]:
    """What the answers rest on besides the profiles: the region's fingerprint and the plots' digest."""
    return layers.fingerprint(), plots_digest(layers)


def evaluation_digest(profile: Profile) -> str:
    """A hash of what a profile's evaluation rests on: its content without its name and lead.

    A profile shown under another name (a confidential lead named only by its sector) shares its
    evaluation with the original.
    """
    import hashlib
    import json

    data = {k: v for k, v in profile.to_data().items() if k not in ("name", "lead", "description")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def results_for(
    layers: LayerSet, profiles: Sequence[Profile], step: Callable[[str], None] | None = None
) -> list[MatchResult]:
    """One full evaluation per profile (kept per data change and profile), in the order given.

    Each result carries the profile as given (its name), whatever name it was first evaluated under.
    ``step`` (a :func:`sitematch.service.runs.deadline` hook) is called before each evaluation.
    """
    import dataclasses

    global evaluations
    from sitematch.planner import evaluate_profiles

    key = data_key(layers)
    out = []
    with _WORK:
        for profile in profiles:
            k = (key, evaluation_digest(profile))
            with _LOCK:
                hit = _RESULTS.get(k)
                if hit is not None:
                    _RESULTS.move_to_end(k)
            if hit is None:
                if step is not None:
                    step(f"profile {profile.slug or 'profile'}")
                (hit,) = evaluate_profiles([profile], layers)
                with _LOCK:
                    evaluations += 1
                    _RESULTS[k] = hit
                    while len(_RESULTS) > KEEP_RESULTS:
                        _RESULTS.popitem(last=False)
            out.append(hit if hit.profile is profile else dataclasses.replace(hit, profile=profile))
    return out


def kept(
    layers: LayerSet,
    profiles: Sequence[Profile],
    name: str,
    build: Callable[[list[MatchResult]], Any],
    step: Callable[[str], None] | None = None,
) -> Any:
    """The answer ``name`` for ``profiles`` over ``layers``: ``build(results)``, computed once per data change.

    ``name`` names what ``build`` computes, including anything else it depends on (a municipality's
    code, whether confidential leads are named).
    """
    global derived
    key = (data_key(layers), tuple(p.digest() for p in profiles), name)
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    with _WORK:
        with _LOCK:
            if key in _KEPT:
                return _KEPT[key]
        value = build(results_for(layers, profiles, step))
        with _LOCK:
            derived += 1
            _KEPT[key] = value
            while len(_KEPT) > KEEP:
                _KEPT.popitem(last=False)
    return value


def gap_view(layers: LayerSet, profiles: list[Profile], step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The gap summary of ``profiles`` over ``layers``, as plain data for a page (kept per data change).

    Returns
    -------
    dict
        ``binding`` (per profile: the binding requirement in the region, with hectares),
        ``changes`` (the headline smallest changes), ``municipalities`` (per municipality: sites,
        hectares, land that fits, land one requirement away, the binding requirement's short label
        per profile).
    """

    def build(results: list[MatchResult]) -> dict[str, Any]:
        global computed
        view = _compute(layers, profiles, results)
        with _LOCK:
            computed += 1
        return view

    return kept(layers, profiles, "gaps", build, step)


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


def _compute(layers: LayerSet, profiles: list[Profile], results: list[MatchResult]) -> dict[str, Any]:
    from sitematch.planner import gap_summary, smallest_changes
    from sitematch.planner.changes import headline_changes
    from sitematch.planner.gaps import municipality_overview

    names = layers.municipality_names
    if not profiles:
        return {"binding": [], "changes": [], "municipalities": [], "profiles": []}
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
