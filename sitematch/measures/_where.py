"""Filters on a layer's rows: ``where: "max_draught_m >= port_min_depth_m"``.

A filter is one clause or a list of clauses that must all hold. A clause is
``<column> <op> <value>`` with op one of ``>= > <= < == != in``; the value is a number, a quoted
string, ``true``/``false``, a list ``[a, b]`` (for ``in``), or the name of a profile parameter
(compared with the profile's value, so ports can be filtered by the depth a lead needs). Rows with
no value in the column never match.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sitematch.measures._base import Fail

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<|\bin\b)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Clause:
    """One condition on a layer's rows.

    Examples
    --------
    >>> c = Clause("max_draught_m", ">=", parameter="port_min_depth_m")
    >>> c.text()
    'max_draught_m >= port_min_depth_m'
    >>> c.mask(pd.DataFrame({"max_draught_m": [5.0, 9.5, None]}), {"port_min_depth_m": 9}).tolist()
    [False, True, False]
    """

    column: str
    op: str
    value: Any = None
    parameter: str | None = None

    def resolved(self, parameters: Mapping[str, float]) -> Any:
        """The value compared with: the literal, or the parameter's value."""
        return float(parameters[self.parameter]) if self.parameter else self.value

    def mask(self, frame: pd.DataFrame, parameters: Mapping[str, float]) -> np.ndarray:
        """Which rows meet the clause (rows with no value never do)."""
        col = frame[self.column]
        value = self.resolved(parameters)
        if self.op == "in":
            numbers = all(isinstance(v, float) for v in value)
            hit = pd.to_numeric(col, errors="coerce").isin(value) if numbers else col.astype("string").isin(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            hit = _OPS[self.op](pd.to_numeric(col, errors="coerce"), value)
        elif isinstance(value, bool):
            hit = _OPS[self.op](col.astype("boolean"), value)
        else:
            hit = _OPS[self.op](col.astype("string"), str(value))
        return pd.Series(hit, index=frame.index).fillna(False).to_numpy(dtype=bool) & col.notna().to_numpy()

    def text(self) -> str:
        """The clause as written in a catalogue."""
        if self.parameter:
            rhs = self.parameter
        elif self.op == "in":
            rhs = "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in self.value) + "]"
        elif isinstance(self.value, bool):
            rhs = "true" if self.value else "false"
        elif isinstance(self.value, str):
            rhs = repr(self.value)
        else:
            rhs = f"{self.value:g}"
        return f"{self.column} {self.op} {rhs}"


def where_mask(frame: pd.DataFrame, clauses: tuple[Clause, ...], parameters: Mapping[str, float]) -> np.ndarray:
    """Rows meeting every clause (all rows when there are none)."""
    mask = np.ones(len(frame), dtype=bool)
    for c in clauses:
        mask &= c.mask(frame, parameters)
    return mask


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return None


def parse_where(raw: Any, parameters: Collection[str], path: tuple[str, ...], fail: Fail) -> tuple[Clause, ...]:
    """Parse a catalogue's ``where:`` (a clause or a list of clauses).

    Parameters
    ----------
    raw : str or list of str
        As written.
    parameters : collection of str
        Names of the profile parameters a clause may compare with.
    path : tuple of str
        Key path of ``where`` in the catalogue, for errors.
    fail : callable
        Makes the error to raise from ``(path, message)``.

    Returns
    -------
    tuple of Clause

    Examples
    --------
    >>> parse_where("kind in [terminal, siding]", (), ("where",), ValueError)[0].value
    ('terminal', 'siding')
    """
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out: list[Clause] = []
    for item in items:
        m = _CLAUSE.match(str(item)) if isinstance(item, str) else None
        if m is None:
            raise fail(path, f'{item!r} is not a condition like "max_draught_m >= 9" or "kind in [terminal]"')
        column, op, rhs = m.groups()
        if op == "in":
            if not (rhs.startswith("[") and rhs.endswith("]")):
                raise fail(path, f"'in' takes a list, e.g. \"{column} in [a, b]\"")
            tokens = [v.strip() for v in rhs[1:-1].split(",") if v.strip()]
            literals = [_literal(v) for v in tokens]
            numeric = all(isinstance(v, float) for v in literals)  # [1, 2] compares numbers; else text
            values = (
                tuple(literals)
                if numeric
                else tuple(v if isinstance(v, str) else t for v, t in zip(literals, tokens, strict=True))
            )
            out.append(Clause(column, "in", values))
            continue
        if rhs in parameters:
            out.append(Clause(column, op, parameter=rhs))
            continue
        value = _literal(rhs)
        if value is None:
            raise fail(
                path,
                f"{rhs!r} is neither a number, a quoted string, true/false nor a declared parameter "
                f"({', '.join(sorted(parameters)) or 'none'})",
            )
        out.append(Clause(column, op, value))
    return tuple(out)
