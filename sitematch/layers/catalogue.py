"""A region's catalogue (``layers.yaml``): its layers, and criteria and parameters on them, as data.

A region is a folder holding layer files and a ``layers.yaml`` that names each layer — its kind,
file (and layer inside the file), geometry type, columns, ``source``, ``licence`` and date — and
may declare **new layer kinds** and **new criteria** on them, with no code change::

    name: Stockholm–Mälardalen (demo)
    layers:
      ports: {file: region.gpkg, layer: ports, source: "…", licence: "…", date: 2025-06-01}
      district_heating:                       # a new kind
        file: district_heating.geojson
        geometry: LineString
        columns: {network: str, operator: {type: str, required: false}}
        source: "Mälarenergi, district heating network (example)"
        licence: CC BY 4.0
        date: 2026-01-15
    parameters:
      heat_radius_m: {default: 3000, label: Heat connection radius}
    criteria:
      distance_to_district_heating_m:
        measure: nearest                      # attribute | nearest | aggregate | overlay | …
        layer: district_heating
        label: Distance to district heating

A profile may then write ``max_distance_to_district_heating_m: 2000`` or prefer the criterion,
exactly as for a built-in one. Every mistake gets a :class:`~sitematch.errors.CatalogueError`
naming the file, line and key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sitematch import schema as s
from sitematch._io import reduce_frozen
from sitematch._kinds import RASTER, KindReader
from sitematch._yaml import YamlDocument, read_yaml
from sitematch.criteria import BUILTIN, KINDS, Criterion, Parameter, Registry, unit_from_name
from sitematch.errors import CatalogueError
from sitematch.measures import measure_class

#: The catalogue's file name inside a region folder.
CATALOGUE_FILE = "layers.yaml"

TOP_KEYS = ("name", "description", "extends", "kinds", "layers", "criteria", "parameters")
LAYER_KEYS = ("file", "layer", "geometry", "columns", "source", "licence", "date", "date_from", "description")
#: ``extends: bundled`` names the region that ships inside the package.
BUNDLED = "bundled"
CRITERION_KEYS = (
    "measure",
    "label",
    "kind",
    "unit",
    "higher_is_better",
    "values",
    "short_label",
    "headline",
    "cost",
    "description",
)
PARAMETER_KEYS = ("default", "label", "unit", "description")
#: The non-spatial members table.
MEMBERS = "members"


@dataclass(frozen=True)
class LayerEntry:
    """One layer a catalogue names: where it is read from and what it holds.

    Attributes
    ----------
    kind : str
        The layer kind (a built-in one, or a new one the catalogue declares).
    schema : sitematch.schema.LayerSchema
        Its geometry type and columns (a built-in kind's, plus any columns the catalogue adds).
    file : pathlib.Path or None
        The file, resolved against the catalogue's folder.
    layer : str or None
        The layer inside the file (GeoPackage); default the only one, or the kind's name.
    source, licence, date : str or None
        Provenance; ``source`` and ``licence`` fill rows that carry none.
    """

    kind: str
    schema: s.LayerSchema
    file: Path | None = None
    layer: str | None = None
    source: str | None = None
    licence: str | None = None
    date: str | None = None
    description: str = ""
    #: Where the date came from (an import writes "import day", "the source…" or "the mapping's 'date'").
    date_from: str = ""


@dataclass(frozen=True)
class Region:
    """A region as data: its layers' catalogue, the registry of criteria on them, and their provenance.

    What the catalogue reader (:func:`read_catalogue`) gives. A :class:`~sitematch.layers.LayerSet`
    holds the layers read per a region (``layers.region``); the criteria :class:`Registry` is the
    region's, not the LayerSet's.

    Attributes
    ----------
    path : pathlib.Path or None
        The catalogue file it was read from (None: the built-in kinds and criteria only).
    name, description : str
        What the catalogue says the region is.
    layers : mapping of str to LayerEntry
        Each layer it names: where it is read from, its kind's schema, and its provenance
        (``source``, ``licence``, ``date`` and where the date came from).
    registry : sitematch.criteria.Registry
        The criteria and parameters a profile can use on these layers (built-in and declared).
    digest : str
        A hash of the catalogue text (and those it extends).
    kinds : mapping of str to LayerSchema
        Kinds declared under ``kinds:`` without a layer of their own.
    extends : tuple of str
        The catalogues this one extends, nearest first.
    """

    path: Path | None
    name: str = ""
    description: str = ""
    layers: Mapping[str, LayerEntry] = field(default_factory=dict)
    registry: Registry = BUILTIN
    digest: str = ""
    #: Kinds the catalogue (or one it extends) declares under ``kinds:``, without a layer of their own.
    kinds: Mapping[str, s.LayerSchema] = field(default_factory=dict)
    #: The catalogues this one extends, nearest first.
    extends: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", MappingProxyType(dict(self.layers)))
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return reduce_frozen(self)

    def schema(self, kind: str) -> s.LayerSchema | None:
        """The schema of a kind: the catalogue's entry, else the built-in kind's, else None."""
        entry = self.layers.get(kind)
        if entry is not None:
            return entry.schema
        return self.kinds.get(kind) or s.LAYERS.get(kind)


#: The name the region's catalogue had before it held the registry as a :class:`Region`.
Catalogue = Region


class _Reader(KindReader):
    """Builds a Region from parsed YAML, raising errors that name the line and key.

    The layer-kind part (``kinds:``, a layer's ``geometry`` and ``columns``) is
    :class:`sitematch._kinds.KindReader`'s, the reader of the packaged built-in kinds.
    """

    def __init__(self, doc: YamlDocument, where: str, base: Path | None) -> None:
        super().__init__(doc, where)
        self.base = base
        self.declared: dict[str, s.LayerSchema] = {}

    def text(self, raw: Mapping[str, Any], key: str, path: tuple[str, ...]) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail((*path, key), f"expected text, got {value!r}")
        return str(value)

    # -- layers ----------------------------------------------------------------------------------
    def layer(self, kind: str, raw: Any) -> LayerEntry:
        path = ("layers", kind)
        spec = self.mapping(raw, path, "file, layer, geometry, columns, source, licence, date")
        self.keys(spec, LAYER_KEYS, path)
        known = self.declared.get(kind) or s.LAYERS.get(kind)
        if kind == MEMBERS:
            schema = s.LayerSchema(MEMBERS, "None", s.MEMBERS_COLUMNS, "members table", provenance=())
        elif known is not None:
            schema = self.extended(known, spec, path)
        else:
            schema = self.new_kind(kind, spec, path, has_file=spec.get("file") is not None)
        file = self.text(spec, "file", path)
        if file is None:
            raise self.fail(path, "missing 'file': the file the layer is read from (relative to this catalogue)")
        resolved = Path(file) if Path(file).is_absolute() or self.base is None else self.base / file
        return LayerEntry(
            kind,
            schema,
            resolved,
            self.text(spec, "layer", path),
            self.text(spec, "source", path),
            self.text(spec, "licence", path),
            self.text(spec, "date", path),
            self.prose(spec, "description", path),
            self.prose(spec, "date_from", path),
        )

    # -- parameters and criteria -----------------------------------------------------------------
    def parameters(self, raw: Any) -> dict[str, Parameter]:
        out = {}
        for name, spec in self.mapping(raw, ("parameters",), "name: {default, label}").items():
            path = ("parameters", name)
            if name in BUILTIN.parameters:
                raise self.fail(path, "is already declared (built-in); give the new parameter another name")
            spec = self.mapping(spec, path, "default, label, unit, description")
            self.keys(spec, PARAMETER_KEYS, path)
            default = spec.get("default")
            if isinstance(default, bool) or not isinstance(default, int | float) or not math.isfinite(default):
                raise self.fail((*path, "default"), f"expected a finite number, got {default!r}")
            unit = self.text(spec, "unit", path) or unit_from_name(name)
            if unit is None:
                raise self.fail(path, "put the unit in the name (e.g. heat_radius_m) or give 'unit'")
            out[name] = Parameter(
                name,
                float(default),
                self.text(spec, "label", path) or name.replace("_", " "),
                unit,
                self.prose(spec, "description", path),
                origin=self.where,
            )
        return out

    def names(self, criteria: Mapping[str, Criterion], layers: Region) -> None:
        """No declared criterion or companion column may take a name the result already uses."""
        plots = layers.schema("plots")
        taken = {*s.RESULT_COLUMNS, *(plots.column_names if plots else ()), s.GEOMETRY}
        for c in BUILTIN:
            taken |= {c.name, *c.measure.extra_columns()}
        for name, c in criteria.items():
            for new, key in ((name, ()), *((extra, ("names_as",)) for extra in c.measure.extra_columns())):
                if not isinstance(new, str) or not new.isidentifier():
                    raise self.fail(("criteria", name, *key), f"{new!r} is not a column name (letters, digits, _)")
                if new in taken or new.startswith(s.RESULT_PREFIXES):
                    raise self.fail(
                        ("criteria", name, *key),
                        f"'{new}' is a name the plots or the results already use; pick another",
                    )
                taken.add(new)

    def criterion(self, name: str, raw: Any, parameters: Mapping[str, Parameter], layers: Region) -> Criterion:
        path = ("criteria", name)
        if name in BUILTIN:
            raise self.fail(path, "is already declared (built-in); give the new criterion another name")
        spec = self.mapping(raw, path, "measure and its keys")
        if "measure" not in spec:
            raise self.fail(path, "missing 'measure' (attribute, nearest, aggregate or overlay)")
        try:
            cls = measure_class(str(spec["measure"]))
        except CatalogueError as exc:
            raise self.fail((*path, "measure"), str(exc)) from None
        self.keys(spec, CRITERION_KEYS + cls.keys, path)
        measure = cls.from_spec(
            {k: v for k, v in spec.items() if k in cls.keys}, path, self.fail, parameters=tuple(parameters)
        )
        measure.check(layers.schema, path, self.fail)
        rasters = [k for k in measure.layers() if (sch := layers.schema(k)) is not None and sch.geometry_type == RASTER]
        if rasters and not getattr(measure, "reads_rasters", False):
            raise self.fail((*path, "layer"), f"'{rasters[0]}' is a raster layer; measure it with 'measure: zonal'")
        kind = str(spec.get("kind") or measure.default_kind())
        if kind not in KINDS:
            raise self.fail((*path, "kind"), f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        self.types(path, measure, kind, layers)
        unit = self.text(spec, "unit", path)
        if kind == "numeric" and unit is None and unit_from_name(name) is None:
            raise self.fail(path, "a numeric criterion carries its unit in its name (e.g. …_m, …_mw, …_ha, …_share)")
        if not name.isidentifier() or not name.islower():
            raise self.fail(path, "a criterion name is lower-case with underscores, e.g. distance_to_school_m")
        flags = {}
        for key in ("higher_is_better", "headline"):
            if key in spec and not isinstance(spec[key], bool):
                raise self.fail((*path, key), f"expected true or false, got {spec[key]!r}")
            flags[key] = spec.get(key)
        cost = spec.get("cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int) or cost < 0):
            raise self.fail((*path, "cost"), f"expected a whole number ≥ 0, got {cost!r}")
        if cost is None:
            layer_schema = layers.schema(measure.layers()[0]) if measure.layers() else None
            cost = measure.default_cost(layer_schema.geometry_type if layer_schema else None)
        values = spec.get("values") or []
        if not isinstance(values, list) or any(isinstance(v, dict | list) for v in values):
            raise self.fail((*path, "values"), "expected a list of allowed values")
        higher = flags["higher_is_better"]
        return Criterion(
            name,
            kind,
            self.text(spec, "label", path) or name.replace("_", " ").capitalize(),
            measure,
            unit=unit or "",
            higher_is_better=measure.default_higher_is_better() if higher is None else higher,
            values=tuple(str(v) for v in values),
            short_label=self.text(spec, "short_label", path) or "",
            headline=bool(flags["headline"]),
            cost=cost,
            description=self.prose(spec, "description", path) or measure.describe(),
            origin=self.where,
        )

    def types(self, path: tuple[str, ...], measure: Any, kind: str, layers: Region) -> None:
        """The measure's kind, columns and where-conditions fit the layer's column types."""
        given = measure.default_kind()
        if measure.name != "attribute" and kind != given:
            raise self.fail((*path, "kind"), f"a '{measure.name}' measure gives a {given} value; kind must be {given}")
        spec = measure.spec()
        schema = layers.schema(spec.get("layer", "plots"))
        if schema is None:
            return
        dtypes = {c.name: c.dtype for c in schema.all_columns}
        column = spec.get("column")
        needs = {"numeric": ("float", "int"), "flag": ("bool",)}.get(kind) if measure.name == "attribute" else None
        if measure.name == "aggregate" and spec.get("how") != "count":
            needs = ("float", "int")
        if column and needs and dtypes.get(column) not in needs:
            raise self.fail(
                (*path, "column"), f"'{column}' holds {dtypes.get(column)} values; this needs {' or '.join(needs)}"
            )
        for clause in getattr(measure, "where", ()):
            dtype = dtypes.get(clause.column)
            value: Any = clause.value if clause.parameter is None else 0.0
            sample = value[0] if clause.op == "in" and value else value
            wants = "bool" if isinstance(sample, bool) else ("number" if isinstance(sample, float) else "str")
            has = {"float": "number", "int": "number", "bool": "bool"}.get(dtype or "", "str")
            if dtype is not None and wants != has:
                raise self.fail(
                    (*path, "where"), f"'{clause.text()}' compares {clause.column} ({dtype}) with a {wants}"
                )

    def parent(self, raw: Mapping[str, Any], chain: tuple[Path, ...]) -> Region | None:
        """The catalogue ``extends:`` names (``bundled``, or a region folder or file relative to this one)."""
        value = raw.get("extends")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(("extends",), f"expected '{BUNDLED}' or the path of a region folder, got {value!r}")
        if value.strip() == BUNDLED:
            from sitematch.settings import bundled_region

            path = bundled_region()
        else:
            path = Path(value).expanduser()
            path = (path if path.is_absolute() or self.base is None else self.base / path).resolve()
        path = path / CATALOGUE_FILE if path.is_dir() or path.suffix.lower() not in (".yaml", ".yml") else path
        if not path.is_file():
            raise self.fail(("extends",), f"{path}: no such catalogue (a region folder with {CATALOGUE_FILE})")
        if path.resolve() in chain:
            raise self.fail(("extends",), f"{path} extends, through others, this catalogue: a loop")
        try:
            return read_catalogue(path, _chain=chain)
        except CatalogueError as exc:
            raise self.fail(("extends",), f"the catalogue it extends is invalid: {exc}") from None

    def catalogue(self, chain: tuple[Path, ...] = ()) -> Region:
        raw = self.doc.data
        if raw is None:
            raise self.fail((), "the catalogue is empty; it needs at least 'layers'")
        if not isinstance(raw, dict):
            raise self.fail((), "a catalogue is a YAML mapping with 'layers' (and 'criteria', 'parameters')")
        raw = {str(k): v for k, v in raw.items()}
        self.keys(raw, TOP_KEYS, ())
        parent = self.parent(raw, chain)
        inherited: dict[str, LayerEntry] = dict(parent.layers) if parent else {}
        if parent:
            self.declared = {**parent.kinds, **{k: e.schema for k, e in inherited.items() if k != MEMBERS}}
        kinds = self.kinds(raw.get("kinds"), {**s.LAYERS, **self.declared})
        self.declared.update(kinds)
        own = {
            kind: self.layer(kind, spec)
            for kind, spec in self.mapping(raw.get("layers"), ("layers",), "layers").items()
        }
        entries = {**inherited, **own}
        if not entries and not kinds:
            raise self.fail(("layers",), "declare at least one layer")
        base_registry = BUILTIN
        if parent is not None:  # the extended catalogue's criteria and parameters (this one may replace them)
            mine = set(self.mapping(raw.get("criteria"), ("criteria",), "criteria"))
            mine |= set(self.mapping(raw.get("parameters"), ("parameters",), "parameters"))
            base_registry = BUILTIN.extended(
                {c.name: c for c in parent.registry if c.name not in BUILTIN and c.name not in mine},
                {n: p for n, p in parent.registry.parameters.items() if n not in BUILTIN.parameters and n not in mine},
                where=str(parent.path),
            )
        params = self.parameters(raw.get("parameters"))
        all_kinds = {**(parent.kinds if parent else {}), **kinds}
        plain = Region(
            self.base, layers=entries, registry=base_registry.extended({}, params, where=self.where), kinds=all_kinds
        )
        all_params = {**base_registry.parameters, **params}
        criteria = {
            name: self.criterion(name, spec, all_params, plain)
            for name, spec in self.mapping(raw.get("criteria"), ("criteria",), "criteria").items()
        }
        self.names(criteria, plain)
        registry = base_registry.extended(criteria, params, where=self.where)
        return Region(
            self.base,
            name=self.text(raw, "name", ()) or (parent.name if parent else ""),
            description=str(raw.get("description") or (parent.description if parent else "")),
            layers=entries,
            registry=registry,
            digest=parent.digest if parent else "",
            kinds=all_kinds,
            extends=(str(parent.path), *parent.extends) if parent else (),
        )


def parse_catalogue(
    text: str, *, where: str = "<catalogue>", base: Path | None = None, _chain: tuple[Path, ...] = ()
) -> Region:
    """Validate a catalogue given as YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        What to call it in error messages.
    base : pathlib.Path, optional
        The folder its relative file names are resolved against.

    Returns
    -------
    Catalogue
        Its layers, and the registry of built-in and declared criteria.

    Raises
    ------
    CatalogueError
        Naming the line and key of the first mistake.

    Examples
    --------
    >>> cat = parse_catalogue('''
    ... layers:
    ...   schools: {file: schools.geojson, geometry: Point, columns: {name: str}}
    ... criteria:
    ...   distance_to_school_m: {measure: nearest, layer: schools, label: Distance to school}
    ... ''')
    >>> cat.registry["distance_to_school_m"].label, cat.schema("schools").geometry_type
    ('Distance to school', 'Point')
    """
    doc = read_yaml(text, where=where, error=CatalogueError)
    cat = _Reader(doc, where, base).catalogue(_chain)
    digest = hashlib.sha256((text + cat.digest).encode("utf-8")).hexdigest()  # cat.digest: the extended one's
    return Region(
        cat.path, cat.name, cat.description, cat.layers, cat.registry, digest, kinds=cat.kinds, extends=cat.extends
    )


def read_catalogue(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> Region:
    """Read a region's ``layers.yaml``.

    Parameters
    ----------
    path : str or pathlib.Path
        The catalogue file, or the folder holding ``layers.yaml``.

    Returns
    -------
    Catalogue
        With ``path`` set to the folder the catalogue is in.

    Raises
    ------
    CatalogueError
        If the file is missing, unreadable or invalid.

    Examples
    --------
    >>> read_catalogue("layers").registry["distance_to_port_m"].measure.layer
    'ports'
    """
    path = Path(path)
    if path.is_dir():
        path = path / CATALOGUE_FILE
    if not path.is_file():
        raise CatalogueError(f"{path}: no such catalogue file", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: not a UTF-8 text file", where=str(path)) from None
    return parse_catalogue(text, where=str(path), base=path.parent, _chain=(*_chain, path.resolve()))


def region_registry(layers: str | Path | None = None) -> Registry:
    """The criteria a region offers: its catalogue's if it has one (read without loading the layers), else built-in.

    Parameters
    ----------
    layers : str or pathlib.Path, optional
        A region path, as :func:`sitematch.layers.region.open_region` takes (default
        :func:`sitematch.settings.layers_path`).

    Returns
    -------
    sitematch.criteria.Registry

    Examples
    --------
    >>> "distance_to_port_m" in region_registry()
    True
    """
    from sitematch import settings

    path = Path(layers) if layers else settings.layers_path()
    if path.name == CATALOGUE_FILE or (path / CATALOGUE_FILE).is_file():
        return read_catalogue(path).registry
    return BUILTIN
