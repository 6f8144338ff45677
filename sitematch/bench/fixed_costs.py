"""Fixed costs (issue 25): a fresh CLI process, writing a million rows, Dask through the CLI.

``sitematch bench --only fixed-costs`` runs :func:`run_fixed_costs`; its section of
``bench/results.md`` (between :data:`BEGIN` and :data:`END`) replaces the previous one.

- :func:`cli_seconds`: ``sitematch match scenarios/logistics_warehouse.yaml --no-map --no-pdf`` on
  the bundled region in a fresh process from a shell (a folder outside the repository): once
  with an empty cache folder (cold), then ``repeats`` times with it filled (warm; the median).
- :func:`export_seconds`: ``ranking.csv`` and ``ranking.gpkg`` of every site of a 1,000,000-plot
  match (synthetic national data, the full-measure profile).
- :func:`dask_cli_seconds`: the same match through the CLI on a local Dask cluster of 1 and of 2
  workers (``--plots FOLDER --workers K``), exports included, the sizes interleaved and repeated.

Wall seconds are given with the CPU seconds of the same runs and the machine's load average:
the machine these figures come from is shared, and a wall time there says as much about the
neighbours as about sitematch.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- fixed-costs: begin -->", "<!-- fixed-costs: end -->"
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "logistics_warehouse.yaml"


def _load() -> float:
    return os.getloadavg()[0]


def _cli_env(cache: Path) -> dict[str, str]:
    """The environment of a timed CLI run: the cache folder given, and bytecode kept as an
    installed package has it (``PYTHONDONTWRITEBYTECODE`` would recompile sitematch every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SITEMATCH_LAYERS_CACHE"] = str(cache)
    return env


def _timed(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd`` to completion: (wall seconds, CPU seconds of it and its children)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def cli_seconds(repeats: int = 5) -> dict[str, float]:
    """A fresh ``sitematch match … --no-map --no-pdf`` on the bundled region: cold, then ``repeats`` warm.

    *cold*: the first run with an empty cache folder (the region and the dossier's compiled
    template: :mod:`sitematch.layers.disk_cache`); *warm*: the median of the next ``repeats``
    runs, the cache filled. Run from a temporary folder outside the repository.

    Returns
    -------
    dict of str to float
        ``cold``, ``cold CPU``, ``warm median of 5``, ``warm CPU median``, ``warm best``,
        ``load average`` (1 min, at the end); empty when the scenario or the region is missing.
    """
    exe = Path(sys.executable).with_name("sitematch")
    if not (SCENARIO.is_file() and (ROOT / "layers").is_dir()):
        return {}
    with tempfile.TemporaryDirectory(prefix="sitematch-bench-") as tmp:
        env = _cli_env(Path(tmp) / "cache" / "layers")
        cmd = [str(exe), "match", str(SCENARIO), "--layers", str(ROOT / "layers"), "--no-map", "--no-pdf",
               "--out", str(Path(tmp) / "out")]  # fmt: skip
        runs = [_timed(cmd, cwd=Path(tmp), env=env) for _ in range(repeats + 1)]
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return {
        "cold": walls[0],
        "cold CPU": cpus[0],
        f"warm median of {repeats}": statistics.median(walls[1:]),
        "warm CPU median": statistics.median(cpus[1:]),
        "warm best": min(walls[1:]),
        "load average": _load(),
    }


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended (user + system)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def export_seconds(
    n: int = 1_000_000, *, exact: str = "all", rounds: int = 2, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Seconds to write every site of an ``n``-plot full-measure match as CSV and as GeoPackage.

    Both files as ``sitematch match`` writes them (:func:`sitematch.export.tables.write_tables`:
    Arrow's CSV writer beside GDAL's inserts), ``rounds`` times; the best round is reported
    with its CPU seconds and the load average before it.

    Returns
    -------
    dict
        ``n``, ``rows``, ``columns``, ``tables_s`` (best wall), ``tables_cpu_s`` (its CPU),
        ``walls``, ``cpus``, ``loads`` (1-minute load average before each round), ``load average``
        (before the best round).
    """
    from sitematch.bench.profiles import PROFILES
    from sitematch.bench.synthetic import synthetic_layers
    from sitematch.export.tables import write_tables
    from sitematch.features import build_indexes
    from sitematch.matching import match
    from sitematch.profile import parse_profile

    say(f"exports: {n:,} synthetic plots, full-measure, exact={exact}")
    layers = synthetic_layers(n)
    profile = parse_profile(PROFILES["full-measure"], where="full-measure profile", slug="full-measure")
    build_indexes(layers, profile.parameters, screens=exact != "all")
    result = match(profile, layers, exact=exact)
    _ = result.ranked, result.excluded  # the CLI has them already (its table and summary)
    out: dict[str, Any] = {"n": n, "rows": len(result.sites), "columns": len(result.sites.columns)}
    walls, cpus, loads = [], [], []
    with tempfile.TemporaryDirectory(prefix="sitematch-export-") as tmp:
        for r in range(rounds):
            say(f"exports: writing ranking.csv and ranking.gpkg, round {r + 1} of {rounds}")
            loads.append(_load())
            cpu, t = _cpu_with_children(), time.perf_counter()
            write_tables(result, Path(tmp) / "ranking.csv", Path(tmp) / "ranking.gpkg")
            walls.append(time.perf_counter() - t)
            cpus.append(_cpu_with_children() - cpu)
    best = walls.index(min(walls))
    out |= {"tables_s": walls[best], "tables_cpu_s": cpus[best], "walls": walls, "cpus": cpus, "loads": loads}
    out["load average"] = loads[best]
    return out


def dask_cli_seconds(
    n: int = 1_000_000,
    *,
    workers: tuple[int, ...] = (1, 2),
    rounds: int = 3,
    work: Path | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """``sitematch match … --plots FOLDER --workers K`` (exports included, no map, no PDF) at ``n`` plots.

    The synthetic layers go to a GeoPackage and the plots to a partitioned GeoParquet folder; each
    round runs every cluster size once, one after the other (interleaved, so a busy neighbour
    weighs on both), each a fresh CLI process that starts its cluster, matches and writes
    ``ranking.csv``, ``funnel.csv``, ``ranking.gpkg`` and ``dossier.html``. A first run, not
    timed, fills the region and screen caches (which a deployment keeps).

    Returns
    -------
    dict
        Per ``K``: ``<K> walls`` (every round), ``<K> cpus`` (CPU seconds of the CLI process and its
        cluster, which are its children) and ``<K> min`` / ``<K> median``; ``loads before`` and
        ``loads`` (1-min load average before and after each run); ``ratio min`` and
        ``ratio median`` (2 workers ÷ 1). The ratio says something only on a quiet machine (load
        average below 1.5 before each run): on 2 shared cores a neighbour takes the second core.
    """
    from sitematch.bench.dask_scaling import write_layers
    from sitematch.bench.profiles import PROFILES
    from sitematch.bench.synthetic import synthetic_layers
    from sitematch.partition import write_partitioned

    exe = Path(sys.executable).with_name("sitematch")
    with tempfile.TemporaryDirectory(prefix="sitematch-dask-") as tmp:
        folder = Path(work or tmp)
        say(f"dask through the CLI: writing {n:,} synthetic plots and their layers")
        layers = synthetic_layers(n)
        region = write_layers(layers, folder / "region.gpkg")
        plots = write_partitioned(layers["plots"], folder / "plots.parquet", overwrite=True)
        del layers
        profile = folder / "full_measure.yaml"
        profile.write_text(PROFILES["full-measure"], encoding="utf-8")
        env = _cli_env(folder / "cache" / "layers")
        env["SITEMATCH_SCREEN_CACHE"] = str(folder / "screens")
        out: dict[str, Any] = {"n": n, "loads": []}
        say("dask through the CLI: a first run, not timed (it fills the region and screen caches)")
        warm_up = [str(exe), "match", str(profile), "--layers", str(region), "--plots", str(plots),
                   "--workers", str(max(workers)), "--no-map", "--no-pdf", "--out", str(folder / "out")]  # fmt: skip
        _timed(warm_up, cwd=folder, env=env)
        for r in range(rounds):
            for k in workers:
                say(f"dask through the CLI: round {r + 1} of {rounds}, {k} worker(s)")
                cmd = [str(exe), "match", str(profile), "--layers", str(region), "--plots", str(plots),
                       "--workers", str(k), "--no-map", "--no-pdf", "--out", str(folder / "out")]  # fmt: skip
                load = _load()
                wall, cpu = _timed(cmd, cwd=folder, env=env)
                out.setdefault(f"{k} walls", []).append(wall)
                out.setdefault(f"{k} cpus", []).append(cpu)
                out.setdefault("loads before", []).append(load)
                out["loads"].append(_load())
    for k in workers:
        out[f"{k} min"], out[f"{k} median"] = min(out[f"{k} walls"]), statistics.median(out[f"{k} walls"])
    if 1 in workers and 2 in workers:
        out["ratio min"] = out["2 min"] / out["1 min"]
        out["ratio median"] = out["2 median"] / out["1 median"]
    return out


def _check(text: str, ok: bool) -> str:
    return f"- {'met' if ok else '**missed**'}: {text}"


def section(cli: dict[str, float], export: dict[str, Any] | None, dask: dict[str, Any] | None, machine: str) -> str:
    """The fixed-costs section of ``bench/results.md``, each target of issue 25 marked met or missed."""
    lines = [
        BEGIN,
        "## Fixed costs (issue 25)",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {machine}; a machine shared with other "
        "work — each figure comes with the CPU seconds of the same run and the 1-minute load average "
        "(`sitematch bench --only fixed-costs`, `sitematch/bench/fixed_costs.py`).",
        "",
    ]
    targets = []
    if cli:
        warm = next(v for k, v in cli.items() if k.startswith("warm median"))
        lines += [
            "**CLI, fresh process**: `sitematch match scenarios/logistics_warehouse.yaml --no-map --no-pdf` on "
            "the bundled region from a folder outside the repository (it writes `ranking.csv`, `funnel.csv`, "
            "`ranking.gpkg` and `dossier.html`): " + "; ".join(
                f"{k} {v:.2f}" + ("" if k == "load average" else " s") for k, v in cli.items()
            ) + ".",
            "",
        ]  # fmt: skip
        targets.append(_check(f"fresh-process CLI match, no map, no PDF < 1 s (cache warm, median): {warm:.2f} s "
                              f"(CPU {cli['warm CPU median']:.2f} s; cold {cli['cold']:.2f} s)", warm < 1))  # fmt: skip
    if export and "tables_s" in export:
        total = export["tables_s"]
        lines += [
            f"**Writing every site** of a {export['n']:,}-plot full-measure match ({export['rows']:,} rows, "
            f"{export['columns']} columns): `ranking.csv` and `ranking.gpkg` together as `sitematch match` "
            f"writes them (Arrow's CSV writer beside GDAL's inserts), best of "
            f"{len(export['walls'])}: {total:.1f} s (CPU {export['tables_cpu_s']:.1f} s; every round "
            f"{', '.join(f'{w:.1f}' for w in export['walls'])} s); load average before it "
            f"{export['load average']:.1f}"
            + (f" (measured {export['measured']})" if "measured" in export else "")
            + ".",
            "",
        ]
    elif export:  # figures kept from before the tables were written together
        total = export["csv_s"] + export["gpkg_s"]
        lines += [
            f"**Writing every site** of a {export['n']:,}-plot full-measure match ({export['rows']:,} rows, "
            f"{export['columns']} columns): `ranking.csv` {export['csv_s']:.1f} s (CPU {export['csv_cpu_s']:.1f} s), "
            f"`ranking.gpkg` {export['gpkg_s']:.1f} s (CPU {export['gpkg_cpu_s']:.1f} s); load average "
            f"{export['load average']:.1f}"
            + (f" (measured {export['measured']})" if "measured" in export else "")
            + ".",
            "",
        ]
    if export:
        targets.append(_check(f"{export['n']:,}-row CSV + GeoPackage export < 15 s: {total:.1f} s", total < 15))
    if dask:
        walls = {k: dask[f"{k} walls"] for k in (1, 2) if f"{k} walls" in dask}
        lines += [
            f"**Dask through the CLI**, {dask['n']:,} plots, full-measure, `--plots FOLDER --workers K --no-map "
            "--no-pdf` (cluster start, the match and every export in one fresh process), the sizes interleaved: "
            + "; ".join(f"{k} worker(s) {', '.join(f'{w:.1f}' for w in ws)} s" for k, ws in walls.items())
            + "".join(
                f"; CPU {k} worker(s) {', '.join(f'{c:.1f}' for c in dask[f'{k} cpus'])} s"
                for k in walls
                if f"{k} cpus" in dask
            )
            + (
                f"; load average before each run {', '.join(f'{x:.1f}' for x in dask['loads before'])}"
                if "loads before" in dask
                else ""
            )
            + f"; after each run {', '.join(f'{x:.1f}' for x in dask['loads'])}"
            + (f" (measured {dask['measured']})" if "measured" in dask else "")
            + "."
            + (
                " **The machine was busy** (load average ≥ 1.5 before a run): the ratio is not the "
                "engine's; re-run on a quiet machine: `sitematch bench --only fixed-costs --dask-size 1000000`."
                if max(dask.get("loads before", dask["loads"])) >= 1.5
                else ""
            ),
            "",
        ]
        if "ratio min" in dask:
            targets.append(
                _check(
                    f"Dask 2 workers ≤ 0.6× one worker through the CLI at {dask['n']:,}, exports included: "
                    f"{dask['ratio min']:.2f}× (best of each), {dask['ratio median']:.2f}× (medians)",
                    dask["ratio median"] <= 0.6,
                )
            )
    lines += ["Targets (issue 25):", "", *targets, "", END]
    return "\n".join(lines)


def put_section(path: Path, text: str) -> str:
    """Write ``text`` into ``path`` in place of an earlier fixed-costs section (or at its end)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    new = pattern.sub(lambda _m: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return new


def run_fixed_costs(
    out: Path, *, export_n: int = 1_000_000, dask_n: int = 1_000_000, say: Callable[[str], None] = print
) -> str:
    """Measure every fixed cost (``export_n`` / ``dask_n`` 0: skip that part) and update ``out``.

    The figures are also kept in ``fixed_costs.json`` beside ``out``; a part skipped keeps its
    figures from the run that measured it (with that run's date).
    """
    import json

    from sitematch.bench.report import machine

    kept_path = out.with_name("fixed_costs.json")
    kept = json.loads(kept_path.read_text(encoding="utf-8")) if kept_path.is_file() else {}
    say("CLI: a fresh process, cold then warm")
    cli = cli_seconds()
    export = export_seconds(export_n, say=say) if export_n else kept.get("export")
    dask = kept.get("dask") if not dask_n else None
    text = section(cli, export, dask, machine())
    put_section(out, text)  # kept if the Dask part is stopped
    if dask_n:
        dask = {**dask_cli_seconds(dask_n, say=say), "measured": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"}
        text = section(cli, export, dask, machine())
        put_section(out, text)
    if export_n and export:
        export["measured"] = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    kept_path.write_text(json.dumps({"cli": cli, "export": export, "dask": dask}, indent=1), encoding="utf-8")
    return text
