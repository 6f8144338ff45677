"""What a plot store accepts, defined once: the store refuses the rest, and validation reports it.

Both backends call :func:`refusals` on every upload (through :func:`sitematch.store.base.check_upload`)
and upload validation calls it on the rows it found valid, so ``plots check`` refuses exactly what
the store would refuse. The rules are vectorised over the whole frame.

Validation hands the store what it checked (:class:`Checked`, the values as they were accepted),
so an upload's rows are checked once: the store compares the values with those it is given and
checks again whatever differs (a column added since, a value changed), never less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch import settings
from sitematch._io import is_missing

#: Columns whose text comes from the municipality's file: their length is bounded.
UPLOADED_TEXT = (s.LOCAL_REF, s.NAME, s.ZONING, s.PLAN_STATUS, s.OWNER, s.UPDATED)
#: Every text column a store keeps: none may hold a NUL character.
TEXT_COLUMNS = (s.PLOT_ID, s.MUNICIPALITY_CODE, *UPLOADED_TEXT, s.SOURCE, s.LICENCE)
#: The values a store accepts in its coded columns (the same data the built-in criteria offer).
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    s.ZONING: tuple(s.ZONING_CODES),
    s.PLAN_STATUS: s.PLAN_STATUSES,
    s.OWNER: s.OWNERS,
}
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class Refusal:
    """One reason a store refuses a plot: ``position`` is the 0-based row in the frame."""

    position: int
    field: str
    message: str


def shown(value: object, limit: int = 60) -> str:
    """A value for a message: quoted, control characters escaped, and cut to ``limit`` characters.

    Examples
    --------
    >>> shown("Å-1"), shown("x" * 100, limit=10)
    ("'Å-1'", "'xxxxxxxxx…' (100 characters)")
    """
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 1] + '…'!r} ({len(text):,} characters)"


def shown_list(values: Sequence[object], limit: int = 20) -> str:
    """Values (e.g. a file's column names) for a message: each :func:`shown`, at most ``limit``."""
    text = ", ".join(shown(v, 40) for v in values[:limit])
    return text + (f" and {len(values) - limit:,} more" if len(values) > limit else "")


def text_problem(value: str) -> str | None:
    """Why a store refuses this text, or None: a NUL character, or more than the allowed length."""
    if "\x00" in value:
        return "contains a NUL character (\\x00), which a store cannot hold: remove it"
    if len(value) > settings.upload_max_text_chars:
        return f"{len(value):,} characters, more than the {settings.upload_max_text_chars:,} allowed: shorten it"
    return None


def _text_refusals(plots: pd.DataFrame, columns: Sequence[str] = TEXT_COLUMNS) -> list[Refusal]:
    out: list[Refusal] = []
    limit = settings.upload_max_text_chars
    for col in columns:
        if col not in plots:
            continue
        bounded = col in UPLOADED_TEXT
        for i, value in enumerate(plots[col].to_numpy(dtype=object)):
            if is_missing(value):
                continue
            text = str(value)
            if "\x00" in text or (bounded and len(text) > limit):
                out.append(Refusal(i, col, str(text_problem(text))))
    return out


def _identity_refusals(plots: pd.DataFrame, municipality_code: str) -> list[Refusal]:
    out: list[Refusal] = []
    columns = (plots[c].to_numpy(dtype=object) for c in (s.MUNICIPALITY_CODE, s.LOCAL_REF, s.PLOT_ID))
    for i, (code, ref, plot_id) in enumerate(zip(*columns, strict=True)):
        if is_missing(code) or str(code) != municipality_code:
            written = "<NA>" if is_missing(code) else str(code)  # as pandas' string dtype shows a missing cell
            message = f"{shown(written)} is not the uploading municipality {municipality_code}"
            out.append(Refusal(i, s.MUNICIPALITY_CODE, message))
        ref_text, id_text = _text(ref), _text(plot_id)
        if ref_text.strip() == "":
            out.append(Refusal(i, s.LOCAL_REF, "empty: every plot needs a reference"))
        elif id_text != municipality_code + ":" + ref_text:
            message = f"{shown(id_text)} is not {municipality_code}:<reference>: a municipality stores its plots only"
            out.append(Refusal(i, s.PLOT_ID, message))
    return out


def _text(value: object) -> str:
    """A cell as text as pandas' string dtype has it ("" for a missing one)."""
    return "" if is_missing(value) else str(value)


def _value_refusals(plots: pd.DataFrame) -> list[Refusal]:
    area = pd.to_numeric(plots[s.AREA_HA], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    price = pd.to_numeric(plots[s.PRICE_SEK_M2], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    checks = [
        (s.AREA_HA, ~(np.isfinite(area) & (area > 0)), "must be a positive, finite number of hectares"),
        (
            s.PRICE_SEK_M2,
            ~(np.isnan(price) | (np.isfinite(price) & (price >= 0))),
            "must be empty or a finite price ≥ 0",
        ),
    ]
    for col, allowed in ALLOWED_VALUES.items():
        known = set(allowed)
        bad = [not (isinstance(v, str) and v in known) for v in plots[col].to_numpy(dtype=object)]
        checks.append((col, np.array(bad, dtype=bool), f"must be one of {', '.join(allowed)}"))
    return [Refusal(int(i), col, msg) for col, bad, msg in checks for i in np.flatnonzero(bad)]


def _geometry_refusals(geoms: np.ndarray) -> list[Refusal]:
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    checks = [
        (missing, "no geometry"),
        (~missing & ~np.isin(shapely.get_type_id(geoms), _POLYGONAL), "not a polygon"),
        (~missing & (shapely.has_z(geoms) | shapely.has_m(geoms)), "has heights (Z) or measures (M): store 2D only"),
        (~missing & ~shapely.is_valid(geoms), "not a valid polygon"),
    ]
    out: list[Refusal] = []
    seen: set[int] = set()
    for bad, msg in checks:
        for i in np.flatnonzero(bad):
            if int(i) not in seen:  # one geometry reason per row: the first that applies
                seen.add(int(i))
                out.append(Refusal(int(i), s.GEOMETRY, msg))
    return out


@dataclass(frozen=True, eq=False)
class Checked:
    """Plots :func:`refusals` found nothing in, value by value, as they were then (see :func:`checked`)."""

    municipality_code: str
    values: dict[str, np.ndarray] = field(repr=False)

    def unchanged(self, plots: pd.DataFrame, municipality_code: str) -> set[str]:
        """The columns of ``plots`` that hold exactly the values checked (same type, equal), row by row.

        Empty for another municipality or another number of rows: everything is then checked again.
        """
        if municipality_code != self.municipality_code:
            return set()
        out = set()
        for col, before in self.values.items():
            if col in plots and len(plots) == len(before) and _same(before, plots[col].to_numpy(dtype=object)):
                out.add(col)
        return out


def _same(before: np.ndarray, now: np.ndarray) -> bool:
    for a, b in zip(before, now, strict=True):
        if a is b:
            continue
        if type(a) is not type(b):
            return False
        if is_missing(a) and is_missing(b):
            continue
        try:
            if not bool(a == b):
                return False
        except (TypeError, ValueError):  # no single truth value: count it as changed
            return False
    return True


def checked(plots: pd.DataFrame, municipality_code: str) -> Checked:
    """Record plots that :func:`refusals` found nothing in (call it only on such plots), for the store.

    Holds a reference to each value (text and geometries are immutable; the store compares them
    with what it is given).
    """
    return Checked(municipality_code, {str(c): plots[c].to_numpy(dtype=object, copy=True) for c in plots.columns})


def refusals(plots: gpd.GeoDataFrame, municipality_code: str, *, already: Checked | None = None) -> list[Refusal]:
    """Every reason a store refuses these plots, row by row (empty: the store accepts them all).

    Parameters
    ----------
    plots : geopandas.GeoDataFrame
        Canonical plot columns (as validation produces them).
    municipality_code : str
        The uploading municipality: every plot's ``municipality_code`` and ``plot_id`` must be its.
    already : Checked, optional
        What an earlier call accepted (validation's): the rules that read only columns holding
        those very values are not applied again.

    Returns
    -------
    list of Refusal
        Sorted by row, then field.
    """
    if plots.empty:
        return []
    done = already.unchanged(plots, municipality_code) if already is not None else set()
    text = [c for c in TEXT_COLUMNS if c not in done]
    found = _text_refusals(plots, text)
    if not done >= {s.MUNICIPALITY_CODE, s.LOCAL_REF, s.PLOT_ID}:
        found += _identity_refusals(plots, municipality_code)
    if not done >= {s.AREA_HA, s.PRICE_SEK_M2, *ALLOWED_VALUES}:
        found += _value_refusals(plots)
    if plots.geometry.name not in done:
        found += _geometry_refusals(np.asarray(plots.geometry.values, dtype=object))
    return sorted(found, key=lambda r: (r.position, r.field))
