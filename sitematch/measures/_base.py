"""The measure interface: how a criterion's value is computed for every site at once."""

from __future__ import annotations

import dataclasses
import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd

    from sitematch.schema import LayerSchema
    from sitematch.screen import Screen

#: Raises a catalogue error for a key path with a message (supplied by the catalogue reader).
Fail = Callable[[tuple[str, ...], str], Exception]


@dataclass(frozen=True)
class Measured:
    """What a measure returns: one value per site, and optional companion columns.

    Attributes
    ----------
    values : numpy.ndarray or pandas.Series
        One value per site, in site order (``inf`` for "none within the search", NaN unknown).
    extra : dict of str to array
        Companion columns by name (e.g. ``nearest_port``: the name of the port measured to).
    """

    values: np.ndarray | pd.Series | pd.api.extensions.ExtensionArray
    extra: Mapping[str, np.ndarray | pd.Series] = field(default_factory=dict)


class Layers(Protocol):
    """What a measure reads of a region's layers: a layer by kind, a raster's file, and an index cache.

    :class:`sitematch.layers.LayerSet` is one; a measure never needs more (and never imports it).
    """

    @property
    def kinds(self) -> list[str]:
        """Kinds of the layers held."""

    def get(self, kind: str) -> gpd.GeoDataFrame | None:
        """The layer of this kind, or None when there is none."""

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        """The layer of this kind (an error when there is none)."""

    def raster_file(self, kind: str) -> Path | None:
        """The file of a raster layer the region names (read window by window), or None."""

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """``build()`` once per key (indexes), kept as long as the layers are."""


@dataclass
class MeasureContext:
    """What a measure may read: the layers (with their index cache) and the resolved parameters.

    Attributes
    ----------
    layers : Layers
        The layers, by kind, and their index cache (a :class:`sitematch.layers.LayerSet`).
    parameters : mapping of str to float
        Every parameter a measure may read, resolved before measuring (the profile's values over
        the registry's defaults: :meth:`sitematch.criteria.Registry.resolve`).
    """

    layers: Layers
    parameters: Mapping[str, float]

    def layer(self, kind: str) -> gpd.GeoDataFrame | None:
        """The layer of this kind, or None when the region has none."""
        return self.layers.get(kind)

    def parameter(self, name: str) -> float:
        """A parameter's value (resolved before measuring)."""
        try:
            return float(self.parameters[name])
        except KeyError:
            raise KeyError(f"parameter {name!r} was not resolved before measuring") from None

    def parameters_for(self, clauses: tuple[Any, ...]) -> dict[str, float]:
        """The values of the parameters some where-clauses compare with."""
        return {c.parameter: self.parameter(c.parameter) for c in clauses if c.parameter}

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """``build()`` once per key and set of layers (indexes)."""
        return self.layers.cached(key, build)


class Measure(ABC):
    """How one criterion is measured: one vectorised call over all sites.

    Subclasses are frozen dataclasses registered by name with :func:`sitematch.measures.register`;
    a catalogue names them under ``measure:`` and gives their keys. A new measure is one new module
    in ``sitematch/measures/``: it is found and registered without edits elsewhere.
    """

    #: The name a catalogue uses (``measure: nearest``).
    name: ClassVar[str]
    #: Keys a catalogue entry may give this measure (besides the criterion's own keys).
    keys: ClassVar[tuple[str, ...]] = ()
    #: Why a site's value can be unknown, in words for messages ("outside the road network"); empty: unsaid.
    unknown_reason: ClassVar[str] = ""
    #: Whether a search can stop at a distance: values beyond it come back as ``inf``.
    boundable: ClassVar[bool] = False

    @abstractmethod
    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        """The value for every site (EPSG:3006); ``max_distance_m`` only for boundable measures."""

    def spec(self) -> dict[str, Any]:
        """The declaration as plain data, as a catalogue would write it (``{"measure": "nearest", …}``).

        Every field of the (dataclass) measure that is set, in order; ``where`` clauses as text.
        """
        out: dict[str, Any] = {"measure": self.name}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            out[f.name] = [c.text() for c in value] if f.name == "where" else value
        return out

    @classmethod
    @abstractmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> Measure:
        """Build from a catalogue entry; ``fail(path, message)`` makes the error to raise.

        ``parameters`` names the profile parameters declared, which ``where`` clauses may use.
        """

    def screen(self, ctx: MeasureContext) -> Screen | None:
        """A raster bounding every site's value cheaply (see :mod:`sitematch.screen`), or None.

        Staged evaluation measures exactly only where the bounds leave a result undecided.
        Built once per layer set and parameters (cached); None when this measure cannot be
        bounded this way (the default).
        """
        return None

    def layers(self) -> tuple[str, ...]:
        """Layer kinds this measure reads."""
        return ()

    def parameters(self) -> tuple[str, ...]:
        """Profile parameters this measure uses."""
        return ()

    def extra_columns(self) -> tuple[str, ...]:
        """Companion columns :meth:`compute` adds."""
        return ()

    def default_cost(self, geometry_type: str | None = None) -> int:
        """Cost tier for staged evaluation (0 cheapest), given the measured layer's geometry type."""
        return 2

    def default_kind(self) -> str:
        """The criterion kind this measure gives unless the declaration says otherwise."""
        return "numeric"

    def default_higher_is_better(self) -> bool:
        """The usual direction of this measure's values."""
        return True

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        """Check the layers and columns this measure reads exist (at catalogue load)."""
        for kind in self.layers():
            if schema_of(kind) is None:
                raise fail((*path, "layer"), f"no layer '{kind}' is declared; declare it under 'layers:'")

    def describe(self) -> str:
        """How it is measured, in words."""
        return ", ".join(f"{k} {v}" for k, v in self.spec().items() if k != "measure")


def check_keys(
    spec: Mapping[str, Any], allowed: tuple[str, ...], required: tuple[str, ...], path: tuple[str, ...], fail: Fail
) -> None:
    """Refuse unknown keys (with a did-you-mean) and missing required keys of a catalogue entry."""
    for k in spec:
        if k not in allowed:
            close = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
            did = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(sorted(allowed))}."
            raise fail((*path, str(k)), f"unknown key.{did}")
    for k in required:
        if k not in spec:
            raise fail(path, f"missing '{k}'")


def check_choice(spec: Mapping[str, Any], key: str, choices: tuple[str, ...], path: tuple[str, ...], fail: Fail) -> str:
    """The value of ``key``, which must be one of ``choices``."""
    value = str(spec[key])
    if value not in choices:
        raise fail((*path, key), f"unknown value {value!r}; use one of {', '.join(choices)}")
    return value


def check_column(
    schema_of: Callable[[str], LayerSchema | None], kind: str, column: str, path: tuple[str, ...], fail: Fail
) -> None:
    """Refuse a column the layer's schema does not declare."""
    schema = schema_of(kind)
    if schema is not None and column not in schema.column_names:
        raise fail(path, f"layer '{kind}' has no column '{column}'; its columns: {', '.join(schema.column_names)}")


def where_key(ctx: MeasureContext, where: tuple[Any, ...]) -> tuple[Any, ...]:
    """A hashable key for some where-clauses with the parameters they compare with resolved."""
    return tuple((c.text(), c.resolved(ctx.parameters_for(where))) for c in where)


def screen_extent(ctx: MeasureContext) -> tuple[float, float, float, float]:
    """The box around every layer of the set (the plots excluded): where screening rasters are laid."""

    def build() -> tuple[float, float, float, float]:
        boxes = [ctx.layers[k].total_bounds for k in ctx.layers.kinds if k != "plots" and len(ctx.layers[k])]
        if not boxes:
            return (0.0, 0.0, 1.0, 1.0)
        b = np.array(boxes)
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    return ctx.cached(("screen-extent",), build)


def indexed_rows(ctx: MeasureContext, kind: str, where: tuple[Any, ...] = ()) -> tuple[Any, np.ndarray]:
    """The (cached) nearest index over a layer's rows that meet ``where``, and those rows' positions.

    Returns an empty index when the region has no such layer.
    """
    from sitematch.index import NearestIndex
    from sitematch.measures._where import where_mask

    gdf = ctx.layer(kind)
    if gdf is None:
        return NearestIndex.build(np.empty(0, dtype=object)), np.empty(0, dtype=np.intp)
    positions = np.flatnonzero(where_mask(gdf, where, ctx.parameters_for(where)))
    key = (kind, "nearest", where_key(ctx, where))
    index = ctx.cached(key, lambda: NearestIndex.build(gdf.geometry.to_numpy()[positions]))
    return index, positions
