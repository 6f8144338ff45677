"""Small file-writing helpers shared by the exporters and the layer builder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sitematch import schema as s


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
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def for_ogr(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose pandas extension dtypes (nullable bool/int, string) GDAL can write."""
    out = frame.copy()
    for col in out.columns:
        if col != s.GEOMETRY and str(out[col].dtype) in ("boolean", "Int64", "string", "str", "category"):
            out[col] = out[col].astype(object)
    return out
