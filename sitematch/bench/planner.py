"""Timing the planner's questions (``sitematch fit`` / ``sitematch gaps``) for ``make bench``.

- On the bundled region: ``sitematch gaps scenarios/*.yaml`` from a shell (wall time, every
  file it writes: tables, chart, kartbild, the municipality sheets), best of 2.
- On synthetic national data (``synthetic.py``, 100,000 sites by default) with the six sector
  archetypes in ``scenarios/``: one full evaluation per profile, then fit over every site, the
  gap summary and the smallest changes — against one ordinary match per profile (what an
  adviser's six runs cost).

Writes ``bench/planner.md``; :func:`sitematch.bench.report.report` includes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sitematch import settings

SECTION = "## Planner: fit and gaps (issue 23)"


def _scenarios() -> list[Path]:
    from sitematch.cli_planner import bundled_scenarios

    return sorted(bundled_scenarios().glob("*.yaml"))


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def gaps_command_seconds(repeats: int = 2) -> tuple[float, float]:
    """Wall and CPU time of ``sitematch gaps <the six archetypes>`` on the bundled region, from a shell
    (best of ``repeats``). The command runs on one core: on an idle machine its wall time is its CPU time."""
    best, best_cpu = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            cpu = _children_cpu()
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "sitematch.cli", "gaps", *map(str, _scenarios()), "--out", str(Path(tmp) / "g")],
                check=True,
                capture_output=True,
                cwd=tmp,
            )
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, _children_cpu() - cpu)
    return best, best_cpu


def synthetic_seconds(n: int, say: Callable[[str], None] = print) -> dict[str, float]:
    """Planner vs one match per profile on ``n`` synthetic sites × the six archetypes (warm indexes)."""
    from sitematch.bench.synthetic import synthetic_layers
    from sitematch.matching import match
    from sitematch.planner import evaluate_profiles, fit, gap_summary, smallest_changes
    from sitematch.profile import load_profile

    layers = synthetic_layers(n)
    profiles = [load_profile(p, registry=layers.registry) for p in _scenarios()]
    say(f"planner: warming indexes on {n:,} sites")
    match(profiles[0], layers)  # indexes and screens are built once per layer set: not timed
    out: dict[str, float] = {"n": float(n), "profiles": float(len(profiles))}
    t, c = time.perf_counter(), time.process_time()
    for p in profiles:
        match(p, layers)
    out["matches_s"], out["matches_cpu_s"] = time.perf_counter() - t, time.process_time() - c
    say("planner: one full evaluation per profile")
    t, c = time.perf_counter(), time.process_time()
    results = evaluate_profiles(profiles, layers)
    out["evaluate_s"] = time.perf_counter() - t
    t0 = time.perf_counter()
    found = fit(results)
    out["fit_s"] = time.perf_counter() - t0
    out["fit_rows"] = float(len(found.table))
    t = time.perf_counter()
    gap_summary(results, layers.municipality_names)
    out["gaps_s"] = time.perf_counter() - t
    t = time.perf_counter()
    smallest_changes(results, layers)
    out["changes_s"] = time.perf_counter() - t
    out["planner_cpu_s"] = time.process_time() - c
    out["staged_above"] = float(settings.staged_above)
    return out


def planner_lines(gaps: tuple[float, float], syn: dict[str, float], load: float | None = None) -> list[str]:
    """The report's section (``load``: the machine's 1-minute load average when measured)."""
    total = syn["evaluate_s"] + syn["fit_s"] + syn["gaps_s"] + syn["changes_s"]
    gaps_s, gaps_cpu = gaps
    n, k = int(syn["n"]), int(syn["profiles"])
    return [
        SECTION,
        "",
        f"`sitematch gaps scenarios/*.yaml` on the bundled region, from a shell, writing every table, the chart, "
        f"the kartbild and the municipality sheets (HTML), best of 2: **{gaps_s:.1f} s** wall, "
        f"**{gaps_cpu:.1f} s** CPU (one core: its wall time on an idle machine) — "
        f"{'met' if gaps_cpu < 10 else 'NOT met'}: under 10 s.",
        "",
        f"{n:,} synthetic sites × {k} sector archetypes (`sitematch/bench/planner.py`), indexes warm: "
        f"one full evaluation per profile {syn['evaluate_s']:.2f} s; then fit over every site "
        f"({int(syn['fit_rows']):,} site × profile rows, with every gap in words) {syn['fit_s']:.2f} s; the gap "
        f"summary {syn['gaps_s']:.2f} s; the smallest changes {syn['changes_s']:.2f} s — **{total:.2f} s** in "
        f"all (CPU {syn['planner_cpu_s']:.1f} s), against **{syn['matches_s']:.2f} s** "
        f"(CPU {syn['matches_cpu_s']:.1f} s) for one ordinary match per profile "
        f"(staged above {int(syn['staged_above']):,} sites; the planner evaluates fully, every requirement for "
        'every site, so that "excludes on its own" and "only miss" are known everywhere).',
        "",
        *(
            [f"Measured with a 1-minute load average of {load:.1f} on {os.cpu_count()} cores (a shared machine).", ""]
            if load is not None
            else []
        ),
    ]


def bench_planner(n: int = 100_000, *, out: Path = Path("bench/planner.md"), say: Callable[[str], None] = print) -> str:
    """Run both timings and write ``out``; return the section's text."""
    say("planner: sitematch gaps on the bundled region")
    gaps = gaps_command_seconds()
    syn = synthetic_seconds(n, say)
    text = "\n".join(planner_lines(gaps, syn, os.getloadavg()[0]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def planner_section(path: Path) -> list[str]:
    """The section written by :func:`bench_planner` (``bench/planner.md``), or nothing if absent."""
    if not path.is_file():
        return []
    return [*path.read_text(encoding="utf-8").splitlines(), ""]
