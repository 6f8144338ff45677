"""The one "did you mean" for every key a person writes (profiles, catalogues, mapping files)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """A hint for an unknown key: the closest known one, or the known ones.

    Examples
    --------
    >>> did_you_mean("wieght", ["weight", "shape"])
    " Did you mean 'weight'?"
    >>> did_you_mean("x", ["weight", "shape"])
    ' Known keys: shape, weight.'
    """
    known = list(allowed)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(sorted(known))}."
