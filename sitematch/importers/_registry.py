"""Importers registered by name, the way pygeoapi registers its plugins: one table, filled by modules.

Every module in ``sitematch/importers/`` whose name does not start with ``_`` (and is not the
``cli``) is imported on first lookup; each :class:`~sitematch.importers.Importer` subclass that
sets a ``name`` registers itself. Adding an importer is adding one module: it declares the layer
kinds it writes (``kinds``, YAML in the catalogue's format, and ``writes``) and the criteria and
parameters those kinds bring (``criteria``, ``parameters``) in that module.

An importer outside the package is named by its dotted path, ``package.module`` (the one importer
class defined there) or ``package.module:Class`` — as pygeoapi names a provider by
``package.module.Class`` — and then registers itself the same way.

This module does not import geopandas: the CLI's help lists the sources cheaply enough.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitematch._kinds import LayerSchema
    from sitematch.importers._base import Importer

#: Importer classes by the name ``sitematch layers import`` takes.
IMPORTERS: dict[str, type[Importer]] = {}
_NOT_IMPORTERS = ("cli",)
_discovered = False


def register(cls: type[Importer]) -> None:
    """Make an importer available under ``cls.name`` (called by ``Importer.__init_subclass__``)."""
    IMPORTERS[cls.name] = cls


def discover() -> dict[str, type[Importer]]:
    """Import every importer module of the package (once) and return the table."""
    global _discovered
    if not _discovered:
        import sitematch.importers as package

        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_") and info.name not in _NOT_IMPORTERS:
                importlib.import_module(f"{package.__name__}.{info.name}")
        _discovered = True
    return IMPORTERS


def importer_kinds() -> dict[str, LayerSchema]:
    """The layer kinds the registered importers declare, by name (read by the catalogue's kind reader).

    Raises
    ------
    CatalogueError
        If two importers declare one kind differently.
    """
    from sitematch import schema as s
    from sitematch._kinds import parse_kinds
    from sitematch.errors import CatalogueError

    out: dict[str, LayerSchema] = {}
    origin: dict[str, str] = {}
    for cls in discover().values():
        if not cls.kinds.strip():
            continue
        for kind, schema in parse_kinds(cls.kinds, where=f"{cls.__module__}.{cls.__name__}.kinds").items():
            if kind in s.LAYERS:
                raise CatalogueError(f"{cls.__module__}: '{kind}' is a built-in kind; it writes it, not declares it")
            if kind in out and out[kind] != schema:
                raise CatalogueError(f"{cls.__module__}: kind '{kind}' is declared differently in {origin[kind]}")
            out[kind], origin[kind] = schema, cls.__module__
    return out


def brought(kinds: set[str], declared: set[str]) -> dict[str, dict[str, Any]]:
    """The criteria the registered importers bring whose layers are all in ``kinds``, not yet ``declared``.

    Examples
    --------
    >>> sorted(brought({"roads", "motorway_junctions"}, set()))
    ['drive_time_to_motorway_junction_min']
    """
    out: dict[str, dict[str, Any]] = {}
    for cls in discover().values():
        for name, (needs, spec) in cls.criteria.items():
            if set(needs) <= kinds and name not in declared and name not in out:
                out[name] = dict(spec)
    return out


def parameters_brought() -> dict[str, dict[str, Any]]:
    """The parameters the registered importers' criteria use, by name: their catalogue declaration."""
    out: dict[str, dict[str, Any]] = {}
    for cls in discover().values():
        out.update({k: dict(v) for k, v in cls.parameters.items()})
    return out
