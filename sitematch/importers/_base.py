"""What every importer shares: the base class, the editable mapping, the report, reading and reprojecting."""

from __future__ import annotations

import contextlib
import copy
import difflib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from sitematch._yaml import read_yaml
from sitematch.crs import describe_crs, to_working_crs
from sitematch.errors import LayerError, SitematchError

log = logging.getLogger(__name__)

#: Called as work goes on: (what is being done, how much is done, how much there is or None).
Progress = Callable[[str, int, int | None], None]

#: Keys every mapping may have; an importer adds its own in ``mapping_keys``.
MAPPING_KEYS = ("columns", "values", "defaults", "source", "licence", "date", "options")


class SourceError(SitematchError, ValueError):
    """A source file or its mapping cannot be imported: the message says which field or key and how to fix it."""


@dataclass
class ImportedLayer:
    """A layer an importer made: canonical columns, EPSG:3006, with its provenance for the catalogue."""

    kind: str
    frame: gpd.GeoDataFrame
    source: str
    licence: str
    date: str | None = None
    description: str = ""
    #: Where the date came from: "mapping", "source: <what in the file>" or "import day".
    date_from: str = ""


@dataclass
class ImportReport:
    """What an import read, wrote, dropped and could not map.

    Examples
    --------
    >>> r = ImportReport("ebh")
    >>> r.drop("contaminated_sites", 2, "no geometry")
    >>> r.lines()
    ['dropped 2 contaminated_sites row(s): no geometry']
    """

    source: str
    read: dict[str, int] = field(default_factory=dict)
    written: dict[str, tuple[int, str]] = field(default_factory=dict)
    dropped: list[tuple[str, int, str]] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    catalogue: str = ""

    def drop(self, what: str, n: int, reason: str) -> None:
        """Record ``n`` rows of ``what`` left out, and why (nothing when n is 0)."""
        if n:
            self.dropped.append((what, int(n), reason))
            log.info("dropped %d %s: %s", n, what, reason)

    def note(self, text: str) -> None:
        """Record something the user should know."""
        self.notes.append(text)
        log.info("%s", text)

    def lines(self) -> list[str]:
        """The report as lines of plain text (for a terminal, a log)."""
        out = [f"read {n:,} {what}" for what, n in self.read.items()]
        out += [f"wrote {n:,} row(s) to {kind} ({file})" for kind, (n, file) in self.written.items()]
        out += [f"dropped {n:,} {what} row(s): {why}" for what, n, why in self.dropped]
        out += [f"not mapped in {what}: {', '.join(cols)}" for what, cols in self.unmapped.items() if cols]
        out += self.notes
        if self.criteria:
            out.append(f"criteria added to the catalogue: {', '.join(self.criteria)}")
        if self.catalogue:
            out.append(f"catalogue: {self.catalogue}")
        return out


def merge_mapping(default: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The default mapping with a user's mapping laid over it, one level deep.

    Examples
    --------
    >>> merge_mapping({"columns": {"a": "A", "b": "B"}, "licence": "CC0"}, {"columns": {"b": "Bee"}})
    {'columns': {'a': 'A', 'b': 'Bee'}, 'licence': 'CC0'}
    """
    out = copy.deepcopy(dict(default))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def read_mapping(path: Path, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Read a user's mapping file (YAML), refusing unknown top-level keys."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the mapping file: {exc}", where=str(path), option="mapping") from None
    doc = read_yaml(text, where=str(path), error=SourceError)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise SourceError(f"{path}: a mapping file is a YAML mapping ({', '.join(allowed)})", where=str(path))
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            did = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(allowed)}."
            line = doc.line(str(key))
            raise SourceError(
                f"{path}, line {line}: unknown key '{key}'.{did}", where=str(path), key=str(key), line=line
            )
    return data


class Importer(ABC):
    """One national source: reads its files and maps them to canonical layers.

    Subclasses set :attr:`name`, :attr:`title`, :attr:`licence`, :attr:`source` and
    :attr:`default_mapping`, declare what they write (:attr:`writes`, and the new kinds among them
    in :attr:`kinds`) and what it brings (:attr:`criteria`, :attr:`parameters`), and implement
    :meth:`read`. Defining the class registers it by name
    (:data:`sitematch.importers._registry.IMPORTERS`): one module is the whole importer.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    licence: ClassVar[str]
    default_mapping: ClassVar[dict[str, Any]] = {}
    mapping_keys: ClassVar[tuple[str, ...]] = ()
    #: File suffixes the importer reads (for messages).
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: The layer kinds it writes (built-in ones, or ones an importer declares in :attr:`kinds`).
    writes: ClassVar[tuple[str, ...]] = ()
    #: New layer kinds it declares: YAML in the catalogue's ``kinds:`` format (kind: geometry, columns).
    kinds: ClassVar[str] = ""
    #: Criteria its kinds bring: name → (the kinds they need, the catalogue declaration).
    criteria: ClassVar[dict[str, tuple[tuple[str, ...], dict[str, Any]]]] = {}
    #: Parameters those criteria use: name → catalogue declaration.
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            from sitematch.importers._registry import register

            register(cls)

    def __init__(
        self,
        mapping: Mapping[str, Any] | None = None,
        crs: CRS | None = None,
        progress: Progress | None = None,
        report: ImportReport | None = None,
    ) -> None:
        self.mapping = merge_mapping(self.default_mapping, mapping or {})
        self.crs = crs
        self.progress: Progress = progress or (lambda _what, _done, _total: None)
        self.report = report or ImportReport(self.name)
        #: Dates the source's files state, with what states them (file header, metadata).
        self.source_dates: list[tuple[str, str]] = []
        #: Where :meth:`provenance` took the date from.
        self.date_from = ""

    @classmethod
    def allowed_mapping_keys(cls) -> tuple[str, ...]:
        """Top-level keys a mapping file for this importer may have."""
        return MAPPING_KEYS + cls.mapping_keys

    @abstractmethod
    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        """Read the source files; return the canonical layers (EPSG:3006). ``out`` is the region folder."""

    # -- helpers for subclasses -------------------------------------------------------------------
    def option(self, key: str, default: Any = None) -> Any:
        """An importer option from the mapping's ``options``."""
        return (self.mapping.get("options") or {}).get(key, default)

    def provenance(self, default_date: str | None = None, date_from: str = "the source") -> tuple[str, str, str | None]:
        """``source``, ``licence`` and date for the layers: the mapping's, else the importer's.

        The date is the mapping's ``date``, else ``default_date`` (what the importer read from the
        source: ``date_from`` says where), else the newest date the files' metadata state
        (:attr:`source_dates`), else None (:func:`sitematch.importers.import_files` then dates the
        layers by the import day). :attr:`date_from` records which.
        """
        if self.mapping.get("date"):
            date, self.date_from = str(self.mapping["date"]), "the mapping's 'date'"
        elif default_date:
            date, self.date_from = str(default_date), date_from
        elif self.source_dates:
            date, what = max(self.source_dates)
            self.date_from = what
        else:
            date, self.date_from = None, ""
        return str(self.mapping.get("source") or self.source), str(self.mapping.get("licence") or self.licence), date

    def read_vector(self, path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
        """Read a vector file with GDAL; a file without a CRS takes the one given (``crs``) or is refused."""
        if not path.is_file():
            raise SourceError(f"{path}: no such file", where=str(path))
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise SourceError(f"{path}: cannot be read ({exc})", where=str(path)) from None
        self.report.read[f"features from {path.name}" + (f" (layer {layer})" if layer else "")] = len(gdf)
        changed = gpkg_last_change(path, layer)
        if changed:
            self.source_dates.append((changed, f"{path.name}'s GeoPackage metadata (last_change)"))
        return self.with_crs(gdf, str(path))

    def with_crs(self, gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
        """``gdf`` with the CRS given to the import where it has none; a conflicting one is refused."""
        if gdf.crs is None and self.crs is not None:
            return gdf.set_crs(self.crs)
        if gdf.crs is not None and self.crs is not None and not gdf.crs.equals(self.crs):
            raise SourceError(
                f"{what} declares {describe_crs(gdf.crs)}, but the import was told {describe_crs(self.crs)}.",
                where=what,
                hint="Leave the CRS out to use the file's own, or fix the file.",
                option="crs",
            )
        return gdf

    def to_working(self, gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
        """Reproject to EPSG:3006 (refusing a missing CRS or one that puts the rows outside Sweden)."""
        try:
            return to_working_crs(gdf, what=what)
        except LayerError:
            raise
        except ValueError as exc:  # pragma: no cover - pyproj failures on broken CRS definitions
            raise SourceError(f"{what}: cannot be reprojected: {exc}", where=what, option="crs") from None

    def map_columns(self, frame: pd.DataFrame, wanted: Iterable[str], what: str) -> pd.DataFrame:
        """Canonical columns from the source's fields, through the mapping's ``columns``/``values``/``defaults``.

        ``columns`` maps a canonical column to a source field or a list of candidate fields (the
        first present wins; names are also matched regardless of case). ``values`` maps source
        values to canonical ones; ``defaults`` fills a column no field maps to. Source fields
        nothing maps are listed in the report.
        """
        columns = self.mapping.get("columns") or {}
        values = self.mapping.get("values") or {}
        defaults = self.mapping.get("defaults") or {}
        by_lower = {str(c).lower(): c for c in frame.columns}
        out = pd.DataFrame(index=frame.index)
        used: set[str] = set()
        for col in wanted:
            candidates = columns.get(col, [])
            candidates = [candidates] if isinstance(candidates, str) else list(candidates)
            found = next((by_lower[c.lower()] for c in candidates if c.lower() in by_lower), None)
            if found is None:
                if col in defaults:
                    out[col] = defaults[col]
                elif candidates:
                    self.report.note(f"{what}: no field for '{col}' (looked for {', '.join(candidates)})")
                    out[col] = pd.NA
                continue
            used.add(found)
            series = frame[found]
            if col in values:
                table = {str(k): v for k, v in values[col].items()}
                mapped = series.map(lambda v, t=table: t.get(str(v), v) if pd.notna(v) else v)
                series = mapped
            out[col] = series
        geometry = getattr(frame, "_geometry_column_name", None)
        self.report.unmapped[what] = [str(c) for c in frame.columns if c not in used and c != geometry]
        return out


def note_extent(report: ImportReport, lines: Any) -> str:
    """Record a road network's extent (its bounding box, EPSG:3006): drive times are unknown outside it.

    Returns the extent in words, for the layer's catalogue description.
    """
    import shapely

    xmin, ymin, xmax, ymax = shapely.total_bounds(lines)
    extent = f"extent (EPSG:3006) E {xmin:.0f}–{xmax:.0f}, N {ymin:.0f}–{ymax:.0f}"
    report.note(
        f"road network extent (EPSG:3006): E {xmin:,.0f}–{xmax:,.0f}, N {ymin:,.0f}–{ymax:,.0f}; "
        "plots farther from it than the road graph's access limit get an unknown drive time"
    )
    return extent


def gpkg_last_change(path: Path, layer: str | None = None) -> str | None:
    """The date a GeoPackage's metadata says its layer last changed (``gpkg_contents.last_change``), or None."""
    if path.suffix.lower() != ".gpkg":
        return None
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
    except sqlite3.Error:
        return None
    dates = [str(d)[:10] for name, d in rows if d and (layer is None or name == layer)]
    return max(dates) if dates else None


def need_columns(frame: pd.DataFrame, required: Iterable[str], what: str, mapping_hint: str) -> None:
    """Refuse a source in which required canonical columns could not be mapped, naming all of them."""
    missing = [c for c in required if c not in frame.columns or frame[c].isna().all()]
    if missing:
        raise SourceError(
            f"{what}: found no field for {', '.join(missing)}.",
            where=what,
            hint=f"Say which field holds each in a mapping file: columns: {{{missing[0]}: FIELD}} ({mapping_hint}).",
            option="mapping",
        )
