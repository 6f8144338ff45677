"""Large exports go through Arrow; they must read back exactly as pandas' writer's output does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sitematch import _io
from sitematch.export import tables


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    floats = rng.uniform(-1000, 1000, n).round(3)
    floats[::5] = np.round(floats[::5])  # whole numbers in a float column: written "5.0"
    floats[::7] = np.nan
    names = np.array(["Gävle", "a,b", 'say "hi"', "=1+2", "-3", "@x", "", "plain"], dtype=object)
    return pd.DataFrame(
        {
            "value": floats,
            "passed": rng.random(n) < 0.5,
            "name": pd.array(names[np.arange(n) % len(names)], dtype="string"),
            "count": pd.array(np.where(np.arange(n) % 3 == 0, None, np.arange(n)), dtype="Int64"),
            "check": pd.Categorical(np.array(["passed", "failed", "unknown"])[np.arange(n) % 3]),
            "free": np.where(np.arange(n) % 4 == 0, None, "t").astype(object),
        }
    )


def test_arrow_csv_reads_back_as_the_pandas_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _frame(500)
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 10**9)
    by_pandas = tables._write_table(frame, tmp_path / "pandas.csv", "plain")
    monkeypatch.setattr(tables, "ARROW_CSV_ROWS", 0)
    by_arrow = tables._write_table(frame, tmp_path / "arrow.csv", "plain")
    assert by_arrow.read_bytes() != by_pandas.read_bytes()  # Arrow did write it (it quotes text)
    a = pd.read_csv(by_arrow, dtype=str, keep_default_na=False)
    b = pd.read_csv(by_pandas, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[3, "name"] == "'=1+2" and a.loc[5, "value"].endswith(".0") and a.loc[0, "passed"] in ("True", "False")


def test_formula_check_through_arrow_equals_the_plain_one() -> None:
    values = np.array(["=a", "+b", "-", "@", "\tx", "\ry", "ok", None, "a=b", ""] * 3000, dtype=object)
    plain = np.fromiter((isinstance(v, str) and v.startswith(_io.FORMULA_STARTS) for v in values), bool)
    assert len(values) >= 20_000
    assert _io._formula_like(values).tolist() == plain.tolist()
    assert plain.sum() == 6 * 3000
