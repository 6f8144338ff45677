"""The fixed-costs section of bench/results.md: targets marked from the figures, replaced in place."""

from __future__ import annotations

from pathlib import Path

from sitematch.bench.fixed_costs import BEGIN, END, put_section, section

CLI = {"cold": 1.4, "cold CPU": 1.3, "warm median of 5": 0.9, "warm CPU median": 0.85, "warm best": 0.8,
       "load average": 0.5}  # fmt: skip
EXPORT = {"n": 1_000_000, "rows": 1_000_000, "columns": 49, "csv_s": 7.0, "csv_cpu_s": 9.0, "gpkg_s": 6.5,
          "gpkg_cpu_s": 6.4, "load average": 1.0}  # fmt: skip
DASK = {"n": 1_000_000, "1 walls": [40.0, 44.0, 42.0], "2 walls": [30.0, 29.0, 31.0], "loads": [1.0] * 6,
        "ratio min": 29.0 / 40.0, "ratio median": 30.0 / 42.0}  # fmt: skip


def test_targets_are_marked_from_the_figures() -> None:
    text = section(CLI, EXPORT, DASK, "2 cores")
    assert "- met: fresh-process CLI match, no map, no PDF < 1 s (cache warm, median): 0.90 s" in text
    assert "- met: 1,000,000-row CSV + GeoPackage export < 15 s: 13.5 s" in text  # 7.0 + 6.5
    assert "- **missed**: Dask 2 workers ≤ 0.6× one worker" in text and "0.71× (medians)" in text  # 30 / 42
    slow = section({**CLI, "warm median of 5": 1.2}, {**EXPORT, "gpkg_s": 8.5}, None, "2 cores")
    assert "- **missed**: fresh-process CLI match" in slow and "- **missed**: 1,000,000-row" in slow
    assert "Dask" not in slow


def test_section_replaces_the_earlier_one(tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    path.write_text("# Benchmark results\n\n## Other\n\nkept\n", encoding="utf-8")
    put_section(path, section(CLI, None, None, "first"))
    text = put_section(path, section(CLI, EXPORT, None, "second"))
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "second" in text and "first" not in text and "## Other\n\nkept" in text


TOGETHER = {"n": 1_000_000, "rows": 1_000_000, "columns": 49, "tables_s": 9.5, "tables_cpu_s": 16.0,
            "walls": [11.0, 9.5], "cpus": [16.5, 16.0], "loads": [0.9, 1.1], "load average": 1.1}  # fmt: skip


def test_tables_written_together_are_marked_by_the_best_round() -> None:
    text = section(CLI, TOGETHER, None, "2 cores")
    assert "- met: 1,000,000-row CSV + GeoPackage export < 15 s: 9.5 s" in text
    assert "best of 2: 9.5 s (CPU 16.0 s; every round 11.0, 9.5 s)" in text
    slow = section(CLI, {**TOGETHER, "tables_s": 15.2}, None, "2 cores")
    assert "- **missed**: 1,000,000-row CSV + GeoPackage export < 15 s: 15.2 s" in slow


def test_a_dask_ratio_from_a_busy_machine_says_so() -> None:
    quiet = {**DASK, "loads before": [0.4] * 6, "1 cpus": [50.0] * 3, "2 cpus": [52.0] * 3}
    assert "busy" not in section(CLI, None, quiet, "2 cores") and "CPU 2 worker(s) 52.0" in section(
        CLI, None, quiet, "2 cores"
    )
    busy = section(CLI, None, {**quiet, "loads before": [0.4, 3.0, 0.4, 0.4, 0.4, 0.4]}, "2 cores")
    assert "**The machine was busy**" in busy and "sitematch bench --only fixed-costs --dask-size 1000000" in busy
