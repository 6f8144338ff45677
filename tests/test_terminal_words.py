"""The terminal shows words, not codes: zoning J is "industri", plan status laga_kraft "laga kraft",
owner kommun "kommun" — in the results table of ``sitematch match`` (at 80 columns) and in
``sitematch plots list`` / ``history``."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from sitematch._terminal import code_word
from sitematch.cli import main
from tests._service import EXAMPLE_CSV

LEAD = """\
name: Zoned lead
requirements:
  min_area_ha: 5
  zoning: [J, Z]
  plan_status: [laga_kraft, antagen]
preferences:
  area_ha: {weight: 1, full_at: 30, zero_at: 5}
"""


def test_code_words() -> None:
    assert code_word("zoning", "J") == "industri"
    assert code_word("zoning", "Z") == "verksamheter"
    assert code_word("plan_status", "laga_kraft") == "laga kraft"
    assert code_word("plan_status", "pagaende") == "pågående"
    assert code_word("owner", "kommun") == "kommun"
    assert code_word("zoning", "Q7") == "Q7"  # no words known: the code as written
    assert code_word("zoning", None) == ""
    assert code_word("zoning", "\x1b[31mJ") == "[31mJ"  # never a terminal escape


def _cells(output: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("│").split("│")] for line in output.splitlines() if line.startswith("│")]


def test_the_results_table_shows_words_at_80_columns(tmp_path: Path) -> None:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD, encoding="utf-8")
    res = CliRunner(env={"COLUMNS": "80"}).invoke(
        main, ["match", str(lead), "--no-map", "--no-pdf", "--out", str(tmp_path / "out"), "--top", "10"]
    )
    assert res.exit_code == 0, res.output
    assert all(len(line) <= 80 for line in res.output.splitlines())
    header = next(line for line in res.output.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃").split("┃")][3:5] == ["Area", "zoning"]
    rows = _cells(res.output)
    assert len(rows) == 10
    zoning = {r[4] for r in rows}
    assert zoning <= {"industri", "verksamheter"} and zoning, zoning
    assert not {"J", "Z", "laga_kraft"} & {c for r in rows for c in r}  # ("antagen" is its own word)
    if len(rows[0]) > 5:  # the plan status column, when it fits
        assert {r[5] for r in rows} <= {"laga kraft", "antagen"}


def test_plots_list_and_history_show_words(tmp_path: Path) -> None:
    store = str(tmp_path / "plots.gpkg")
    runner = CliRunner(env={"COLUMNS": "200"})
    up = runner.invoke(main, ["plots", "upload", "--municipality", "1980", str(EXAMPLE_CSV), "--store", store])
    assert up.exit_code == 0, up.output
    listed = runner.invoke(main, ["plots", "list", "--store", store])
    assert listed.exit_code == 0, listed.output
    rows = {r[0]: r for r in _cells(listed.output)}
    # the example file: Å-1 is J, laga_kraft, kommun; Å-2 is Z, antagen, privat
    assert rows["1980:Å-1"][3:6] == ["industri", "laga kraft", "kommun"]
    assert rows["1980:Å-2"][3:6] == ["verksamheter", "antagen", "privat"]
    history = runner.invoke(main, ["plots", "history", "1980:Å-1", "--store", store])
    assert history.exit_code == 0, history.output
    assert re.search(r"│\s*industri\s*│\s*laga kraft\s*│", history.output), history.output
