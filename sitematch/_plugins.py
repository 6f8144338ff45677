"""Plugins named by dotted path, as pygeoapi names its providers (``package.module.Class``).

Measures (:func:`sitematch.measures.measure_class`) and importers
(:func:`sitematch.importers.importer_class`) are registered by name inside the package; one from
outside it is named by its dotted path: ``package.module:Class``, ``package.module.Class``, or
``package.module`` holding exactly one such class. Importing the module runs its code, so a
dotted path in a catalogue is trusted like the code of the deployment it belongs to.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any


def is_dotted(name: str) -> bool:
    """``name`` is a dotted path (``package.module`` or ``package.module:Class``), not a registered name."""
    return "." in name or ":" in name


def load_dotted(path: str, base: type, what: str, error: type[Exception]) -> Any:
    """The subclass of ``base`` a dotted path names: ``package.module:Class``, ``package.module.Class``,
    or ``package.module`` holding exactly one such class.

    Raises
    ------
    error
        If the module cannot be imported or names no (or more than one) subclass of ``base``.
    """
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if attr or "." not in module_name:
            raise error(f"cannot import {what} {path!r}: {exc}") from None
        module_name, _, attr = module_name.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise error(f"cannot import {what} {path!r}: {exc}") from None
        if not hasattr(module, attr):
            raise error(f"cannot import {what} {path!r}: {exc}") from None
    if attr:
        found = getattr(module, attr, None)
        if not (inspect.isclass(found) and issubclass(found, base)):
            raise error(f"{path!r} is not {what} (a subclass of {base.__name__})")
        return found
    own = [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, base) and c.__module__ == module.__name__ and not inspect.isabstract(c)
    ]
    if len(own) != 1:
        names = ", ".join(c.__name__ for c in own) or "none"
        raise error(f"{path!r} defines {len(own)} {what} classes ({names}); name one: {path}:Class")
    return own[0]
