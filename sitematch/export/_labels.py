"""Column headers in words, for people reading a table in Excel: ``rank`` → ``rang``, ``points_area_ha`` →
``poäng: area_ha``. Machine-readable names stay in the plain CSV, the GeoPackage and the API; only the
``excel`` dialect with a language (``--excel --lang sv``) gets these.
"""

from __future__ import annotations

from collections.abc import Iterable

from sitematch.i18n import N_, translations

#: Fixed columns of ranking.csv and funnel.csv, in English words (the catalogues translate them).
COLUMN_WORDS = {
    "rank": N_("rank"),
    "plot_id": N_("plot id"),
    "name": N_("name"),
    "municipality_code": N_("municipality code"),
    "municipality_name": N_("municipality"),
    "score": N_("score"),
    "passed": N_("meets every requirement"),
    "near_miss": N_("near miss"),
    "n_missed": N_("requirements missed"),
    "shortfall": N_("total shortfall"),
    "missed": N_("missed"),
    "to_verify": N_("to verify"),
    "local_ref": N_("local reference"),
    "area_ha": N_("area (ha)"),
    "zoning": N_("zoning"),
    "plan_status": N_("plan status"),
    "owner": N_("owner"),
    "price_sek_m2": N_("price SEK/m²"),
    "ready": N_("ready to build"),
    "brownfield": N_("brownfield"),
    "mifo_risk_class": N_("MIFO risk class"),
    "updated": N_("updated"),
    "source": N_("source"),
    "licence": N_("licence"),
    "exact": N_("exact"),
    "in_region": N_("in the region"),
    "lon": N_("longitude"),
    "lat": N_("latitude"),
    "step": N_("step"),
    "requirement": N_("requirement"),
    "key": N_("key"),
    "excludes": N_("excludes on its own"),
    "excludes_share": N_("share excluded"),
    "only_this": N_("only this one"),
    "remaining": N_("sites left"),
}
#: Prefixes of per-criterion columns: the criterion's name follows.
PREFIX_WORDS = {"points_": N_("points"), "check_": N_("meets"), "shortfall_": N_("shortfall")}


def column_labels(columns: Iterable[object], lang: str) -> dict[object, str]:
    """Headers in ``lang`` for the columns it has words for (the others keep their names).

    Examples
    --------
    >>> column_labels(["rank", "points_area_ha", "distance_to_rail_m"], "sv")
    {'rank': 'rang', 'points_area_ha': 'poäng: area_ha'}
    >>> column_labels(["rank"], "en")
    {'rank': 'rank'}
    """
    _ = translations(lang).gettext
    out: dict[object, str] = {}
    for column in columns:
        name = str(column)
        if name in COLUMN_WORDS:
            out[column] = _(COLUMN_WORDS[name])
            continue
        for prefix, words in PREFIX_WORDS.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                out[column] = f"{_(words)}: {name[len(prefix) :]}"
                break
    return out
