"""Running matches for the service: the library's calls, within a time limit and a number of workers.

A match is :func:`sitematch.match.match` on :func:`sitematch.layers.region.open_region` (the
region and the plot store's plots), then :func:`sitematch.export.write_all` into the match's
folder — the same calls as ``sitematch match``. The time limit is kept through the library's
``progress`` hook: at each step the run checks the clock and stops, leaving nothing behind,
once ``settings.service_match_timeout_s`` has passed. At most ``settings.service_match_workers``
matches run at once; the others wait their turn.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch import settings
from sitematch.criteria import format_value
from sitematch.errors import StoreNotFoundError
from sitematch.export import folder_name, write_all
from sitematch.funnel import binding, funnel
from sitematch.layers.layerset import LayerSet
from sitematch.layers.region import open_region
from sitematch.match import match
from sitematch.profile import Profile
from sitematch.result import MatchResult
from sitematch.service.accounts import User
from sitematch.service.errors import UnavailableError
from sitematch.service.records import profile_data_for

log = logging.getLogger(__name__)

#: The files every stored match has (the PDF is printed when first asked for).
FORMATS = ("csv", "funnel", "gpkg", "map", "dossier")
RESULT_FILE = "result.json"
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot() -> threading.BoundedSemaphore:
    with _slots_lock:
        n = max(1, int(settings.service_match_workers))
        return _slots.setdefault(n, threading.BoundedSemaphore(n))


def deadline(seconds: float, what: str = "the match") -> Callable[[str], None]:
    """A progress hook that stops the run (UnavailableError, 503) once ``seconds`` have passed.

    Examples
    --------
    >>> step = deadline(60)
    >>> step("region")  # in time: nothing happens
    """
    end = time.monotonic() + seconds

    def step(_name: str) -> None:
        if time.monotonic() > end:
            raise UnavailableError(
                f"{what} took longer than the service's limit of {seconds:g} s and was stopped; "
                "narrow the region or try again later"
            )

    return step


def open_layers(layers: str | Path | None, store: str) -> LayerSet:
    """The region with the plot store's plots (the region alone while the store has none)."""
    try:
        return open_region(layers, store=store)
    except StoreNotFoundError:
        return open_region(layers)


def run_limited(work: Callable[[Callable[[str], None]], Any], what: str = "the match") -> Any:
    """Run ``work(step)`` in a worker slot, ``step`` being the time limit's progress hook."""
    with _slot():
        return work(deadline(settings.service_match_timeout_s, what))


def run_match(profile: Profile, layers_path: str | Path | None, store: str, folder: Path) -> dict[str, Any]:
    """Match ``profile`` and write its exports and ``result.json`` into ``folder``; the result as data.

    Nothing is left in ``folder`` if the run fails or runs out of time.
    """

    def work(step: Callable[[str], None]) -> dict[str, Any]:
        try:
            layers = open_layers(layers_path, store)
            step("layers")
            result = match(profile, layers, progress=step)
            write_all(result, layers, folder, FORMATS, progress=step)
            data = result_data(result)
            (folder / RESULT_FILE).write_text(json.dumps(data, ensure_ascii=False, default=plain), encoding="utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return data

    return run_limited(work)  # type: ignore[no-any-return]


def plain(value: Any) -> Any:
    """A value JSON can hold: numpy numbers as Python numbers, NaN and NA as None.

    Examples
    --------
    >>> plain(np.float64(2.5)), plain(float("nan")), plain(pd.NA), plain(np.bool_(True)), plain(3)
    (2.5, None, None, True, 3)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | set):
        return list(value)
    if hasattr(value, "items"):
        return dict(value.items())
    return str(value)


def _site(result: MatchResult, row: pd.Series) -> dict[str, Any]:
    return {
        "plot_id": row[s.PLOT_ID],
        "municipality_code": row[s.MUNICIPALITY_CODE],
        "municipality": result.run.municipality(row[s.MUNICIPALITY_CODE]),
        "name": plain(row.get(s.NAME)),
        "facts": {c.name: format_value(c, row.get(c.name)) for c in result.headline()},
    }


def result_data(result: MatchResult) -> dict[str, Any]:
    """A match as plain data: every ranked site with its explanation, the near misses, the funnel."""
    why = binding(result)
    ranked = [
        {
            "rank": plain(row["rank"]),
            "score": round(float(row["score"]), 2),
            **_site(result, row),
            "breakdown": [asdict(b) for b in result.breakdown_row(row)],
            "to_verify": result.to_verify(row),
        }
        for _, row in result.ranked.iterrows()
    ]
    near = [{**_site(result, row), "missed": result.misses(row)} for _, row in result.near_misses.iterrows()]
    return {
        "profile": result.profile.to_data(),
        "label": folder_name(result.profile),
        "counts": {
            "sites": len(result.sites),
            "ranked": len(result.ranked),
            "near_misses": len(result.near_misses),
            "excluded": len(result.excluded),
            "outside_region": result.outside_region,
        },
        "why": why.sentence() if why else None,
        "funnel": [{k: plain(v) for k, v in r.items()} for r in funnel(result).to_dict("records")],
        "ranked": ranked,
        "near_misses": near,
        "run": {f.name: plain(getattr(result.run, f.name)) for f in fields(result.run)},
    }


def read_result(folder: Path) -> dict[str, Any]:
    """A stored match's ``result.json``."""
    return json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def for_municipality(data: dict[str, Any], code: str) -> dict[str, Any]:
    """A match as a municipality sees it: its own plots only, and no contact details of the lead."""
    out = dict(data)
    out["ranked"] = [r for r in data["ranked"] if r["municipality_code"] == code]
    out["near_misses"] = [r for r in data["near_misses"] if r["municipality_code"] == code]
    out["profile"] = profile_data_for(User(code, f"municipality:{code}"), data["profile"])
    return out


def fits(
    layers: LayerSet,
    profiles: Iterable[tuple[str, Profile]],
    plot_ids: list[str],
    step: Callable[[str], None] | None = None,
) -> dict[str, list[dict]]:
    """How each plot fares against each profile: ranked (rank, score), near miss or excluded (what it missed).

    Composes :func:`sitematch.match.match` per profile; a plot outside a profile's region is left out
    of that profile's list. ``step`` (a :func:`deadline` hook) is called before each profile and
    inside each match, so a long list of profiles stops at the time limit.
    """
    out: dict[str, list[dict]] = {p: [] for p in plot_ids}
    for profile_id, profile in profiles:
        if step is not None:
            step(f"profile {profile_id}")
        result = match(profile, layers, progress=step)
        rows = result.sites[result.sites[s.PLOT_ID].isin(plot_ids)]
        for _, row in rows.iterrows():
            status = "ranked" if row["passed"] else ("near miss" if row["near_miss"] else "excluded")
            out[row[s.PLOT_ID]].append(
                {
                    "profile_id": profile_id,
                    "profile": profile.name,
                    "status": status,
                    "rank": plain(row["rank"]),
                    "score": None if pd.isna(row["score"]) else round(float(row["score"]), 2),
                    "missed": result.misses(row),
                }
            )
    return out
