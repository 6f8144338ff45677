"""Words for values: ``"4.2 km"``, ``"40 MW"``, ``"25 ha"``, ``"class 3"``, ``"yes"`` — the same everywhere.

How a number is worded is part of its criterion's declaration (``Criterion.display``):
``distance`` (metres, kilometres from 1 km), ``count`` (thousands separated), ``class``
("class 3"), ``number`` (one decimal and the unit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sitematch._io import is_missing
from sitematch.i18n import format_number, translations

if TYPE_CHECKING:
    from sitematch.criteria.model import Criterion

#: Units people might wrongly write in a key, and what sitematch uses instead.
WRONG_UNIT_SUFFIXES: dict[str, str] = {
    "_km": "_m",
    "_kilometres": "_m",
    "_meters": "_m",
    "_metres": "_m",
    "_kw": "_mw",
    "_gw": "_mw",
    "_m2": "_ha",
    "_sqm": "_ha",
    "_hectares": "_ha",
    "_kvm": "_ha",
    "_acres": "_ha",
}


def label_of(criterion: Criterion, lang: str = "en") -> str:
    """A criterion's label in ``lang``: the catalogue's words for a built-in one, a region's own label as declared.

    Examples
    --------
    >>> from sitematch.criteria import CRITERIA
    >>> label_of(CRITERIA["area_ha"], "sv"), label_of(CRITERIA["area_ha"])
    ('Areal', 'Area')
    """
    return translations(lang).gettext(criterion.label) if lang != "en" else criterion.label


def format_values(criterion: Criterion, values: pd.Series | np.ndarray, lang: str = "en") -> np.ndarray:
    """Format many values of a numeric criterion at once (vectorised; same words as :func:`format_value`).

    Parameters
    ----------
    criterion : Criterion
        A numeric criterion.
    values : pandas.Series or numpy.ndarray
        Finite numbers (callers word NaN and infinity themselves).
    lang : {"en", "sv"}
        Swedish has a decimal comma and says "klass".

    Returns
    -------
    numpy.ndarray of str

    Examples
    --------
    >>> from sitematch.criteria import CRITERIA
    >>> format_values(CRITERIA["distance_to_rail_m"], [250.0, 4210.0]).tolist()
    ['250 m', '4.2 km']
    >>> format_values(CRITERIA["distance_to_rail_m"], [4210.0], "sv").tolist()
    ['4,2 km']
    """
    if lang != "en":
        return np.array(
            [format_value(criterion, float(x), lang) for x in np.asarray(values, dtype=float)], dtype=object
        )
    v = pd.Series(np.asarray(values, dtype=float))
    if criterion.display == "distance":
        km = (v / 1000).round(1).astype(str) + " km"
        m = v.round(0).astype("int64").astype(str) + " m"
        return np.where(v >= 1000, km, m).astype(object)
    if criterion.display == "count":
        return v.round(0).astype("int64").map("{:,}".format).str.replace(",", " ").to_numpy(dtype=object)
    if criterion.display == "class":
        return ("class " + v.round(0).astype("int64").astype(str)).to_numpy(dtype=object)
    text = v.round(1).astype(str).str.replace(r"\.0$", "", regex=True)
    return (text + (" " + criterion.unit if criterion.unit else "")).to_numpy(dtype=object)


def format_value(criterion: Criterion, value: object, lang: str = "en") -> str:
    """Format one value of a criterion for people: ``"4.2 km"``, ``"40 MW"``, ``"25 ha"``, ``"yes"``.

    In Swedish (``lang="sv"``): ``"4,2 km"``, ``"ja"``, ``"klass 3"``, ``"okänd"``.

    Examples
    --------
    >>> from sitematch.criteria import CRITERIA
    >>> format_value(CRITERIA["grid_capacity_mw"], 40.0), format_value(CRITERIA["ready"], True)
    ('40 MW', 'yes')
    >>> format_value(CRITERIA["price_sek_m2"], None)
    'unknown'
    >>> format_value(CRITERIA["distance_to_rail_m"], 4210.0, "sv"), format_value(CRITERIA["ready"], False, "sv")
    ('4,2 km', 'nej')
    """
    if lang != "en":
        return _format_value_in(criterion, value, lang)
    if is_missing(value):
        return "unknown"
    if criterion.kind != "numeric":
        if isinstance(value, bool | np.bool_) or criterion.kind == "flag":
            return "yes" if bool(value) else "no"
        return str(value)
    v = float(value)  # type: ignore[arg-type]
    if v == float("inf"):
        return "none"
    # the scalar twin of format_values (pure Python: fast for one value; tested to agree)
    if criterion.display == "distance":
        return f"{round(v / 1000, 1)} km" if v >= 1000 else f"{round(v)} m"
    if criterion.display == "count":
        return f"{round(v):,}".replace(",", " ")
    if criterion.display == "class":
        return f"class {round(v)}"
    text = str(round(v, 1)).removesuffix(".0")
    return f"{text} {criterion.unit}" if criterion.unit else text


def _number(value: float, lang: str, decimals: int = 1) -> str:
    """A number as :func:`sitematch.i18n.format_number` writes it, rounded as the English words round.

    Swedish without Babel (it is called for every value in every popup): ``12 345,6``, no trailing zeros.

    Examples
    --------
    >>> _number(12345.65, "sv"), _number(2.0, "sv"), _number(-0.04, "sv"), _number(1234.5, "sv", 0)
    ('12\xa0345,6', '2', '0', '1\xa0234')
    """
    if lang != "sv":
        return format_number(value, lang, decimals=decimals)
    text = f"{round(value, decimals):,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(",", "\xa0").replace(".", ",")


def _format_value_in(criterion: Criterion, value: object, lang: str) -> str:
    """:func:`format_value` in another language than English (numbers as :func:`sitematch.i18n.format_number`)."""
    _ = translations(lang).gettext
    if is_missing(value):
        return _("unknown")
    if criterion.kind != "numeric":
        if isinstance(value, bool | np.bool_) or criterion.kind == "flag":
            return _("yes") if bool(value) else _("no")
        return str(value)
    v = float(value)  # type: ignore[arg-type]
    if v == float("inf"):
        return _("none")
    if criterion.display == "distance":
        return f"{_number(v / 1000, lang)} km" if v >= 1000 else f"{_number(v, lang, decimals=0)} m"
    if criterion.display == "count":
        return _number(v, lang, decimals=0)
    if criterion.display == "class":
        return _("class %(n)s") % {"n": round(v)}
    text = _number(v, lang)
    return f"{text} {criterion.unit}" if criterion.unit else text


#: Words for the codes of the built-in categories: Swedish term / English, as an investor reads them.
CODE_WORDS: dict[str, dict[str, str]] = {
    "zoning": {
        "J": "industri / industry",
        "Z": "verksamheter / business",
        "E": "tekniska anläggningar / technical facilities",
        "H": "detaljhandel / retail",
        "K": "kontor / offices",
        "T": "trafik / transport",
        "C": "centrum / centre",
        "B": "bostäder / housing",
    },
    "plan_status": {
        "laga_kraft": "laga kraft (in force)",
        "antagen": "antagen (adopted, not yet in force)",
        "pagaende": "pågående (plan in preparation)",
        "ingen_plan": "ingen detaljplan (no detailed plan)",
    },
    "owner": {
        "kommun": "kommun (municipality)",
        "privat": "privat (private)",
        "statlig": "statlig (state)",
        "okand": "okänd (unknown owner)",
    },
}


def format_code(criterion: Criterion, value: object, lang: str = "en") -> str:
    """A category's code in words: the criterion's own ``value_words`` when it declares them, else
    the built-in words (:data:`CODE_WORDS`); the code itself when no words are known.

    A zoning code keeps its letter after the words (plans are searched by it). In Swedish the
    built-in words are the Swedish term alone (``"industri (J)"``, ``"laga kraft"``).

    Examples
    --------
    >>> from sitematch.criteria import CRITERIA
    >>> format_code(CRITERIA["zoning"], "J"), format_code(CRITERIA["plan_status"], "laga_kraft")
    ('industri / industry (J)', 'laga kraft (in force)')
    >>> format_code(CRITERIA["owner"], "kommun"), format_code(CRITERIA["zoning"], "X9")
    ('kommun (municipality)', 'X9')
    >>> format_code(CRITERIA["zoning"], "J", "sv"), format_code(CRITERIA["plan_status"], "antagen", "sv")
    ('industri (J)', 'antagen')
    """
    if is_missing(value):
        return "unknown" if lang == "en" else translations(lang).gettext("unknown")
    code = str(value)
    declared = getattr(criterion, "value_words", None) or {}
    words = declared.get(code)
    if not words:
        words = CODE_WORDS.get(criterion.name, {}).get(code)
        if words and lang == "sv":  # the built-in words are "Swedish / English" or "Swedish (English)"
            words = words.split(" / ")[0].split(" (")[0]
    if not words:
        return code
    return f"{words} ({code})" if criterion.name == "zoning" else words
