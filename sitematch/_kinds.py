"""Layer kinds as data: a kind's geometry and columns, declared in YAML and read by one reader.

The built-in kinds are the packaged catalogue ``sitematch/kinds.yaml``; a region's ``layers.yaml``
declares more under ``kinds:`` (or in a layer entry with ``geometry`` and ``columns``); each
importer declares the kinds it writes in its own module. All are read by :class:`KindReader`,
which the catalogue reader (:mod:`sitematch.layers.catalogue`) extends, so the rules and the
error messages are the same everywhere::

    kinds:
      district_heating:
        geometry: LineString
        description: district heating network
        columns:
          network: str                               # required, text
          capacity_mw: {type: float, required: false, description: spare capacity}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from sitematch._suggest import did_you_mean
from sitematch._yaml import YamlDocument, read_yaml
from sitematch.errors import CatalogueError

SOURCE = "source"
LICENCE = "licence"

#: Geometry types a kind may hold, by the names a catalogue may write.
GEOMETRIES = {"point": "Point", "linestring": "LineString", "line": "LineString", "polygon": "Polygon"}
#: The geometry of a raster layer (a GeoTIFF read by the measures that use it, not held by the LayerSet).
RASTER = "Raster"
DTYPES = ("str", "float", "int", "bool", "date")
COLUMN_KEYS = ("type", "required", "description")
KIND_KEYS = ("geometry", "columns", "description")
#: The packaged catalogue of built-in kinds.
BUILTIN_KINDS_FILE = "kinds.yaml"


@dataclass(frozen=True)
class Column:
    """One canonical column of a layer.

    Parameters
    ----------
    name : str
        The column name, with its unit as a suffix where it has one.
    dtype : str
        One of ``"str"``, ``"float"``, ``"int"``, ``"bool"``, ``"date"``.
    required : bool
        Whether every row must have a value.
    description : str
        What the column holds, for the README and validation messages.
    """

    name: str
    dtype: str
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer kind: its name, geometry type and columns."""

    kind: str
    geometry_type: str  # "Point", "LineString", "Polygon" (multi-part accepted) or "Raster"
    columns: tuple[Column, ...]
    description: str = ""
    provenance: tuple[Column, ...] = field(
        default=(
            Column(SOURCE, "str", True, "where the row came from; says generalised/illustrative/example"),
            Column(LICENCE, "str", True, "licence of the source data"),
        )
    )

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Columns including the provenance columns, without geometry."""
        return self.columns + self.provenance

    @property
    def column_names(self) -> list[str]:
        """Names of :attr:`all_columns`."""
        return [c.name for c in self.all_columns]

    @property
    def required_names(self) -> list[str]:
        """Names of the columns every row must fill."""
        return [c.name for c in self.all_columns if c.required]


class KindReader:
    """Reads kind declarations from parsed YAML, raising errors that name the file, line and key."""

    def __init__(self, doc: YamlDocument, where: str) -> None:
        self.doc = doc
        self.where = where

    def fail(self, path: tuple[str, ...], message: str) -> CatalogueError:
        line = self.doc.line(*path)
        loc = f"{self.where}, line {line}" if line else self.where
        key = ".".join(path)
        return CatalogueError(
            f"{loc}: '{key}': {message}" if key else f"{loc}: {message}", where=self.where, key=key or None, line=line
        )

    def mapping(self, value: Any, path: tuple[str, ...], what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping of {what}")
        return {str(k): v for k, v in value.items()}

    def keys(self, raw: Mapping[str, Any], allowed: tuple[str, ...], path: tuple[str, ...]) -> None:
        for k in raw:
            if k not in allowed:
                raise self.fail((*path, k), f"unknown key.{did_you_mean(k, allowed)}")

    def prose(self, raw: Mapping[str, Any], key: str, path: tuple[str, ...]) -> str:
        """Free text (a description): a string, or nothing."""
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail((*path, key), f"expected text, got {value!r}")
        return (value or "").strip()

    def columns(self, raw: Any, path: tuple[str, ...]) -> tuple[Column, ...]:
        out = []
        for name, spec in self.mapping(raw, path, "column: type").items():
            cpath = (*path, name)
            if isinstance(spec, str):
                spec = {"type": spec}
            spec = self.mapping(spec, cpath, "type, required, description")
            self.keys(spec, COLUMN_KEYS, cpath)
            dtype = str(spec.get("type", "str"))
            if dtype not in DTYPES:
                raise self.fail((*cpath, "type"), f"unknown type {dtype!r}; use one of {', '.join(DTYPES)}")
            required = spec.get("required", True)
            if not isinstance(required, bool):
                raise self.fail((*cpath, "required"), f"expected true or false, got {required!r}")
            out.append(Column(name, dtype, required, str(spec.get("description") or "")))
        return tuple(out)

    def new_kind(self, kind: str, spec: Mapping[str, Any], path: tuple[str, ...], *, has_file: bool) -> LayerSchema:
        """A kind declared here: a lower-case name, a geometry, its columns."""
        if not kind.isidentifier() or not kind.islower():
            raise self.fail(path, "a layer kind is a lower-case name with underscores, e.g. district_heating")
        geometry = spec.get("geometry")
        if geometry is None:
            raise self.fail(path, "a new layer kind needs 'geometry': Point, LineString, Polygon or Raster")
        gtype = RASTER if str(geometry).lower() == "raster" else GEOMETRIES.get(str(geometry).lower())
        if gtype is None:
            raise self.fail(
                (*path, "geometry"), f"unknown geometry {geometry!r}; use Point, LineString, Polygon or Raster"
            )
        columns = self.columns(spec.get("columns"), (*path, "columns"))
        if gtype == RASTER and (columns or not has_file):
            raise self.fail(path, "a raster layer names its 'file' (a GeoTIFF) and has no 'columns'")
        return LayerSchema(kind, gtype, columns, self.prose(spec, "description", path) or kind)

    def extended(self, base: LayerSchema, spec: Mapping[str, Any], path: tuple[str, ...]) -> LayerSchema:
        """A known kind with the columns ``spec`` adds (its geometry may be restated, not changed)."""
        geometry = spec.get("geometry")
        if geometry is not None and GEOMETRIES.get(str(geometry).lower()) != base.geometry_type:
            raise self.fail((*path, "geometry"), f"'{base.kind}' layers hold {base.geometry_type}s")
        known = set(base.column_names)
        extra = tuple(c for c in self.columns(spec.get("columns"), (*path, "columns")) if c.name not in known)
        return LayerSchema(base.kind, base.geometry_type, base.columns + extra, base.description)

    def kinds(self, raw: Any, known: Mapping[str, LayerSchema], top: str = "kinds") -> dict[str, LayerSchema]:
        """The kinds declared under ``top``: new ones, or columns added to ``known`` ones."""
        out: dict[str, LayerSchema] = {}
        for kind, spec in self.mapping(raw, (top,), "kind: {geometry, columns}").items():
            path = (top, kind)
            spec = self.mapping(spec, path, "geometry, columns, description")
            self.keys(spec, KIND_KEYS, path)
            base = known.get(kind)
            out[kind] = self.extended(base, spec, path) if base else self.new_kind(kind, spec, path, has_file=False)
        return out


def parse_kinds(text: str, *, where: str, known: Mapping[str, LayerSchema] | None = None) -> dict[str, LayerSchema]:
    """The kinds a YAML text declares: a catalogue's ``kinds:``, or a mapping of kinds (an importer's).

    Examples
    --------
    >>> k = parse_kinds("schools: {geometry: Point, columns: {name: str}}", where="example")
    >>> k["schools"].geometry_type, k["schools"].column_names
    ('Point', ['name', 'source', 'licence'])
    """
    doc = read_yaml(text, where=where, error=CatalogueError)
    data = doc.data or {}
    reader = KindReader(doc, where)
    if isinstance(data, dict) and "kinds" in data:
        return reader.kinds(data["kinds"], known or {})
    if not isinstance(data, dict):
        raise reader.fail((), "expected a mapping of kind: {geometry, columns}")
    # A bare mapping of kinds: read as if under `kinds:` (line numbers from the same document).
    nested = "kinds:\n" + "".join(f"  {line}\n" for line in text.splitlines())
    doc = read_yaml(nested, where=where, error=CatalogueError)
    return KindReader(doc, where).kinds(doc.data["kinds"], known or {})


@cache
def builtin_kinds() -> dict[str, LayerSchema]:
    """The kinds built into sitematch: the packaged catalogue ``sitematch/kinds.yaml``."""
    resource = files("sitematch") / BUILTIN_KINDS_FILE
    return parse_kinds(resource.read_text(encoding="utf-8"), where=f"sitematch/{BUILTIN_KINDS_FILE}")
