"""``sitematch fit``, ``gaps`` and ``robustness`` on the bundled region, run from a folder outside
the repository at 80 columns; and what they write."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from sitematch.cli import main
from sitematch.layers.region import open_region
from sitematch.profile import load_profile

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


def _run(args: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "80")
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_every_archetype_has_a_sector() -> None:
    for p in SCENARIOS:
        assert load_profile(p).sector, p.name


def test_fit_a_brownfield_plot_names_every_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plots = open_region(None)["plots"]
    brownfield = plots.loc[plots["brownfield"].fillna(False).astype(bool), "plot_id"].sort_values().iloc[0]
    res = _run(["fit", brownfield], tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    names = [load_profile(p).name for p in SCENARIOS]
    table = pd.read_csv(tmp_path / "out" / "fit" / "fit.csv")
    assert sorted(table["profile"]) == sorted(names)  # one outcome per profile
    assert set(table["plot_id"]) == {brownfield}
    flat = " ".join(res.output.split())  # names may wrap in the 80-column table
    for name in names:
        assert all(word in flat for word in name.split()), name
    assert "yes" in res.output or "no" in res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80
    for f in (
        "fit_gaps.csv",
        "opportunity_matrix.csv",
        "opportunity_matrix.png",
        "opportunity_matrix.svg",
        "fit_map.html",
    ):
        assert (tmp_path / "out" / "fit" / f).stat().st_size > 0, f
    # each failed profile says what is missing; each passed one has an empty gap
    failed = table[~table["passed"]]
    assert failed["lacks"].fillna("").str.len().gt(0).all()
    assert table.loc[table["passed"], "lacks"].isna().all()


def test_fit_refuses_unknown_site_and_empty_selection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = _run(["fit", "9999:NOPE"], tmp_path, monkeypatch)
    assert res.exit_code == 1 and "no such site" in res.output and "Traceback" not in res.output
    res = _run(["fit"], tmp_path, monkeypatch)
    assert res.exit_code == 1 and "which sites?" in res.output
    res = _run(["fit", "--all", "--profiles", str(tmp_path / "missing")], tmp_path, monkeypatch)
    assert res.exit_code == 1 and "no such profile file or folder" in res.output


@pytest.mark.slow
def test_gaps_on_the_bundled_region_names_binding_requirements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = _run(["gaps", *map(str, SCENARIOS), "--out", "g"], tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    out = tmp_path / "g"
    binding = pd.read_csv(out / "binding.csv", dtype={"code": str})
    names = {load_profile(p).name for p in SCENARIOS}
    region = binding[binding["scope"] == "region"]
    assert set(region["profile"]) == names  # a binding requirement per profile
    munis = binding[binding["scope"] == "municipality"]
    plots = open_region(None)["plots"]
    # every member municipality with a plot that fails some profile gets one
    assert set(munis["code"]) <= set(plots["municipality_code"].astype(str))
    assert munis.groupby("profile")["code"].nunique().min() > 10
    assert "Binding requirement per profile" in res.output and "Binding requirement per municipality" in res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80
    sheets = sorted((out / "sheets").glob("*.html"))
    assert len(sheets) == plots["municipality_code"].nunique() or len(sheets) > 10
    page = sheets[0].read_text(encoding="utf-8")
    assert "Battery-component plant" not in page and "DC-2026" not in page  # confidential leads: sector only
    assert "konfidentiellt ärende" in (out / "sheets" / "1980.html").read_text(encoding="utf-8")
    kart = (out / "kartbild.html").read_text(encoding="utf-8")
    assert "https://cdn" not in kart and "unpkg.com" not in kart
    assert "Battery-component plant" not in kart
    changes = pd.read_csv(out / "changes.csv")
    # a leading + is neutralised for spreadsheets ('+55 MW …)
    assert changes["change"].str.lstrip("'").str.startswith(("+", "a plan change")).all()


def test_robustness_prints_rank_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = _run(
        [
            "robustness",
            str(REPO / "scenarios" / "logistics_warehouse.yaml"),
            "--pareto",
            "area_ha",
            "distance_to_motorway_junction_m",
        ],
        tmp_path,
        monkeypatch,
    )
    assert res.exit_code == 0, res.output
    assert "one at a time" in res.output and "Pareto front" in res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80


def test_hostile_names_are_escaped_in_the_fit_map_and_sheet(tmp_path: Path) -> None:
    from conftest import tiny_layer_frames

    from sitematch.layers.layerset import LayerSet
    from sitematch.planner import evaluate_profiles, fit
    from sitematch.planner.gaps import gap_summary, municipality_overview
    from sitematch.planner.maps import fit_map, write_map_html
    from sitematch.planner.sheets import render_sheet
    from sitematch.planner.write import site_frame
    from sitematch.profile import build_profile

    frames = tiny_layer_frames()
    frames["plots"] = frames["plots"].assign(name="<img src=x onerror=alert(1)>")
    layers = LayerSet(frames, origin="hostile")
    profile = build_profile({"name": "<b>Lead</b>", "requirements": {"min_area_ha": 20}})
    results = evaluate_profiles([profile], layers)
    found = fit(results)
    sites = site_frame(results)
    assert isinstance(sites, gpd.GeoDataFrame)
    page = write_map_html(fit_map(found, sites, layers), tmp_path / "m.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<b>Lead</b>" not in page
    summary = gap_summary(results)
    sheet = render_sheet("1980", found, summary.binding, municipality_overview(results), sites, layers)
    assert "<img src=x" not in sheet and "<b>Lead</b>" not in sheet and "&lt;b&gt;Lead" in sheet
