"""The benchmark harness behind ``make bench`` / ``sitematch bench``.

For each size N (synthetic national data, :mod:`sitematch.bench.synthetic`) and each of the three
profiles in :mod:`sitematch.bench.profiles`, in one process:

- the engine: :func:`sitematch.matching.match` after :func:`~sitematch.features.build_indexes`
  (indexes and screening rasters built once per layer set; their time is reported apart), best
  of ``repeats`` runs, with the peak resident memory while it ran;
- the *reference* (:func:`~sitematch.bench.reference.reference_match`, ``sjoin_nearest`` on the
  unsplit layers — the obvious geopandas approach) and the *peer* (the same with lines split
  into segments — what a GIS engineer who knows R-trees writes), on the same sites: in full up
  to ``reference_limit`` sites, above it on a fixed random sample whose time is scaled up (and
  the report says so);
- a check that the engine's exact values equal the reference's distances (≤ 1 m) and that every
  rank the engine gives is the reference's order;
- the export of the top 500 (map and CSV), the map's size and its render time in Chromium.

Then the growth exponent from the smallest to the largest size, Dask with 1 and 2 workers
against one process (:mod:`sitematch.bench.dask_scaling`), the CLI's start-up and the drive-time
criteria. Each target of issue 16 is marked met or missed with the measured figure.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.bench.memory import PeakRss, fresh_process_peak_gb, release_freed_memory
from sitematch.bench.profiles import BENCH_PROFILE, PROFILES
from sitematch.bench.reference import reference_match
from sitematch.bench.synthetic import synthetic_layers
from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.export.map import write_map
from sitematch.export.tables import write_csv
from sitematch.features import build_indexes
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match, region_mask
from sitematch.profile import Profile, parse_profile
from sitematch.result import RANK, MatchResult

__all__ = ["BENCH_PROFILE", "Timing", "bench_size", "run_bench"]


@dataclass
class Timing:
    """What one profile measured at one size."""

    profile: str
    n: int
    sites: int = 0
    index_s: float = 0.0
    ours_s: float = 0.0
    peak_gb: float = 0.0
    fresh_peak_gb: float | None = None
    ranked: int = 0
    proven: int = 0
    near_misses: int = 0
    reference_s: float = 0.0
    peer_s: float = 0.0
    compared: int = 0
    max_distance_diff_m: float = math.nan  # nan, and same_ranking None: the default mode was not compared
    same_ranking: bool | None = None
    export_s: float = 0.0
    html_mb: float = 0.0
    render_s: float | None = None
    notes: list[str] = field(default_factory=list)
    #: All-exact mode (``match(..., exact="all")``): best wall time, its CPU time, peak RSS, and
    #: the largest difference of any value of any compared site from the reference's (``nan``: not run).
    exact_all_s: float = math.nan
    exact_all_median_s: float = math.nan
    exact_all_cpu_s: float = math.nan
    kernel: str = ""  # the exact kernel that ran: "numba" (compiled) or "numpy"
    exact_all_peak_gb: float = math.nan
    exact_all_diff_m: float = math.nan
    exact_all_same: bool = False
    export_alone_s: float = math.nan  # ranking.csv, then ranking.gpkg, in this process
    export_together_s: float = math.nan  # both as sitematch match writes them

    @property
    def ratio_peer_all(self) -> float:
        """How many times faster all-exact is than the peer (scaled to all sites)."""
        return self.peer_s * self.scale / self.exact_all_s if self.exact_all_s else math.nan

    @property
    def ratio_reference_all(self) -> float:
        return self.reference_s * self.scale / self.exact_all_s if self.exact_all_s else math.nan

    @property
    def scale(self) -> float:
        """How much a sampled comparison's times are scaled up (1 when run in full)."""
        return self.sites / max(self.compared, 1)

    @property
    def ratio_reference(self) -> float:
        return self.reference_s * self.scale / self.ours_s if self.ours_s else math.nan

    @property
    def ratio_peer(self) -> float:
        return self.peer_s * self.scale / self.ours_s if self.ours_s else math.nan


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
        page.wait_for_selector(".leaflet-control-layers", timeout=60_000)
        page.wait_for_function(  # some polygon drawn with a size (paths outside the view are "M0 0")
            "() => [...document.querySelectorAll('path.leaflet-interactive')]"
            ".some(p => p.getBoundingClientRect().width > 0)",
            timeout=60_000,
        )
        elapsed = time.perf_counter() - t
        browser.close()
    return elapsed


def compare(result: MatchResult | pd.DataFrame, ref: gpd.GeoDataFrame, ids: np.ndarray) -> tuple[float, bool]:
    """Max |difference| of the engine's exact values from the reference's, and whether ranks agree.

    ``result``: a match, or the rows of its sites that hold ``ids`` (kept when the result itself
    is let go of). Only values the engine gives are compared (a staged run leaves values it did
    not need empty, with bounds; ``inf`` is "beyond the search"). The ranking agrees when the same
    sites pass and the sites the engine ranks, among ``ids``, come in the reference's order.
    """
    sites = result if isinstance(result, pd.DataFrame) else result.sites
    a = sites.set_index(s.PLOT_ID).loc[ids]
    b = ref.set_index(s.PLOT_ID).loc[ids]
    worst = 0.0
    for col in b.columns:
        if col.startswith("distance_to_") or col in (s.GRID_CAPACITY_MW, s.LABOUR_POOL_POPULATION):
            x, y = a[col].to_numpy(float, na_value=np.nan), b[col].to_numpy(float, na_value=np.nan)
            known = np.isfinite(x)
            if known.any():
                worst = max(worst, float(np.max(np.abs(x[known] - y[known]))))
    same_passed = bool((a["passed"].to_numpy(bool) == b["passed"].to_numpy(bool)).all())
    ranked = a[RANK].notna().to_numpy()
    ours = a.index[ranked][np.argsort(a[RANK].to_numpy(float)[ranked], kind="stable")].tolist()
    theirs = b.loc[a.index[ranked]].sort_values("rank").index.tolist()
    return worst, same_passed and ours == theirs


def _time_engine(
    profile: Profile, layers: LayerSet, repeats: int, exact: str = "top", walls: list[float] | None = None
) -> tuple[MatchResult, float, float, float]:
    """The best of ``repeats`` runs: the result, wall seconds, peak GB, and the CPU seconds of that run.

    ``walls``, when given, receives every run's wall seconds.
    """
    best, peak, cpu, result = math.inf, 0.0, math.inf, None
    for _ in range(repeats):
        result = None  # the previous run's result is not this run's memory
        release_freed_memory()  # what earlier runs freed is not this run's peak
        with PeakRss() as mem:
            t, c = time.perf_counter(), time.process_time()
            result = match(profile, layers, exact=exact)
            wall, used = time.perf_counter() - t, time.process_time() - c
        if walls is not None:
            walls.append(wall)
        if wall < best:
            best, cpu = wall, used
        peak = max(peak, mem.peak_gb)
    assert result is not None
    return result, best, peak, cpu


def compare_all(result: MatchResult, ref: gpd.GeoDataFrame, ids: np.ndarray) -> tuple[float, bool]:
    """All-exact: the largest |difference| from the reference over every value of every site in ``ids``.

    Every value must be given (a value missing or beyond a search counts as an infinite
    difference); the ranking agrees when the same sites pass, every passing site is ranked and
    they come in the reference's order.
    """
    a = result.sites.set_index(s.PLOT_ID).loc[ids]
    b = ref.set_index(s.PLOT_ID).loc[ids]
    worst = 0.0
    for col in b.columns:
        if col.startswith("distance_to_") or col in (s.GRID_CAPACITY_MW, s.LABOUR_POOL_POPULATION):
            x, y = a[col].to_numpy(float, na_value=np.nan), b[col].to_numpy(float, na_value=np.nan)
            worst = max(worst, float(np.max(np.abs(x - y), initial=0.0)) if np.isfinite(x).all() else math.inf)
    passed = a["passed"].to_numpy(bool)
    same = bool((passed == b["passed"].to_numpy(bool)).all()) and bool(a[RANK].notna().to_numpy()[passed].all())
    ours = a.index[passed][np.argsort(a[RANK].to_numpy(float)[passed], kind="stable")].tolist()
    theirs = b.loc[a.index[passed]].sort_values("rank").index.tolist()
    return worst, same and ours == theirs and bool(a["exact"].all())


def export_seconds(result: MatchResult, work: Path) -> tuple[float, float]:
    """Seconds to write every site of ``result`` as ``ranking.csv`` and ``ranking.gpkg``: (each alone, together).

    *Each alone*: the CSV, then the GeoPackage, one after the other in this process (summed);
    *together*: both as ``sitematch match`` writes them (:func:`sitematch.export.tables.write_tables`:
    Arrow's CSV writer beside GDAL's inserts).
    """
    from sitematch.export.tables import write_gpkg, write_tables

    t = time.perf_counter()
    write_csv(result, work / "all_sites.csv")
    write_gpkg(result, work / "all_sites.gpkg")
    alone = time.perf_counter() - t
    t = time.perf_counter()
    write_tables(result, work / "together.csv", work / "together.gpkg")
    return alone, time.perf_counter() - t


def bench_size(
    n: int,
    profiles: dict[str, Profile],
    *,
    reference_limit: int,
    repeats: int,
    work: Path,
    say: Callable[[str], None],
    fresh_peak: bool = False,
    parts: tuple[str, ...] = ("default", "all-exact"),
) -> list[Timing]:
    """Measure every profile at one size; see the module docstring.

    ``parts``: ``"default"`` times the default mode (with exports, the map and its render),
    ``"all-exact"`` the all-exact mode (and, at the largest size of a run, writing every site
    as CSV and GeoPackage); the reference and the peer run either way.
    """
    say(f"{n:,} plots: generating the synthetic national data")
    layers = synthetic_layers(n)
    sites = layers["plots"]
    out = []
    for name, profile in profiles.items():
        r = Timing(name, n)
        t = time.perf_counter()
        build_indexes(layers, profile.parameters, screens=True)
        r.index_s = time.perf_counter() - t
        in_region = sites[region_mask(sites, layers, profile)]
        r.sites = len(in_region)
        ids = in_region[s.PLOT_ID].to_numpy()
        if len(ids) > reference_limit:
            ids = np.sort(np.random.default_rng(0).choice(ids, reference_limit, replace=False))
            r.notes.append(
                f"reference and peer run on a fixed random sample of {reference_limit:,} sites; their times are "
                "scaled by sites ÷ sample (sjoin costs grow linearly in the number of sites)"
            )
        result = exact_result = None
        compared: pd.DataFrame | None = None  # the default mode's rows of the compared sites
        if "default" in parts:
            say(f"{n:,} plots, {name}: the engine (best of {repeats})")
            result, r.ours_s, r.peak_gb, _ = _time_engine(profile, layers, repeats)
            r.ranked, r.near_misses = len(result.ranked), len(result.near_misses)
            r.proven = int(result.sites[RANK].notna().sum())

            say(f"{n:,} plots, {name}: export of the top 500 and the map in Chromium")
            t = time.perf_counter()
            html = write_map(result, layers, work / f"map_{name}_{n}.html", max_polygons=500)
            write_csv(replace(result, sites=result.ranked.head(500)), work / f"top500_{name}_{n}.csv")
            r.export_s = time.perf_counter() - t
            r.html_mb = html.stat().st_size / 1e6
            r.render_s = _render_seconds(html)
        if "all-exact" in parts:
            if result is not None:  # what the comparison needs, before the result is let go of
                compared = pd.DataFrame(result.sites[result.sites[s.PLOT_ID].isin(ids)].drop(columns=s.GEOMETRY))
            result = None
            from statistics import median

            from sitematch import kernel_jit

            kernel_jit.warm_up()  # compiled (or loaded from its cache) before the clock: reported apart
            r.kernel = kernel_jit.which()
            runs = max(repeats, 3)
            say(f"{n:,} plots, {name}: all-exact (best of {runs}, {r.kernel} kernel)")
            walls: list[float] = []
            exact_result, r.exact_all_s, r.exact_all_peak_gb, r.exact_all_cpu_s = _time_engine(
                profile, layers, runs, exact="all", walls=walls
            )
            r.exact_all_median_s = median(walls)
            if "default" not in parts:
                r.ranked, r.near_misses = len(exact_result.ranked), len(exact_result.near_misses)
                r.proven = int(exact_result.sites[RANK].notna().sum())
            if name == "full-measure" and n == 1_000_000:
                say(f"{n:,} plots, {name}: writing every site as CSV and GeoPackage")
                r.export_alone_s, r.export_together_s = export_seconds(exact_result, work)

        sample = in_region[in_region[s.PLOT_ID].isin(ids)]
        r.compared = len(sample)
        say(f"{n:,} plots, {name}: reference on {len(sample):,} sites")
        t = time.perf_counter()
        ref = reference_match(sample, layers, profile)
        r.reference_s = time.perf_counter() - t
        say(f"{n:,} plots, {name}: peer (segmented lines) on {len(sample):,} sites")
        t = time.perf_counter()
        peer = reference_match(sample, layers, profile, segment_lines=True)
        r.peer_s = time.perf_counter() - t
        ref[s.PLOT_ID] = peer[s.PLOT_ID] = sample[s.PLOT_ID].to_numpy()
        if result is not None or compared is not None:
            engine = result if result is not None else compared
            assert engine is not None
            r.max_distance_diff_m, r.same_ranking = compare(engine, ref, ids)
            diff_peer, same_peer = compare(engine, peer, ids)
            r.max_distance_diff_m = max(r.max_distance_diff_m, diff_peer)
            r.same_ranking &= same_peer
        if exact_result is not None:
            r.exact_all_diff_m, r.exact_all_same = compare_all(exact_result, ref, ids)
        out.append(r)
    if fresh_peak:
        for r in out:
            say(f"{n:,} plots, {r.profile}: peak memory of a fresh process")
            r.fresh_peak_gb = fresh_process_peak_gb(n, r.profile)["peak_gb"]
    return out


def growth_exponent(t_small: float, t_large: float, n_small: int, n_large: int) -> float:
    """The exponent k in time ∝ n^k between two sizes (1: linear).

    Examples
    --------
    >>> round(growth_exponent(1.0, 100.0, 10_000, 1_000_000), 2)
    1.0
    """
    return math.log(t_large / t_small) / math.log(n_large / n_small)


def startup_seconds(repeats: int = 5) -> dict[str, float]:
    """Wall time of ``sitematch --help`` and of a demo match without the map (best of ``repeats``)."""
    exe = Path(sys.executable).with_name("sitematch")
    root = Path(__file__).resolve().parents[2]
    scenario = root / "scenarios" / "logistics_warehouse.yaml"
    runs: dict[str, list[str]] = {"help": [str(exe), "--help"]}
    if scenario.is_file() and (root / "layers").is_dir():
        runs["demo match, no map, no PDF"] = [
            str(exe), "match", str(scenario), "--layers", str(root / "layers"), "--no-map", "--no-pdf",
            "--out", tempfile.mkdtemp(prefix="sitematch-bench-"),
        ]  # fmt: skip
    out = {}
    for what, cmd in runs.items():
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=tempfile.gettempdir())
            best = min(best, time.perf_counter() - t)
        out[what] = best
    return out


def run_bench(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    *,
    out: Path = Path("bench/results.md"),
    reference_limit: int = 100_000,
    repeats: int = 2,
    dask_n: int = 1_000_000,
    drive_time_n: int = 10_000,
    say: Callable[[str], None] = print,
) -> str:
    """Run the benchmark and write the Markdown report to ``out``; return the report."""
    from sitematch.bench.drive_time import bench_drive_time
    from sitematch.bench.report import report

    profiles = {name: parse_profile(text, where=f"{name} profile", slug=name) for name, text in PROFILES.items()}
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            timings += bench_size(
                n,
                profiles,
                reference_limit=reference_limit,
                repeats=repeats,
                work=Path(tmp),
                say=say,
                fresh_peak=n == max(sizes),
            )
        dask = None
        if dask_n:
            from sitematch.bench.dask_scaling import measure_dask

            say(f"dask: {dask_n:,} plots, full-measure profile, 1 and 2 workers")
            dask = measure_dask(dask_n, PROFILES["full-measure"], Path(tmp))
    say("start-up")
    startup = startup_seconds()
    say(f"drive time: {drive_time_n:,} plots")
    drive = bench_drive_time(drive_time_n)
    from sitematch.bench.planner import bench_planner

    bench_planner(100_000, out=out.parent / "planner.md", say=say)
    text = report(timings, dask=dask, dask_n=dask_n, startup=startup, drive=drive)
    from sitematch.bench.exact_report import cli_seconds, exact_section
    from sitematch.bench.report import machine

    say("CLI start-up, cold and warm (region cache)")
    text += "\n" + "\n".join(exact_section(timings, cli_seconds(), machine())) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text
