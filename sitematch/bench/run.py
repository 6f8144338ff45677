"""The benchmark harness behind ``make bench`` / ``sitematch bench``.

For each size N it times, in one process on the same synthetic national data: index building,
features + scoring, ranking, and the export of the top 500 (map and table); it records peak
memory (the process's maximum resident set so far), the map's HTML size and its render time in
headless Chromium; it runs the reference implementation (:mod:`sitematch.bench.reference`) on the
same sites (or, above ``reference_limit``, on a fixed random sample whose time is scaled up, and
says so), checks both give the same distances (≤ 1 m) and the same ranking, and prints the ratio.
Results go to ``bench/results.md`` with the machine's core count.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np

from sitematch import schema as s
from sitematch.bench.drive_time import bench_drive_time, report_lines
from sitematch.bench.reference import reference_match
from sitematch.bench.synthetic import synthetic_layers
from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.export.map import write_map
from sitematch.export.tables import write_csv
from sitematch.features import build_indexes
from sitematch.match import plan_for, ranked_result, region_mask, score_sites
from sitematch.profile import Profile, parse_profile
from sitematch.result import RANK

#: A typical lead, touching every kind of criterion: attributes, point and line distances,
#: grid capacity within a radius, labour pool within a radius.
BENCH_PROFILE = """
name: Benchmark — typical logistics and light-manufacturing lead
requirements:
  min_area_ha: 10
  zoning: [J, Z]
  plan_status: [laga_kraft, antagen]
  max_distance_to_motorway_junction_m: 10000
  min_grid_capacity_mw: 10
  max_distance_to_rail_m: 5000
preferences:
  distance_to_motorway_junction_m: {weight: 4, full_at: 1000, zero_at: 10000}
  distance_to_rail_m: {weight: 2, full_at: 500, zero_at: 5000}
  distance_to_freight_terminal_m: {weight: 1, full_at: 2000, zero_at: 40000}
  distance_to_port_m: {weight: 1, full_at: 10000, zero_at: 150000}
  distance_to_airport_m: {weight: 1, full_at: 20000, zero_at: 150000}
  grid_capacity_mw: {weight: 2, zero_at: 10, full_at: 80}
  labour_pool_population: {weight: 2, zero_at: 20000, full_at: 400000}
  price_sek_m2: {weight: 1, full_at: 100, zero_at: 1500}
"""


@dataclass
class SizeResult:
    """What one size measured."""

    n: int
    index_s: float = 0.0
    features_scoring_s: float = 0.0
    ranking_s: float = 0.0
    export_s: float = 0.0
    html_mb: float = 0.0
    render_s: float | None = None
    peak_rss_gb: float = 0.0
    ranked: int = 0
    near_misses: int = 0
    reference_s: float = 0.0
    reference_sites: int = 0
    max_distance_diff_m: float = 0.0
    same_ranking: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ours_s(self) -> float:
        return self.features_scoring_s + self.ranking_s

    @property
    def reference_scaled_s(self) -> float:
        return self.reference_s * self.n / max(self.reference_sites, 1)

    @property
    def ratio(self) -> float:
        return self.reference_scaled_s / self.ours_s if self.ours_s else float("nan")


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def _render_seconds(path: Path) -> float | None:
    if shutil.which(CHROMIUM) is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        t = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("path.leaflet-interactive", timeout=60_000)
        page.wait_for_selector(".leaflet-control-layers", timeout=60_000)
        elapsed = time.perf_counter() - t
        browser.close()
    return elapsed


def _compare(ours: gpd.GeoDataFrame, ref: gpd.GeoDataFrame, ids: np.ndarray) -> tuple[float, bool]:
    """Max |distance difference| over the sites both measured, and whether rankings agree on ``ids``."""
    a = ours.set_index(s.PLOT_ID).loc[ids]
    b = ref.set_index(s.PLOT_ID).loc[ids]
    worst = 0.0
    for col in b.columns:
        if col.startswith("distance_to_") or col in (s.GRID_CAPACITY_MW, s.LABOUR_POOL_POPULATION):
            x, y = a[col].to_numpy(float), b[col].to_numpy(float)
            known = np.isfinite(x)
            if known.any():
                worst = max(worst, float(np.max(np.abs(x[known] - y[known]))))
    order_a = a[a["passed"]].sort_values(RANK).index.tolist()
    order_b = b[b["passed"]].sort_values("rank").index.tolist()
    return worst, order_a == order_b and (a["passed"] == b["passed"]).all()


def bench_size(n: int, profile: Profile, *, reference_limit: int, work: Path, say: Callable[[str], None]) -> SizeResult:
    """Measure one size; see the module docstring."""
    r = SizeResult(n)
    say(f"{n:,} plots: generating")
    layers = synthetic_layers(n)
    sites = layers["plots"]

    t = time.perf_counter()
    build_indexes(layers, profile.parameters)
    r.index_s = time.perf_counter() - t

    say(f"{n:,} plots: features and scoring")
    t = time.perf_counter()
    mask = region_mask(sites, layers, profile)
    in_region = sites[mask].reset_index(drop=True)
    plan = plan_for(profile, len(in_region))
    scored = score_sites(in_region, layers, profile, plan=plan)
    r.features_scoring_s = time.perf_counter() - t
    t = time.perf_counter()
    result = ranked_result(
        profile, scored, layers, plan=plan, sites_total=len(sites), outside_region=int((~mask).sum())
    )
    r.ranking_s = time.perf_counter() - t
    r.ranked, r.near_misses = len(result.ranked), len(result.near_misses)

    say(f"{n:,} plots: export of the top 500")
    t = time.perf_counter()
    html = write_map(result, layers, work / f"map_{n}.html", max_polygons=500)
    write_csv(replace(result, sites=result.ranked.head(500)), work / f"top500_{n}.csv")
    r.export_s = time.perf_counter() - t
    r.html_mb = html.stat().st_size / 1e6
    say(f"{n:,} plots: rendering the map in headless Chromium")
    r.render_s = _render_seconds(html)
    r.peak_rss_gb = _peak_rss_gb()

    ids = sites[s.PLOT_ID].to_numpy()
    if n > reference_limit:
        ids = np.sort(np.random.default_rng(0).choice(ids, reference_limit, replace=False))
        r.notes.append(
            f"reference run on a fixed random sample of {reference_limit:,} of the {n:,} sites; its time is scaled "
            f"by {n / reference_limit:g} (sjoin costs grow linearly in the number of sites)"
        )
    sample = sites[sites[s.PLOT_ID].isin(ids)]
    say(f"{n:,} plots: reference implementation on {len(sample):,} sites")
    t = time.perf_counter()
    ref = reference_match(sample, layers, profile)
    r.reference_s = time.perf_counter() - t
    r.reference_sites = len(sample)
    ref[s.PLOT_ID] = sample[s.PLOT_ID].to_numpy()
    r.max_distance_diff_m, r.same_ranking = _compare(result.sites, ref, ids)
    return r


def dask_throughput(n: int, profile: Profile, say: Callable[[str], None]) -> list[tuple[int, float]]:
    """Plots per second through :func:`match_distributed` on a warm local cluster of 1 and 2 workers.

    The cluster is started before the clock starts (a deployment keeps its cluster running).
    """
    import logging

    from distributed import Client, LocalCluster

    from sitematch.distributed import match_distributed

    layers = synthetic_layers(n)
    out = []
    for workers in (1, 2):
        say(f"dask: {n:,} plots on {workers} worker(s)")
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
            ) as cluster,
            Client(cluster) as client,
        ):
            t = time.perf_counter()
            match_distributed(profile, layers, client=client)
            out.append((workers, n / (time.perf_counter() - t)))
    return out


def _machine() -> str:
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


def report(results: list[SizeResult], dask: list[tuple[int, float]], dask_n: int) -> str:
    """The results as Markdown, with each target marked met or missed."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on this machine: {_machine()}.",
        f"shapely {version('shapely')}, geopandas {version('geopandas')}, numpy {version('numpy')}. "
        "Produced by `make bench`; synthetic national data (`sitematch/bench/synthetic.py`), the typical profile "
        "`BENCH_PROFILE` in `sitematch/bench/run.py`.",
        "",
        "| plots | index s | features+scoring s | ranking s | export top 500 s | map HTML MB | Chromium render s "
        "| peak RSS GB | ranked | near misses | reference s | ratio | max Δ distance m | same ranking |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in results:
        render = f"{r.render_s:.2f}" if r.render_s is not None else "n/a"
        ref = f"{r.reference_scaled_s:.1f}" + ("*" if r.reference_sites < r.n else "")
        lines.append(
            f"| {r.n:,} | {r.index_s:.2f} | {r.features_scoring_s:.2f} | {r.ranking_s:.3f} | {r.export_s:.2f} "
            f"| {r.html_mb:.2f} | {render} | {r.peak_rss_gb:.2f} | {r.ranked:,} | {r.near_misses:,} | {ref} "
            f"| {r.ratio:.0f}× | {r.max_distance_diff_m:.3f} | {'yes' if r.same_ranking else 'NO'} |"
        )
    notes = sorted({note for r in results for note in r.notes})
    if notes:
        lines += ["", *[f"\\* {n}" for n in notes]]
    lines += ["", "Peak RSS is the process's maximum so far (sizes run in ascending order in one process).", ""]
    if dask:
        single = next((r for r in results if r.n == dask_n), None)
        lines += [
            f"Dask (`match_distributed`, warm local cluster, {dask_n:,} plots): "
            + ", ".join(f"{w} worker(s) {tp:,.0f} plots/s" for w, tp in dask)
            + (f"; single process, same size: {dask_n / single.ours_s:,.0f} plots/s" if single else "")
            + ". On one 2-core machine Dask is slower than one process: shipping the plots to the workers "
            "(pickled geometries) and scheduling cost more than the scoring itself. It is there for data that "
            "does not fit one machine, partitioned where it lives.",
            "",
        ]
    lines += ["## Targets", ""]
    by_n = {r.n: r for r in results}
    checks = []
    if 1_000_000 in by_n:
        r = by_n[1_000_000]
        checks += [
            (f"1M plots, features+scoring after indexing ≤ 5 s: {r.ours_s:.2f} s", r.ours_s <= 5),
            (f"1M plots, ≥ 20× faster than the reference: {r.ratio:.0f}×", r.ratio >= 20),
            (f"1M plots, peak memory < 4 GB: {r.peak_rss_gb:.2f} GB", r.peak_rss_gb < 4),
            (f"1M map HTML < 10 MB: {r.html_mb:.2f} MB", r.html_mb < 10),
        ]
        if r.render_s is not None:
            checks.append((f"1M map renders in Chromium < 5 s: {r.render_s:.2f} s", r.render_s < 5))
    if 10_000 in by_n:
        r = by_n[10_000]
        checks.append((f"10k plots ≤ 0.3 s: {r.ours_s:.2f} s", r.ours_s <= 0.3))
    checks += [
        (
            f"{r.n:,}: same distances (≤ 1 m) and same ranking as the reference",
            r.same_ranking and r.max_distance_diff_m <= 1.0,
        )
        for r in results
    ]
    lines += [f"- {'met' if ok else '**missed**'}: {text}" for text, ok in checks]
    return "\n".join(lines) + "\n"


def run_bench(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    *,
    out: Path = Path("bench/results.md"),
    reference_limit: int = 100_000,
    dask_n: int = 100_000,
    drive_time_n: int = 10_000,
    say: Callable[[str], None] = print,
) -> str:
    """Run the benchmark and write the Markdown report to ``out``; return the report."""
    profile = parse_profile(BENCH_PROFILE, where="BENCH_PROFILE", slug="bench")
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench_size(n, profile, reference_limit=reference_limit, work=Path(tmp), say=say) for n in sizes]
    dask = dask_throughput(min(dask_n, max(sizes)), profile, say) if dask_n else []
    text = report(results, dask, min(dask_n, max(sizes)))
    say(f"drive time: {drive_time_n:,} plots")
    text += "\n" + "\n".join(report_lines(bench_drive_time(drive_time_n)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text
