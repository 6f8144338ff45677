"""``bench/results.md``: the benchmark's measurements as Markdown, each target marked met or missed."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sitematch import settings
from sitematch.bench.drive_time import DriveTimeResult, report_lines
from sitematch.bench.run import Timing, growth_exponent


def machine() -> str:
    """Cores, CPU model, memory and Python of this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def _table(timings: list[Timing]) -> list[str]:
    lines = [
        "| profile | plots | in region | index + screens s | engine s | peak RSS GB "
        "| ranked (exact rank) | near misses | reference s | × | peer s | × | max Δ m | same ranking "
        "| export top 500 s "
        "| map MB | render s |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|",
    ]
    for r in timings:
        star = "*" if r.compared < r.sites else ""
        render = f"{r.render_s:.2f}" if r.render_s is not None else "n/a"
        lines.append(
            f"| {r.profile} | {r.n:,} | {r.sites:,} | {r.index_s:.2f} | {r.ours_s:.3f} | {r.peak_gb:.2f} "
            f"| {r.ranked:,} ({r.proven:,}) | {r.near_misses:,} | {r.reference_s * r.scale:.1f}{star} "
            f"| {r.ratio_reference:.0f}× | {r.peer_s * r.scale:.1f}{star} | {r.ratio_peer:.0f}× "
            f"| {_compared(r)} | {r.export_s:.2f} "
            f"| {r.html_mb:.2f} | {render} |"
        )
    return lines


def _compared(r: Timing) -> str:
    """The *max Δ m* and *same ranking* cells: ``n/a`` for both when the default mode was not compared."""
    if r.same_ranking is None:
        return "n/a | n/a"
    return f"{r.max_distance_diff_m:.3f} | {'yes' if r.same_ranking else 'NO'}"


def _check(text: str, ok: bool) -> str:
    return f"- {'met' if ok else '**missed**'}: {text}"


def targets(timings: list[Timing], dask: Mapping[str, Any] | None, startup: Mapping[str, float]) -> list[str]:
    """Issue 16's targets, each marked met or missed with the measured figure."""
    by = {(r.profile, r.n): r for r in timings}
    out = []
    full_1m, full_100k, sel_1m = (
        by.get(("full-measure", 1_000_000)),
        by.get(("full-measure", 100_000)),
        by.get(("selective", 1_000_000)),
    )
    if full_1m:
        out.append(_check(f"full-measure profile at 1M ≤ 10 s: {full_1m.ours_s:.2f} s", full_1m.ours_s <= 10))
    if full_100k:
        out.append(
            _check(
                f"full-measure profile at 100k ≥ 30× the reference: {full_100k.ratio_reference:.0f}×",
                full_100k.ratio_reference >= 30,
            )
        )
        out.append(
            _check(
                f"full-measure profile at 100k ≥ 10× the peer (segmented lines): {full_100k.ratio_peer:.0f}×",
                full_100k.ratio_peer >= 10,
            )
        )
    if sel_1m:
        out.append(_check(f"selective profile at 1M ≤ 2 s: {sel_1m.ours_s:.2f} s", sel_1m.ours_s <= 2))
    small = [r for r in timings if r.n == 10_000]
    if small:
        worst = max(small, key=lambda r: r.ours_s)
        out.append(
            _check(
                f"10k plots of any profile ≤ 0.3 s: slowest {worst.profile} {worst.ours_s:.3f} s", worst.ours_s <= 0.3
            )
        )
    big = [r for r in timings if r.n == 1_000_000 and r.fresh_peak_gb is not None]
    if big:
        worst = max(big, key=lambda r: r.fresh_peak_gb or 0.0)
        peak = worst.fresh_peak_gb or 0.0
        out.append(
            _check(
                f"peak memory at 1M < 4 GB (a fresh process: data, indexes, screens and the match): "
                f"largest {worst.profile} {peak:.2f} GB",
                peak < 4,
            )
        )
    if dask:
        one, two, single = dask.get("dask_1_workers_s"), dask.get("dask_2_workers_s"), dask["one_process_s"]
        if one and two:
            out.append(
                _check(
                    f"Dask, 2 workers ≤ 0.6× 1 worker: {two:.2f} s vs {one:.2f} s ({two / one:.2f}×)", two <= 0.6 * one
                )
            )
            out.append(
                _check(f"Dask, 2 workers no slower than one process: {two:.2f} s vs {single:.2f} s", two <= single)
            )
        out.append(_check("Dask gives the one-process ranking", bool(dask["identical"])))
    if "help" in startup:
        out.append(_check(f"`sitematch --help` < 0.3 s: {startup['help']:.2f} s", startup["help"] < 0.3))
    for what, seconds in startup.items():
        if what != "help":
            out.append(_check(f"{what} < 1 s end to end: {seconds:.2f} s", seconds < 1))
    out += [
        _check(
            f"{r.profile}, {r.n:,}: exact values equal the reference (≤ 1 m) and every rank is its order",
            bool(r.same_ranking) and r.max_distance_diff_m <= 1.0,
        )
        for r in timings
        if r.same_ranking is not None  # the default mode not run: nothing to mark
    ]
    return out


def report(
    timings: list[Timing],
    *,
    dask: Mapping[str, Any] | None,
    dask_n: int,
    startup: Mapping[str, float],
    drive: DriveTimeResult | None,
) -> str:
    """The whole report."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on this machine: {machine()}. "
        f"shapely {version('shapely')}, geopandas {version('geopandas')}, numpy {version('numpy')}. "
        "Produced by `make bench` (`sitematch/bench/`): synthetic national data (`synthetic.py`, labelled "
        "synthetic), three profiles (`profiles.py`): *selective* — attribute requirements drop ~99.9 % of sites "
        "before any geometry; *full-measure* — no requirements, eight preferences, every site measured on two "
        "line layers, four point layers and two radius aggregates; *regional* — a logistics lead in the SBA "
        "counties.",
        "",
        "*engine*: `sitematch.matching.match` after indexing (best of 2 runs; indexes and screening rasters are built "
        "once per layer set, their time is the *index + screens* column, mostly paid by the first profile of a "
        "size). *reference*: the obvious geopandas approach (`sjoin_nearest` on the unsplit layers, `sjoin` "
        "dwithin for radius sums). *peer*: the same with lines split into two-point segments — what a GIS engineer "
        "who knows R-trees writes. × is how many times faster the engine is. *peak RSS*: the benchmark process's "
        "resident memory while the engine ran (freed memory handed back first), including the layers, plots and "
        "whatever the benchmark holds; a fresh process's peak follows the table. *ranked (exact rank)*: "
        f"sites that pass, and how many of them have an exact score and rank — in a staged run the best "
        f"{settings.exact_top:,} always do; further passing sites carry a score interval "
        "(`lower_score`/`upper_score`) below every ranked score, and are labelled `exact = False`. "
        "*max Δ m*: largest difference between a value the engine gives and the reference's.",
        "",
        *_table(timings),
        "",
    ]
    notes = sorted({note for r in timings for note in r.notes})
    lines += [f"\\* {note}" for note in notes] + ([""] if notes else [])
    fresh = [r for r in timings if r.fresh_peak_gb is not None]
    if fresh:
        lines += [
            f"Peak memory of a fresh process that generates {fresh[0].n:,} synthetic plots, builds the indexes and "
            "screens and matches (`sitematch/bench/memory.py`): "
            + ", ".join(f"{r.profile} {r.fresh_peak_gb:.2f} GB" for r in fresh)
            + ".",
            "",
        ]
    sizes = sorted({r.n for r in timings})
    if len(sizes) > 1:
        growth = []
        for name in dict.fromkeys(r.profile for r in timings):
            a = next(r for r in timings if r.profile == name and r.n == sizes[0])
            b = next(r for r in timings if r.profile == name and r.n == sizes[-1])
            growth.append(f"{name} {growth_exponent(a.ours_s, b.ours_s, a.n, b.n):.2f}")
        lines += [
            f"Growth exponent of the engine's time from {sizes[0]:,} to {sizes[-1]:,} plots (time ∝ nᵏ; 1 is "
            f"linear): {', '.join(growth)}.",
            "",
        ]
    if dask:
        sizes = sorted(int(k.split("_")[1]) for k in dask if k.startswith("dask_") and k.endswith("_workers_s"))
        runs = "".join(
            f"; {k} worker(s): {dask[f'dask_{k}_workers_s']:.2f} s warm (first run "
            f"{dask[f'dask_{k}_workers_first_s']:.2f} s, cluster start {dask[f'dask_{k}_workers_start_s']:.2f} s)"
            for k in sizes
        )
        lines += [
            "## Dask",
            "",
            f"{dask_n:,} plots, full-measure profile, the plots in partitioned GeoParquet "
            f"({dask.get('partitions', '?')} files, `sitematch plots partition`) read where they live, the layers "
            "read once per worker from their file (`sitematch/bench/dask_scaling.py`). One process reading the same "
            f"files and matching: {dask['one_process_s']:.2f} s (of which reading {dask['one_process_read_s']:.2f} s)"
            + runs
            + ". A local cluster, one thread per worker, on the same cores as the driver; the warm run is timed (a "
            "deployment keeps its workers with their layers, indexes and screens). Same ranking as one process: "
            + ("yes" if dask["identical"] else "NO")
            + ".",
            "",
        ]
    if startup:
        lines += [
            "## Start-up",
            "",
            "Wall time from a shell, best of 5: " + "; ".join(f"{k} {v:.2f} s" for k, v in startup.items()) + ".",
            "",
        ]
    if drive is not None:
        lines += report_lines(drive)
    lines += ["## Targets (issue 16)", "", *targets(timings, dask, startup), ""]
    lines += service_section(Path("bench/service.md"))
    from sitematch.bench.planner import planner_section

    lines += planner_section(Path("bench/planner.md"))
    return "\n".join(lines)


def service_section(path: Path) -> list[str]:
    """The web service's load test (``bench/service.md``, written by ``tests/test_service_load.py``
    with ``SITEMATCH_WRITE_BENCH=1``), as a section of this report; nothing when it was never run.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "service.md"
    >>> _ = f.write_text("# Web service under load\\n\\n| a |\\n", encoding="utf-8")
    >>> service_section(f)[:3]
    ['## Web service under load', '', '| a |']
    """
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    out = [("#" + line) if line.startswith("#") else line for line in lines]
    return [
        *out,
        "",
        f"(from `{path.as_posix()}`: run by `SITEMATCH_WRITE_BENCH=1 make test`, not by `make bench`)",
        "",
    ]


def with_service_section(report: str, section: list[str]) -> str:
    """``report`` (``bench/results.md``'s text) with its service section replaced by ``section`` (or added).

    Examples
    --------
    The sections after it are kept.

    >>> section = ["## Web service under load", "", "new", ""]
    >>> with_service_section("# B\\n\\n## Web service under load\\n\\nold\\n", section)
    '# B\\n## Web service under load\\n\\nnew\\n'
    >>> with_service_section("# B\\n## Web service under load\\nold\\n\\n## Planner\\nkept\\n", section)
    '# B\\n## Web service under load\\n\\nnew\\n\\n## Planner\\nkept\\n'
    """
    head, _, rest = report.partition("## Web service under load")
    after = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
    out = head.rstrip("\n") + "\n" + "\n".join(section)
    return out + ("\n## " + after if after else "")
