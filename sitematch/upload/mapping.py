"""Map a municipality's own column names and values to the canonical plot schema.

Municipalities name columns differently (``Areal_ha``, ``AREA``, ``yta_m2``, ``Beteckning``…).
Known aliases are recognised case-insensitively; anything else is given in a small mapping file::

    # mapping.yaml
    columns:            # canonical: the file's column
      local_ref: OBJEKT_ID
      area_ha: YTA
    units:
      area_ha: m2       # YTA is in square metres
    values:
      zoning: {Industri: J, Verksamheter: Z}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitematch import schema as s
from sitematch._yaml import YamlDocument, read_yaml
from sitematch.errors import UploadError
from sitematch.store.rules import shown, shown_list

#: Largest mapping file read, in bytes.
MAX_MAPPING_BYTES = 100_000

#: Aliases of each canonical column, as :func:`normalise` writes them (lower case, no accents,
#: punctuation and spaces as ``_``): "Areal (ha)", "AREAL_HA" and "areal ha" are all ``areal_ha``.
#: Specific names come first: a generic ``id`` (GeoJSON feature ids, GIS row ids) is used only
#: when nothing else is there.
ALIASES: dict[str, tuple[str, ...]] = {
    s.LOCAL_REF: (
        "local_ref", "objekt_id", "objektid", "tomt_id", "tomtid", "plot_ref", "fastighetsbeteckning",
        "fastighet", "beteckning", "ref", "id",
    ),
    s.NAME: ("name", "namn", "benamning", "omrade", "omradesnamn", "omradets_namn", "tomtnamn"),
    s.AREA_HA: ("area_ha", "areal_ha", "yta_ha", "storlek_ha", "hektar", "ha", "area", "areal"),
    s.ZONING: (
        "zoning", "anvandning", "markanvandning", "anvandningsbestammelse", "planbestammelse", "planandamal",
        "zon",
    ),
    s.PLAN_STATUS: ("plan_status", "planstatus", "status_plan", "detaljplan", "planlage", "planstatus_detaljplan"),
    s.OWNER: ("owner", "agare", "markagare", "fastighetsagare", "markagande"),
    s.PRICE_SEK_M2: (
        "price_sek_m2", "pris_kr_kvm", "pris_kr_m2", "pris_sek_m2", "pris_sek_kvm", "pris_per_kvm", "pris_per_m2",
        "pris_kr_per_kvm", "pris_kr_per_m2", "markpris", "markpris_kr_kvm", "markpris_kr_m2", "pris", "kr_m2",
        "kr_kvm",
    ),
    s.READY: ("ready", "byggklar", "byggklar_mark", "byggklart"),
    s.BROWNFIELD: ("brownfield", "fororenad", "fororenad_mark", "fororening", "fororenat"),
    s.MIFO_RISK_CLASS: ("mifo_risk_class", "mifo", "riskklass", "mifo_klass", "mifo_riskklass"),
    s.UPDATED: ("updated", "uppdaterad", "senast_uppdaterad", "datum"),
}  # fmt: skip
#: Aliases of area columns in square metres ("Areal (m2)", "Yta m²", "Yta (kvm)").
AREA_M2_ALIASES = ("area_m2", "areal_m2", "yta_m2", "areal_kvm", "yta_kvm", "yta", "kvm", "m2")

#: Unit factors to hectares.
AREA_UNITS = {"ha": 1.0, "m2": 1e-4, "km2": 100.0}

#: Values as people type them (normalised keys, see :func:`normalise`) → sitematch's codes.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    s.PLAN_STATUS: {
        "laga_kraft": "laga_kraft",
        "lagakraft": "laga_kraft",
        "laga_kraftvunnen": "laga_kraft",
        "lagakraftvunnen": "laga_kraft",
        "laga_kraft_vunnen": "laga_kraft",
        "vunnit_laga_kraft": "laga_kraft",
        "gallande": "laga_kraft",
        "gallande_detaljplan": "laga_kraft",
        "ja": "laga_kraft",
        "antagen": "antagen",
        "antagen_detaljplan": "antagen",
        "pagaende": "pagaende",
        "pagaende_planarbete": "pagaende",
        "planarbete_pagar": "pagaende",
        "under_arbete": "pagaende",
        "planuppdrag": "pagaende",
        "samrad": "pagaende",
        "granskning": "pagaende",
        "ingen_plan": "ingen_plan",
        "ingen": "ingen_plan",
        "ej_planlagd": "ingen_plan",
        "planlagges_ej": "ingen_plan",
        "nej": "ingen_plan",
    },
    s.OWNER: {
        "kommun": "kommun",
        "kommunen": "kommun",
        "kommunal": "kommun",
        "kommunalt": "kommun",
        "kommunagd": "kommun",
        "kommunal_mark": "kommun",
        "privat": "privat",
        "privatagd": "privat",
        "privat_agare": "privat",
        "privat_mark": "privat",
        "staten": "statlig",
        "statlig": "statlig",
        "statligt": "statlig",
        "okand": "okand",
        "vet_ej": "okand",
    },
    s.ZONING: {
        "industri": "J",
        "industrimark": "J",
        "industriandamal": "J",
        "verksamheter": "Z",
        "verksamhet": "Z",
        "verksamhetsmark": "Z",
        "tekniska_anlaggningar": "E",
        "teknisk_anlaggning": "E",
        "detaljhandel": "H",
        "handel": "H",
        "kontor": "K",
        "trafik": "T",
        "centrum": "C",
        "bostader": "B",
        "bostad": "B",
    },
}
#: Owner values naming a municipality ("Västerås stad", "Sala kommun") mean municipal land.
MUNICIPAL_OWNER = re.compile(r"^\w[\w ]* (stad|kommun)$")
#: A plan use letter with Boverket's index ("J1", "Z2") is the letter.
INDEXED_ZONING = re.compile(r"^([a-z])\d{0,2}$")
TRUE_WORDS = {"true", "yes", "ja", "1", "sant", "y", "j", "x"}
FALSE_WORDS = {"false", "no", "nej", "0", "falskt", "n", ""}


def normalise(text: object) -> str:
    """A header or value as aliases are matched: lower case, no accents, punctuation and spaces as ``_``.

    Examples
    --------
    >>> normalise("Areal (ha)"), normalise("Yta m²"), normalise(" Användning "), normalise("Pris kr/kvm")
    ('areal_ha', 'yta_m2', 'anvandning', 'pris_kr_kvm')
    """
    folded = unicodedata.normalize("NFKD", str(text))  # NFKD also turns ² into 2
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


@dataclass(frozen=True)
class ColumnMapping:
    """Which of the file's columns holds each canonical column, with units and value maps."""

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, source: str | Path | dict[str, Any] | None) -> ColumnMapping:
        """Read a mapping file (YAML) or dict; None gives the empty mapping (aliases only).

        Raises
        ------
        UploadError
            The file is missing, too large, not YAML (or uses aliases, duplicate keys, deep nesting),
            or holds anything but ``columns``, ``units`` and ``values`` sections of plain names.
        """
        if source is None:
            return cls()
        doc = YamlDocument(source) if isinstance(source, dict) else _read_file(Path(source))
        where = "mapping" if isinstance(source, dict) else str(source)
        raw = doc.data if doc.data is not None else {}
        if not isinstance(raw, dict) or set(raw) - {"columns", "units", "values"}:
            raise UploadError(f"{where}: a mapping has 'columns', 'units' and 'values' sections only", where=where)
        columns = _names(raw, "columns", doc, where)
        unknown = sorted(set(columns) - set(s.PLOTS.column_names))
        if unknown:
            raise UploadError(
                f"{where}: unknown canonical column {shown(unknown[0])}; known: {', '.join(ALIASES)}",
                where=where,
                key=f"columns.{unknown[0]}",
                line=doc.line("columns", unknown[0]),
            )
        units = _names(raw, "units", doc, where)
        for k, v in units.items():
            if k != s.AREA_HA or v not in AREA_UNITS:
                raise UploadError(
                    f"{where}: units: only area_ha can have a unit, one of {', '.join(AREA_UNITS)}",
                    where=where,
                    key=f"units.{k}",
                    line=doc.line("units", k),
                )
        value_maps = raw.get("values") or {}
        if not isinstance(value_maps, dict):
            raise UploadError(f"{where}: 'values' must map columns to value maps", where=where, line=doc.line("values"))
        values = {str(k): _names(value_maps, k, doc, where, ("values",)) for k in value_maps}
        return cls(columns, units, values)


def _read_file(path: Path) -> YamlDocument:
    if not path.is_file():
        raise UploadError(f"{path}: no such mapping file", where=str(path))
    if path.stat().st_size > MAX_MAPPING_BYTES:
        raise UploadError(
            f"{path}: {path.stat().st_size:,} bytes, more than the {MAX_MAPPING_BYTES:,} a mapping file may be; "
            "is this the right file?",
            where=str(path),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UploadError(f"{path}: not UTF-8 text; save the mapping file as UTF-8", where=str(path)) from None
    return read_yaml(text, where=str(path), error=UploadError, max_chars=MAX_MAPPING_BYTES)


def _names(
    raw: dict[str, Any], key: str, doc: YamlDocument, where: str, parent: tuple[str, ...] = ()
) -> dict[str, str]:
    """A section of plain names (``name: name``), or an UploadError naming the section and line."""
    section = raw.get(key) or {}
    path = (*parent, str(key))
    plain = (str, int, float)
    if not isinstance(section, dict) or not all(
        isinstance(k, plain) and isinstance(v, plain) for k, v in section.items()
    ):
        raise UploadError(
            f"{where}: '{'.'.join(path)}' must map names to names (e.g. local_ref: OBJEKT_ID)",
            where=where,
            key=".".join(path),
            line=doc.line(*path),
        )
    return {str(k): str(v) for k, v in section.items()}


def resolve_columns(file_columns: list[str], mapping: ColumnMapping) -> tuple[dict[str, str], dict[str, float]]:
    """Find the file's column for each canonical column.

    The mapping file's ``columns`` come first; then the built-in aliases, matched on
    :func:`normalise` d names (case, accents, spaces and punctuation do not matter).

    Returns
    -------
    found : dict
        canonical column → the file's column.
    factors : dict
        canonical column → unit factor to apply (only area).
    """
    lower: dict[str, str] = {}
    for c in file_columns:
        lower.setdefault(normalise(c), c)
    found: dict[str, str] = {}
    factors: dict[str, float] = {}
    for canonical, column in mapping.columns.items():
        if column not in file_columns:
            raise UploadError(
                f"the mapping names column {shown(column)} for {canonical}, but the file has no such column "
                f"(columns: {shown_list(list(file_columns))})",
                key=f"columns.{canonical}",
            )
        found[canonical] = column
    taken = set(found.values())
    for canonical, aliases in ALIASES.items():
        if canonical in found:
            continue
        free = {k: v for k, v in lower.items() if v not in taken}
        hit = next((free[a] for a in aliases if a in free), None)
        if hit is None:  # Shapefile field names are cut to 10 bytes: 'Användning' arrives as 'Användnin'
            hit = next((free[c] for a in aliases for c in free if _truncated(c) and a.startswith(c)), None)
        if hit is None and canonical == s.AREA_HA:
            hit = next((free[a] for a in AREA_M2_ALIASES if a in free), None)
            if hit is not None:
                factors[s.AREA_HA] = AREA_UNITS["m2"]
        if hit is not None:
            found[canonical] = hit
            taken.add(hit)
    if s.AREA_HA in mapping.units:
        factors[s.AREA_HA] = AREA_UNITS[mapping.units[s.AREA_HA]]
    return found, factors


def translate(canonical: str, text: str, mapping: ColumnMapping, municipality_name: str = "") -> str:
    """A category value as sitematch codes it: the mapping file's ``values`` first, then the built-in aliases.

    Values are matched on :func:`normalise` d text. An owner naming a municipality ("Västerås stad",
    "Sala kommun", the uploading municipality's own name) is ``kommun``; a plan use letter with an
    index ("J1") is the letter. A value neither knows is returned as it is (validation refuses it).

    Examples
    --------
    >>> m = ColumnMapping()
    >>> translate("zoning", "Industri", m), translate("owner", "Västerås stad", m)
    ('J', 'kommun')
    >>> translate("plan_status", "Laga kraft", m)
    'laga_kraft'
    """
    own = mapping.values.get(canonical, {})
    if text in own:
        return own[text]
    key = normalise(text)
    for k, v in own.items():
        if normalise(k) == key:
            return v
    if not key:
        return text
    hit = VALUE_ALIASES.get(canonical, {}).get(key)
    if hit is not None:
        return hit
    if canonical == s.OWNER:
        words = key.replace("_", " ")
        if MUNICIPAL_OWNER.match(words) or (municipality_name and key == normalise(municipality_name)):
            return "kommun"
    if canonical == s.ZONING:
        m = INDEXED_ZONING.match(key)
        if m:
            return m.group(1).upper()
    return text


def _truncated(column: str) -> bool:
    """Whether a column name looks cut at a Shapefile's 10-byte field-name limit."""
    return 8 <= len(column.encode("utf-8")) <= 10


def parse_bool(value: object) -> bool | None:
    """Read yes/no in Swedish or English; None when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = normalise(value)
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def parse_number(value: object) -> float | None:
    """Read a number, accepting a Swedish decimal comma and spaces as thousands separators.

    Returns None for an empty value; raises ValueError for text that is not a number.
    """
    if value is None:
        return None
    if isinstance(value, int | float):
        return None if value != value else float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if text == "" or text.lower() in ("nan", "null", "none", "<na>"):
        return None
    return float(text)
