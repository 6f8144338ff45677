"""What a municipality's answer may change, and what changed in the shortlist because of it.

An ``updated`` answer carries new values. Those that are plot attributes (:data:`UPDATABLE`: the
asking price, build-readiness, the MIFO class) become a **new version of the plot** in the plot
store — through the store's own all-or-nothing upload, so the history keeps the earlier version.
The rest (:data:`NOTED`: availability date, grid capacity as confirmed by the grid company and
its date, a contact person, a note) are kept with the answer for the adviser: grid capacity belongs
to the substations layer, not to a plot, and a municipality cannot change it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import geopandas as gpd

from sitematch import schema as s
from sitematch.leads.model import LeadError

#: Plot attributes an answer may update, with how each value is read.
UPDATABLE = (s.PRICE_SEK_M2, s.READY, s.MIFO_RISK_CLASS)
#: Facts an answer may state that are kept with the answer (not plot attributes).
NOTED = ("available_from", "grid_capacity_confirmed_mw", "grid_confirmed_on", "contact_person", "note", "reason")
_DATES = ("available_from", "grid_confirmed_on")
_TEXT_MAX = 1000


def _number(key: str, value: Any, low: float, high: float | None = None) -> float:
    try:
        number = float(str(value).replace(",", ".").replace(" ", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise LeadError(f"{key}: {str(value)[:40]!r} is not a number", key=key) from None
    if math.isnan(number) or number < low or (high is not None and number > high):
        upper = f" and at most {high:g}" if high is not None else ""
        raise LeadError(f"{key}: {number:g} is out of range (at least {low:g}{upper})", key=key)
    return number


def check_detail(answer: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The answer's values, read and checked; LeadError naming the key for anything wrong.

    Examples
    --------
    >>> check_detail("updated", {"price_sek_m2": "450,5", "available_from": "2027-03-01"})
    {'price_sek_m2': 450.5, 'available_from': '2027-03-01'}
    >>> check_detail("updated", {"prize": 4})
    Traceback (most recent call last):
    ...
    sitematch.leads.model.LeadError: unknown field 'prize' in an answer; ...
    """
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if value in (None, ""):
            continue
        if key == s.PRICE_SEK_M2:
            out[key] = _number(key, value, 0.0)
        elif key == s.MIFO_RISK_CLASS:
            number = _number(key, value, 1, 4)
            if number != int(number):
                raise LeadError(f"{key}: a MIFO class is 1, 2, 3 or 4", key=key)
            out[key] = int(number)
        elif key == s.READY:
            if str(value).strip().lower() not in ("true", "false", "ja", "nej", "yes", "no", "1", "0"):
                raise LeadError(f"{key}: write ja or nej (yes or no)", key=key)
            out[key] = str(value).strip().lower() in ("true", "ja", "yes", "1")
        elif key == "grid_capacity_confirmed_mw":
            out[key] = _number(key, value, 0.0)
        elif key in _DATES:
            try:
                out[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise LeadError(f"{key}: {str(value)[:40]!r} is not a date (YYYY-MM-DD)", key=key) from None
        elif key in NOTED:
            text = str(value)
            if len(text) > _TEXT_MAX or any(ord(c) < 32 and c not in "\n\t" for c in text):
                raise LeadError(f"{key}: at most {_TEXT_MAX} characters, no control characters", key=key)
            out[key] = text
        else:
            allowed = ", ".join((*UPDATABLE, *NOTED))
            raise LeadError(f"unknown field {key!r} in an answer; the fields: {allowed}", key=key)
    if answer == "updated" and not out:
        raise LeadError("an 'updated' answer needs at least one value", key="detail")
    return out


def updated_plots(current: gpd.GeoDataFrame, updates: dict[str, dict[str, Any]], day: str) -> gpd.GeoDataFrame:
    """The plots of ``current`` (canonical columns) named in ``updates``, with the updated attributes
    and ``updated`` set to ``day``; plots without an updatable value are left out."""
    rows = current[current[s.PLOT_ID].isin([p for p, d in updates.items() if set(d) & set(UPDATABLE)])].copy()
    for index, plot_id in rows[s.PLOT_ID].items():
        for key, value in updates[plot_id].items():
            if key in UPDATABLE:
                rows.at[index, key] = value
    if s.UPDATED in rows.columns:
        rows[s.UPDATED] = day
    return rows


def compare_shortlists(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked sites after the answers, each marked against before: new, up, down, same — and the
    sites that left the shortlist (``gone``).

    Examples
    --------
    >>> rows = compare_shortlists([{"plot_id": "a", "rank": 1}, {"plot_id": "b", "rank": 2}],
    ...                           [{"plot_id": "b", "rank": 1}, {"plot_id": "c", "rank": 2}])
    >>> [(r["plot_id"], r["rank_before"], r["change"]) for r in rows]
    [('b', 2, 'up'), ('c', None, 'new'), ('a', 1, 'gone')]
    """
    old = {r["plot_id"]: r.get("rank") for r in before}
    out = []
    for r in after:
        was = old.get(r["plot_id"])
        rank = r.get("rank")
        if r["plot_id"] not in old:
            change = "new"
        elif was is None or rank is None or was == rank:
            change = "same"
        else:
            change = "up" if rank < was else "down"
        out.append({**r, "rank_before": was, "change": change})
    kept = {r["plot_id"] for r in after}
    out += [
        {"plot_id": p, "rank": None, "rank_before": was, "change": "gone"} for p, was in old.items() if p not in kept
    ]
    return out
