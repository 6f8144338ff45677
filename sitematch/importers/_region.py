"""Writing imported layers into a region folder and creating or updating its catalogue (``layers.yaml``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import yaml

from sitematch import schema as s
from sitematch._io import atomic_target, for_ogr, write_text_atomic
from sitematch._yaml import read_yaml
from sitematch.errors import CatalogueError
from sitematch.importers._base import ImportedLayer, ImportReport, Progress, SourceError
from sitematch.importers._registry import brought, importer_kinds, parameters_brought
from sitematch.layers.catalogue import CATALOGUE_FILE, Catalogue, parse_catalogue
from sitematch.layers.layerset import validate_layer

log = logging.getLogger(__name__)

_HEADER = (
    "# A sitematch region catalogue. `sitematch layers import` adds and updates the layers it imports and the\n"
    "# criteria they bring; everything else here (your own layers, criteria and edits) is kept.\n"
)


def _dtype(series: pd.Series) -> str:
    kind = series.dtype.kind
    if str(series.dtype) == "boolean" or kind == "b":
        return "bool"
    if kind in "iu" or str(series.dtype) == "Int64":
        return "int"
    if kind == "f":
        return "float"
    if kind == "M":
        return "date"
    return "str"


def _kind(kind: str, source: str, known: Catalogue | None) -> s.LayerSchema:
    """The schema of a kind an importer wrote: built in, declared by an importer, or by the region."""
    schema = s.LAYERS.get(kind) or importer_kinds().get(kind) or (known.schema(kind) if known else None)
    if schema is None:
        raise SourceError(
            f"{source}: wrote layer kind '{kind}', which neither sitematch nor any importer declares.",
            hint=f"Declare it in the importer's module (kinds: {kind}: geometry and columns).",
        )
    return schema


def _entry(layer: ImportedLayer, schema: s.LayerSchema) -> dict[str, Any]:
    """The catalogue entry of an imported layer: file, geometry and columns where the kind is new, provenance."""
    kind = layer.kind
    builtin = s.LAYERS.get(kind)
    known = set(schema.column_names)
    columns: dict[str, Any] = {}
    if builtin is None:
        for c in schema.columns:
            spec: dict[str, Any] = {"type": c.dtype} if c.required else {"type": c.dtype, "required": False}
            if c.description:
                spec["description"] = c.description
            columns[c.name] = spec if len(spec) > 1 else c.dtype
    for col in layer.frame.columns:
        if col not in known and col != layer.frame.geometry.name:
            columns[str(col)] = {"type": _dtype(layer.frame[col]), "required": False}
    entry: dict[str, Any] = {"file": f"{kind}.gpkg", "layer": kind}
    if builtin is None:
        entry["geometry"] = schema.geometry_type
    if columns:
        entry["columns"] = columns
    entry["source"] = layer.source
    entry["licence"] = layer.licence
    if layer.date:
        entry["date"] = str(layer.date)
    if layer.date_from:
        entry["date_from"] = layer.date_from
    entry["description"] = layer.description or (schema.description if builtin is None else f"{kind}, imported")
    return entry


def _for_gpkg(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer and boolean columns as GDAL writes them typed (``for_ogr`` writes them as text)."""
    out = for_ogr(frame)
    for col in frame.columns:
        dtype = str(frame[col].dtype)
        if dtype in ("Int64", "boolean") and not frame[col].isna().any():
            out[col] = frame[col].astype("int64" if dtype == "Int64" else "bool")
        elif dtype == "Int64":
            out[col] = frame[col].astype("float64")
    return out


def _existing(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    doc = read_yaml(path.read_text(encoding="utf-8"), where=str(path), error=CatalogueError)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: not a catalogue (a YAML mapping with 'layers')", where=str(path))
    return data


def write_region(
    out: Path, layers: list[ImportedLayer], report: ImportReport, progress: Progress | None = None
) -> Path:
    """Write ``layers`` into the region folder ``out`` and create or update its catalogue.

    Each layer goes to ``<kind>.gpkg`` (replacing an earlier import of the kind); its catalogue
    entry is replaced, every other entry is kept, and the criteria the region's kinds now bring
    (declared in the importers' modules) are added where not declared yet. The new catalogue
    and every layer are validated before anything is written.

    Returns
    -------
    pathlib.Path
        The catalogue file.

    Raises
    ------
    CatalogueError
        If the existing catalogue is invalid (it is left as it was).
    LayerError
        If a layer does not meet its schema.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cat_path = out / CATALOGUE_FILE
    data = _existing(cat_path)
    # What the region already has, the catalogues it extends included (``extends: bundled``).
    before = parse_catalogue(cat_path.read_text(encoding="utf-8"), where=str(cat_path), base=out) if data else None
    data.setdefault("name", f"Region imported by sitematch ({out.name})")
    entries = dict(data.get("layers") or {})
    for layer in layers:
        entries[layer.kind] = _entry(layer, _kind(layer.kind, report.source, before))
    data["layers"] = entries
    criteria = dict(data.get("criteria") or {})
    inherited = set(before.layers) if before else set()
    declared = {c.name for c in before.registry} if before else set()
    added = brought(set(entries) | inherited, set(criteria) | declared)
    params = dict(data.get("parameters") or {})
    known_params = set(before.registry.parameters) if before else set()
    offered = parameters_brought()
    for spec in added.values():
        name = spec.get("radius_parameter") or spec.get("limit_min")
        if isinstance(name, str) and name in offered and name not in params and name not in known_params:
            params[name] = dict(offered[name])
    if params:
        data["parameters"] = params
    data["criteria"] = {**criteria, **added}
    text = _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    catalogue = parse_catalogue(text, where=str(cat_path), base=out)
    frames = []
    for layer in layers:
        frame = layer.frame.copy()
        for col, value in ((s.SOURCE, layer.source), (s.LICENCE, layer.licence)):
            frame[col] = frame[col].where(frame[col].notna(), value) if col in frame.columns else value
        schema = catalogue.schema(layer.kind)
        frames.append(validate_layer(frame, layer.kind, what=f"imported {layer.kind}", schema=schema))
    for i, (layer, frame) in enumerate(zip(layers, frames, strict=True)):
        if progress is not None:
            progress(f"writing {layer.kind}", i, len(layers))
        target = out / f"{layer.kind}.gpkg"
        with atomic_target(target) as tmp:
            pyogrio.write_dataframe(_for_gpkg(frame), tmp, layer=layer.kind, driver="GPKG")
        report.written[layer.kind] = (len(frame), target.name)
    write_text_atomic(cat_path, text)
    report.criteria = list(added)
    report.catalogue = str(cat_path)
    log.info("wrote %d layer(s) and %s", len(layers), cat_path)
    return cat_path
