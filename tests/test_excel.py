"""``--excel``: what Excel with Swedish settings reads right — kommunkod as text, yes/no as Ja/Nej."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from sitematch.export.tables import excel_cells, write_csv
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from tests.test_export import PROFILE


def test_excel_csv_writes_codes_as_text_and_yes_no_in_swedish(tiny_layers: LayerSet, tmp_path: Path) -> None:
    result = match(parse_profile(PROFILE), tiny_layers)
    path = write_csv(result, tmp_path / "ranking.csv", dialect="excel")
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    by_id = {r["plot_id"]: r for r in rows}
    assert {r["municipality_code"] for r in rows} == {'="1980"'}  # Excel opens ="1980" as the text 1980
    # the profile ranks A and excludes B and C (see tests/test_export.py)
    assert by_id["1980:A"]["passed"] == "Ja" and by_id["1980:B"]["passed"] == "Nej"
    assert by_id["1980:C"]["near_miss"] == "Ja" and by_id["1980:A"]["ready"] in ("Ja", "Nej")
    assert "True" not in path.read_text(encoding="utf-8-sig") and "False" not in path.read_text(encoding="utf-8-sig")
    plain = pd.read_csv(write_csv(result, tmp_path / "plain.csv"), dtype=str)
    assert set(plain["municipality_code"]) == {"1980"} and set(plain["passed"]) == {"True", "False"}  # unchanged


def test_only_digit_codes_become_text_formulas() -> None:
    frame = pd.DataFrame(
        {
            "municipality_code": ["0180", "1980", "'=1+1", None],
            "county_code": ["01", "19", "1", "x"],
            "name": ["0180", "a", "b", "c"],
            "brownfield": pd.array([True, False, None, True], dtype="boolean"),
            "score": [0.5, 1.0, 0.0, 0.25],
        }
    )
    out = excel_cells(frame)
    assert out["municipality_code"].tolist()[:3] == ['="0180"', '="1980"', "'=1+1"]
    assert pd.isna(out["municipality_code"].iloc[3])
    assert out["county_code"].tolist() == ['="01"', '="19"', "1", "x"]
    assert out["name"].tolist() == ["0180", "a", "b", "c"]  # not a code column: left alone
    assert out["brownfield"].tolist() == ["Ja", "Nej", "", "Ja"]
    assert out["score"].tolist() == [0.5, 1.0, 0.0, 0.25]
