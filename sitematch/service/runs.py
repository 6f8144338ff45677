"""Running matches for the service: the library's calls, in a worker process, within a time limit.

A match is :func:`sitematch.matching.match` on the region and the plot store's plots, then
:func:`sitematch.export.write_all` into the match's folder — the same calls as ``sitematch match``.
It runs in a worker process of :mod:`sitematch.service.pool` (:func:`match_in_pool`), behind a
bounded queue. The time limit (``settings.service_match_timeout_s``, counted from the request's
arrival) is kept through the library's ``progress`` hook: at each step the run checks the clock
(and whether it was cancelled) and stops, leaving nothing behind.

Each process reads and indexes the region once (:func:`open_layers`): the region's layers, their
indexes and screens are kept until one of the region's files changes, and only the store's plots
are read again, when the store has changed since (a GeoPackage's file times; a PostGIS store is
asked each time — one query).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch import settings
from sitematch.criteria import format_value
from sitematch.errors import StoreNotFoundError
from sitematch.export import ExportOptions, folder_name, write_all
from sitematch.funnel import binding, funnel
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import Profile, build_profile
from sitematch.result import MatchResult
from sitematch.service.accounts import User
from sitematch.service.errors import UnavailableError
from sitematch.service.records import profile_data_for

log = logging.getLogger(__name__)

#: The files every stored match has (the PDF is printed when first asked for).
FORMATS = ("csv", "funnel", "gpkg", "map", "dossier")
RESULT_FILE = "result.json"
#: Ranked sites and near misses a new match's answer carries (the rest are in ``result.json``).
ANSWER_ROWS = 10
#: A GeoPackage store changed less than this many seconds ago is read again (file times are coarse).
SETTLED_S = 1.0
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()
_regions: dict[str, tuple[tuple, LayerSet]] = {}
_with_store: dict[tuple[str, str], tuple[tuple, LayerSet]] = {}
_regions_lock = threading.Lock()


def _slot() -> threading.BoundedSemaphore:
    with _slots_lock:
        n = max(1, int(settings.service_match_workers))
        return _slots.setdefault(n, threading.BoundedSemaphore(n))


def deadline(seconds: float, what: str = "the match", *, start: float | None = None) -> Callable[[str], None]:
    """A progress hook that stops the run (UnavailableError, 503) once ``seconds`` have passed.

    ``start`` is when the clock started (``time.monotonic()``; default now).

    Examples
    --------
    >>> step = deadline(60)
    >>> step("region")  # in time: nothing happens
    """
    end = (time.monotonic() if start is None else start) + seconds

    def step(_name: str) -> None:
        if time.monotonic() > end:
            raise UnavailableError(
                f"{what} took longer than the service's limit of {seconds:g} s and was stopped; "
                "narrow the region or try again later"
            )

    return step


def _files_key(path: Path) -> tuple:
    """What changes when a region's files change: each file's name, size and modification time."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


def region(layers: str | Path | None) -> LayerSet:
    """The region's layers (without the store's plots), read once per process until its files change."""
    path = Path(layers) if layers else settings.layers_path()
    key = _files_key(path) if path.exists() else ()
    with _regions_lock:
        hit = _regions.get(str(path))
        if hit is not None and hit[0] == key:
            return hit[1]
    layerset = LayerSet.from_path(path)
    with _regions_lock:
        _regions[str(path)] = (key, layerset)
        for k in [k for k in _with_store if k[0] == str(path)]:
            del _with_store[k]
    return layerset


def store_version(store: str) -> tuple | None:
    """A cheap version of a GeoPackage store (its files' sizes and times); None: read it again.

    None for a PostGIS store, and for a GeoPackage changed in the last :data:`SETTLED_S` seconds.
    """
    if "://" in store:
        return None
    path = Path(store)
    out: list[tuple[int, int] | None] = []
    for f in (path, path.with_name(path.name + "-wal")):
        try:
            st = f.stat()
        except OSError:
            out.append(None)
            continue
        if time.time() - st.st_mtime < SETTLED_S:
            return None
        out.append((st.st_size, st.st_mtime_ns))
    return tuple(out)


def open_layers(layers: str | Path | None, store: str) -> LayerSet:
    """The region with the plot store's plots (the region alone while the store has none).

    The region is read and indexed once per process (:func:`region`); the store's plots are read
    again when the store has changed.
    """
    from sitematch.store import open_store

    base = region(layers)
    version = store_version(store)
    key = (str(Path(layers) if layers else settings.layers_path()), store)
    with _regions_lock:
        hit = _with_store.get(key)
    if version is not None and hit is not None and hit[0] == version:
        return hit[1]
    try:
        stored = open_store(store, create=False).plots()
    except StoreNotFoundError:
        layerset = base
    else:
        log.info("%d plots from the store", len(stored))
        layerset = base.with_plots(stored, origin=f"{base.origin} + {store}", add=True)
    if version is not None:
        with _regions_lock:
            _with_store[key] = (version, layerset)
    return layerset


def run_limited(work: Callable[[Callable[[str], None]], Any], what: str = "the match") -> Any:
    """Run ``work(step)`` in a worker slot, ``step`` being the time limit's progress hook."""
    with _slot():
        return work(deadline(settings.service_match_timeout_s, what))


def run_match(
    profile: Profile,
    layers_path: str | Path | None,
    store: str,
    folder: Path,
    step: Callable[[str], None] | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Match ``profile`` and write its exports and ``result.json`` into ``folder``; the result as data.

    ``lang`` is the language of the map's words (the page language of the account that asked).

    ``step`` is the progress hook (default: the service's time limit from now). Nothing is left in
    ``folder`` if the run fails, runs out of time or is cancelled.
    """

    def work(step: Callable[[str], None]) -> dict[str, Any]:
        try:
            t0, cpu0 = time.perf_counter(), time.process_time()
            layers = open_layers(layers_path, store)
            step("layers")
            t1 = time.perf_counter()
            result = match(profile, layers, progress=step)
            t2 = time.perf_counter()
            write_all(result, layers, folder, FORMATS, options=ExportOptions(map_language=lang), progress=step)
            t3 = time.perf_counter()
            data = result_data(result)
            (folder / RESULT_FILE).write_text(json.dumps(data, ensure_ascii=False, default=plain), encoding="utf-8")
            log.info(
                "match %s: layers %.2f s, match %.2f s, exports %.2f s, result %.2f s; CPU %.2f s",
                folder.name, t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3, time.process_time() - cpu0,
            )  # fmt: skip
            base = region(layers_path)
            if layers is not base:  # keep the indexes this match built (all but the plots') for the next
                base.adopt_cache(layers)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return data

    if step is not None:
        return work(step)
    return run_limited(work)


def answer(data: dict[str, Any]) -> dict[str, Any]:
    """What a new match's answer needs of its result: counts, why, the first ranked sites and near misses."""
    return {
        "counts": data["counts"],
        "why": data["why"],
        "ranked": data["ranked"][:ANSWER_ROWS],
        "near_misses": data["near_misses"][:ANSWER_ROWS],
    }


def match_job(
    *,
    profile: dict[str, Any],
    slug: str,
    layers: str | None,
    store: str,
    folder: str,
    step: Callable[[str], None],
    lang: str | None = None,
) -> dict[str, Any]:
    """In a worker process: parse ``profile`` with the region's criteria, run and keep the match; its answer."""
    parsed = build_profile(profile, where="the profile", slug=slug, registry=region(layers).registry)
    return answer(run_match(parsed, layers, store, Path(folder), step, lang=lang))


def warm_job(*, layers: str | None, store: str, step: Callable[[str], None]) -> bool:
    """In a worker process: read the region (and the store's plots) before the first match asks."""
    open_layers(layers, store)
    return True


async def match_in_pool(
    owner: str,
    profile: dict[str, Any],
    slug: str,
    layers: str | Path | None,
    store: str,
    folder: Path,
    *,
    arrived: float,
    gone: Callable[[], Awaitable[bool]],
    lang: str | None = None,
) -> dict[str, Any]:
    """Run a match in the service's worker processes (:mod:`sitematch.service.pool`); its answer.

    Parameters
    ----------
    owner : str
        The account that asked (the per-account bound of the queue).
    profile : dict
        The profile's data (already validated by the caller).
    slug, layers, store, folder
        As for :func:`run_match`; ``folder`` is the match's folder.
    arrived : float
        ``time.monotonic()`` when the request arrived: the time limit counts from it.
    gone : callable
        Whether the client went away (the match is then cancelled).
    lang : str, optional
        The language of the map's words (``sv``, ``en``; None: the server's).
    """
    from sitematch.service.pool import pool

    kwargs = {
        "profile": profile,
        "slug": slug,
        "layers": str(layers) if layers else None,
        "store": store,
        "folder": str(folder),
        "lang": lang,
    }
    return await pool().run(
        owner,
        "match",
        kwargs,
        deadline_at=arrived + settings.service_match_timeout_s,
        gone=gone,
        on_stop=lambda: shutil.rmtree(folder, ignore_errors=True),
    )


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


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts (no pandas Series per row)."""
    values = pd.DataFrame(frame.drop(columns=[s.GEOMETRY], errors="ignore"))
    columns = list(values.columns)
    return [dict(zip(columns, row, strict=True)) for row in values.itertuples(index=False, name=None)]


def _site(result: MatchResult, row: dict[str, Any]) -> dict[str, Any]:
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
    ranked_rows = _rows(result.ranked)
    ranked = [
        {
            "rank": plain(row["rank"]),
            "score": round(float(row["score"]), 2),
            **_site(result, row),
            "breakdown": [asdict(b) for b in result.breakdown_row(row)],
            "to_verify": result.to_verify(row),
        }
        for row in ranked_rows
    ]
    near_rows = _rows(result.near_misses)
    near = [{**_site(result, row), "missed": result.misses(row)} for row in near_rows]
    # the sentences in Swedish too (municipal staff read the page in Swedish): only where there are words
    swedish = {
        "why": why.sentence("sv") if why else None,
        "missed": {str(row[s.PLOT_ID]): result.misses(row, "sv") for row in near_rows},
        "to_verify": {
            str(row[s.PLOT_ID]): result.to_verify(row, "sv")
            for row, said in zip(ranked_rows, ranked, strict=True)
            if said["to_verify"]
        },
    }
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
        "sv": swedish,
    }


def in_language(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """A stored match's data with its sentences (why, what was missed, what to verify) in ``lang``.

    The Swedish ones are kept beside the English in ``result.json`` (key ``sv``); a match kept before
    they were keeps its English.
    """
    words = data.get(lang) if lang != "en" else None
    if not words:
        return data
    out = dict(data)
    out["why"] = words.get("why") or data.get("why")
    missed, verify = words.get("missed", {}), words.get("to_verify", {})
    out["near_misses"] = [
        {**r, "missed": missed.get(str(r.get("plot_id")), r.get("missed"))} for r in data["near_misses"]
    ]
    out["ranked"] = [{**r, "to_verify": verify.get(str(r.get("plot_id")), r.get("to_verify"))} for r in data["ranked"]]
    return out


def read_result(folder: Path) -> dict[str, Any]:
    """A stored match's ``result.json``."""
    return json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))


def for_municipality(data: dict[str, Any], code: str) -> dict[str, Any]:
    """A match as a municipality sees it: its own plots only, and no contact details of the lead."""
    out = dict(data)
    out["ranked"] = [r for r in data["ranked"] if r["municipality_code"] == code]
    out["near_misses"] = [r for r in data["near_misses"] if r["municipality_code"] == code]
    out["profile"] = profile_data_for(User(code, f"municipality:{code}"), data["profile"])
    if data.get("sv"):  # the Swedish sentences of its own plots only
        own = {r["plot_id"] for r in out["ranked"]} | {r["plot_id"] for r in out["near_misses"]}
        sv = data["sv"]
        out["sv"] = {
            "why": sv.get("why"),
            "missed": {k: v for k, v in sv.get("missed", {}).items() if k in own},
            "to_verify": {k: v for k, v in sv.get("to_verify", {}).items() if k in own},
        }
    return out


def fits(
    layers: LayerSet,
    profiles: Iterable[tuple[str, Profile]],
    plot_ids: list[str],
    step: Callable[[str], None] | None = None,
) -> dict[str, list[dict]]:
    """How each plot fares against each profile: ranked (rank, score), near miss or excluded (what it missed).

    Composes :func:`sitematch.matching.match` per profile; a plot outside a profile's region is left out
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
