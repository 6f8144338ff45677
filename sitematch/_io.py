"""Small file-writing helpers shared by the exporters and the layer builder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from sitematch import schema as s

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (else set and restored)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_missing(value: Any) -> bool:
    """True for None, NaN, NA and NaT: a cell with no value (lists and text are never missing).

    Examples
    --------
    >>> [is_missing(v) for v in (None, float("nan"), pd.NA, "", 0)]
    [True, True, True, False, False]
    """
    return value is None or (pd.api.types.is_scalar(value) and not isinstance(value, str) and bool(pd.isna(value)))


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A reader never sees a half-written file, and a failed write leaves the old file as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers (GDAL) want to create the file themselves
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would give: the user's umask decides
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


#: A frame type kept through a copy (a GeoDataFrame stays one).
FrameT = TypeVar("FrameT", bound=pd.DataFrame)


def for_ogr(frame: FrameT) -> FrameT:
    """A copy GDAL writes with the right field types, missing values as NULL (never the text ``"<NA>"``).

    Text columns become objects with None for missing; yes/no columns with no missing value become
    plain booleans (a BOOLEAN field); nullable whole numbers and yes/no with missing values stay
    nullable (an INTEGER field with NULL).

    Examples
    --------
    >>> out = for_ogr(pd.DataFrame({"name": pd.array(["Å", None], dtype="string"), "ready": [True, False]}))
    >>> out["name"].tolist(), out["ready"].dtype.name
    (['Å', None], 'bool')
    """
    out = frame.copy()
    for col in out.columns:
        if col == s.GEOMETRY:
            continue
        kind = str(out[col].dtype)
        if kind in ("string", "str", "category"):
            values = out[col].to_numpy(dtype=object)
            values[pd.isna(values)] = None
            out[col] = pd.Series(values, index=out.index, dtype=object)
        elif kind == "boolean" and not out[col].isna().any():
            out[col] = out[col].astype(bool)
    return out


#: First characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells a spreadsheet cannot take for formulas: ``'`` is put before them.

    Numbers stay numbers; only text starting with ``= + - @``, a tab or a carriage return changes,
    and it stays readable (``'=HYPERLINK(…)``).

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"name": ["=1+2", "Gävle", "-"], "n": [-1, 2, 3]})).to_dict("list")
    {'name': ["'=1+2", 'Gävle', "'-"], 'n': [-1, 2, 3]}
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str", "category"):
            values = out[col].to_numpy(dtype=object)
            risky = _formula_like(values)
            if risky.any():
                values = values.copy()
                values[risky] = ["'" + v for v in values[risky]]
                out[col] = values
    return out


def _formula_like(values: np.ndarray) -> np.ndarray:
    """Where ``values`` (objects) are text starting with one of :data:`FORMULA_STARTS` (vectorised through Arrow)."""
    if len(values) < 20_000:  # a small column: one look at each value is quick enough
        return np.fromiter((isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values), bool, len(values))
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(values, pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError):  # not all text: look at each value
        return np.fromiter((isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values), bool, len(values))
    starts = "".join("\\t" if c == "\t" else "\\r" if c == "\r" else "\\" + c for c in FORMULA_STARTS)
    hit = pc.match_substring_regex(arr, f"^[{starts}]")
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def reduce_frozen(obj: DataclassInstance) -> tuple[object, tuple[object, ...]]:
    """``__reduce__`` for a frozen dataclass holding read-only mappings (which pickle cannot copy).

    Each ``MappingProxyType`` field is passed on as a plain dict; ``__post_init__`` makes it
    read-only again.
    """
    from dataclasses import fields
    from types import MappingProxyType

    values = (getattr(obj, f.name) for f in fields(obj))
    return type(obj), tuple(dict(v) if isinstance(v, MappingProxyType) else v for v in values)
