"""The all-exact section of ``bench/results.md`` (issue 25): both modes' figures, like with like."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitematch.bench.run import Timing

BEGIN, END = "<!-- all-exact: begin -->", "<!-- all-exact: end -->"


def _check(text: str, ok: bool) -> str:
    return f"- {'met' if ok else '**missed**'}: {text}"


def exact_section(
    timings: list[Timing],
    startup: Mapping[str, float],
    machine: str,
    fresh_peak_gb: float | None = None,
    jit: Mapping[str, float] | None = None,
) -> list[str]:
    """The all-exact table, the CLI start-up figures and issue 25's targets, marked met or missed."""
    rows = [r for r in timings if not math.isnan(r.exact_all_s)]
    kernels = sorted({r.kernel or "numpy" for r in rows})
    kernel_text = (
        "the compiled kernel (`sitematch/kernel_jit.py`, Numba: one search of a point tree per site fused with the "
        "exact distances, on 2 threads — both cores)"
        if kernels == ["numba"]
        else "the NumPy kernel (`sitematch/kernel.py`, over KD-tree candidates, on 2 threads)"
        if kernels == ["numpy"]
        else f"kernels {', '.join(kernels)} (see the kernel column)"
    )
    lines = [
        BEGIN,
        "## All-exact mode (issue 25)",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {machine}; the machine was shared with other "
        "work while this ran, so the CPU seconds of the timed run are given next to its wall time. "
        '*all-exact*: `match(profile, layers, exact="all")` (`sitematch match --exact all`) — every site gets '
        "every value, score and rank exactly (a full evaluation: nearest distances and radius aggregates through "
        f"{kernel_text}), best and median of 3 after indexing and after the kernel is compiled (its compile time "
        "is given below). *reference* and *peer* as above (GEOS, one core), computing the same values for the "
        "same sites in the same run; × is how many times faster all-exact's best is than theirs. "
        "*max Δ m*: largest difference of any value of any compared site from the reference's "
        "(every value of every site is compared; `inf` would mean a value missing). *same ranking*: the same sites "
        "pass, every one is ranked, in the reference's order, and every row is `exact`.",
        "",
        "| profile | plots | in region | all-exact s best / median (CPU s) | peak RSS GB | ranked | reference s "
        "| × | peer s | × | max Δ m | same ranking |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for r in rows:
        star = "*" if r.compared < r.sites else ""
        lines.append(
            f"| {r.profile} | {r.n:,} | {r.sites:,} | {r.exact_all_s:.2f} / {r.exact_all_median_s:.2f} "
            f"({r.exact_all_cpu_s:.2f}) "
            f"| {r.exact_all_peak_gb:.2f} | {r.ranked:,} | {r.reference_s * r.scale:.1f}{star} "
            f"| {r.ratio_reference_all:.0f}× | {r.peer_s * r.scale:.1f}{star} | {r.ratio_peer_all:.1f}× "
            f"| {r.exact_all_diff_m:.1e} | {'yes' if r.exact_all_same else 'NO'} |"
        )
    notes = sorted({note for r in rows for note in r.notes})
    lines += [""] + [f"\\* {note}" for note in notes] + ([""] if notes else [])
    export = next((r for r in rows if not math.isnan(r.export_together_s)), None)
    if export:
        lines += [
            f"Writing every site of the all-exact full-measure result at {export.n:,} plots, `ranking.csv` and "
            f"`ranking.gpkg`: {export.export_together_s:.1f} s together as `sitematch match` writes them (the "
            f"CSV's writer beside GDAL's inserts); {export.export_alone_s:.1f} s one after the "
            "other in one process "
            "(`sitematch/export/tables.py`).",
            "",
        ]
    if fresh_peak_gb is not None:
        lines += [
            "Peak memory of a fresh process that generates 1,000,000 synthetic plots, indexes them (no screens: "
            f"all-exact does not use them) and matches the full-measure profile all-exact: {fresh_peak_gb:.2f} GB "
            "(`sitematch/bench/memory.py`).",
            "",
        ]
    if jit:
        lines += [
            "Compiling the kernel, in a fresh process (`sitematch.kernel_jit.warm_up()`, Numba imported): "
            + "; ".join(f"{k} {v:.2f} s" for k, v in jit.items())
            + ". Cold: an empty cache folder, every function compiled; warm: loaded from Numba's disk cache "
            "(`cache=True`), what every later process pays once, at its first large query.",
            "",
        ]
    if startup:
        lines += [
            "CLI on the bundled region, a fresh process from a shell, `sitematch match scenarios/"
            "logistics_warehouse.yaml --no-map --no-pdf`: "
            + "; ".join(f"{k} {v:.2f} s" for k, v in startup.items())
            + ".",
            "",
        ]
    lines += ["Targets (issue 25):", ""]
    by = {(r.profile, r.n): r for r in rows}
    f100, f1m = by.get(("full-measure", 100_000)), by.get(("full-measure", 1_000_000))
    if f100:
        lines.append(
            _check(
                f"all-exact full-measure at 100k ≥ 10× the peer in the same run: {f100.ratio_peer_all:.1f}×",
                f100.ratio_peer_all >= 10,
            )
        )
    if f1m:
        lines.append(_check(f"all-exact full-measure at 1M ≤ 15 s: {f1m.exact_all_s:.1f} s", f1m.exact_all_s <= 15))
        if fresh_peak_gb is not None:
            lines.append(
                _check(
                    f"all-exact full-measure at 1M, peak memory ≤ 3 GB (a fresh process): {fresh_peak_gb:.2f} GB",
                    fresh_peak_gb <= 3,
                )
            )
    for r in rows:
        if r.n == 10_000:
            lines.append(
                _check(
                    f"{r.profile}, 10,000: all-exact values equal the reference's on every site "
                    f"(max Δ {r.exact_all_diff_m:.1e} m ≤ 1e-6) and the same ranking",
                    r.exact_all_same and r.exact_all_diff_m <= 1e-6,
                )
            )
    if export:
        total = export.export_together_s
        lines.append(_check(f"{export.n:,}-row CSV + GeoPackage export < 15 s: {total:.1f} s", total < 15))
    warm = startup.get("warm median of 5")
    if warm is not None:
        lines.append(_check(f"fresh-process CLI match, no map, no PDF < 1 s (cache warm): {warm:.2f} s", warm < 1))
    lines += ["", END]
    return lines


def put_section(path: Path, lines: list[str]) -> str:
    """Write ``lines`` into ``path`` in place of an earlier all-exact section (or at its end)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    block = "\n".join(lines)
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def cli_seconds(repeats: int = 5) -> dict[str, float]:
    """A fresh ``sitematch match … --no-map --no-pdf`` on the bundled region, cold and warm
    (:func:`sitematch.bench.fixed_costs.cli_seconds`)."""
    from sitematch.bench.fixed_costs import cli_seconds as fresh_cli_seconds

    return fresh_cli_seconds(repeats)


def run_all_exact(
    sizes: tuple[int, ...],
    *,
    out: Path,
    reference_limit: int = 100_000,
    repeats: int = 2,
    say: Any = print,
) -> str:
    """Only the all-exact part of the bench (and the CLI figures); its section replaces the old one in ``out``."""
    import tempfile

    from sitematch.bench.profiles import PROFILES
    from sitematch.bench.report import machine
    from sitematch.bench.run import bench_size
    from sitematch.profile import parse_profile

    profiles = {name: parse_profile(text, where=f"{name} profile", slug=name) for name, text in PROFILES.items()}
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            timings += bench_size(
                n, profiles, reference_limit=reference_limit, repeats=repeats, work=Path(tmp), say=say,
                parts=("all-exact",),
            )  # fmt: skip
    fresh = None
    if 1_000_000 in sizes:
        from sitematch.bench.memory import fresh_process_peak_gb

        say("1,000,000 plots, full-measure, all-exact: peak memory of a fresh process")
        fresh = fresh_process_peak_gb(1_000_000, "full-measure", "all")["peak_gb"]
    say("compiling the kernel in a fresh process, cold and warm cache")
    jit = jit_seconds()
    say("CLI start-up, cold and warm")
    startup = cli_seconds()
    timings = _merged(out.with_name("all_exact.json"), timings)
    return put_section(out, exact_section(timings, startup, machine(), fresh, jit))


def jit_seconds(repeats: int = 3) -> dict[str, float]:
    """Seconds a fresh process takes to import Numba and compile the kernel: with an empty cache, then warm.

    Empty: ``NUMBA_CACHE_DIR`` a new folder (median of ``repeats``, each in its own folder); warm:
    the same folder again (median of ``repeats``). Empty when Numba is not installed.
    """
    import os
    import statistics
    import subprocess
    import sys
    import tempfile

    from sitematch import kernel_jit

    if not kernel_jit.available():
        return {}
    code = "import time; t = time.perf_counter(); from sitematch import kernel_jit; kernel_jit.warm_up(); "
    code += "print(time.perf_counter() - t)"
    cold, warm = [], []
    root = str(Path(__file__).resolve().parents[2])
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="sitematch-numba-") as tmp:
            env = {**os.environ, "NUMBA_CACHE_DIR": tmp, "PYTHONPATH": root}
            run = [sys.executable, "-c", code]
            cold.append(float(subprocess.run(run, check=True, capture_output=True, text=True, env=env).stdout))
            warm.append(float(subprocess.run(run, check=True, capture_output=True, text=True, env=env).stdout))
    return {"cold (empty cache) median": statistics.median(cold), "warm (cached) median": statistics.median(warm)}


def _merged(path: Path, timings: list[Timing]) -> list[Timing]:
    """These timings with those of earlier runs at other sizes (kept in ``path``), by size and profile."""
    import dataclasses
    import json

    kept: list[Timing] = []
    if path.is_file():
        sizes = {r.n for r in timings}
        saved = json.loads(path.read_text(encoding="utf-8"))
        kept = [Timing(**_current(row)) for row in saved if row["n"] not in sizes]
    rows = sorted(
        [*kept, *timings],
        key=lambda r: (
            r.n,
            list(("selective", "full-measure", "regional")).index(r.profile)
            if r.profile in ("selective", "full-measure", "regional")
            else 9,
        ),
    )
    path.write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=1, default=str), encoding="utf-8")
    return rows


def _current(row: dict[str, Any]) -> dict[str, Any]:
    """A kept row in today's fields: the CSV and GeoPackage seconds of earlier runs, one after the other, summed.

    Examples
    --------
    >>> _current({"n": 1, "export_csv_s": 8.5, "export_gpkg_s": 7.5})
    {'n': 1, 'export_alone_s': 16.0}
    """
    row = dict(row)
    if "export_csv_s" in row or "export_gpkg_s" in row:
        row["export_alone_s"] = float(row.pop("export_csv_s", math.nan)) + float(row.pop("export_gpkg_s", math.nan))
    return row
