"""A Folium map rendered to HTML without compiling its already rendered parts as Jinja templates again.

branca's ``MacroElement.render`` (and folium's ``Popup`` and GeoJSON tooltip/popup renders) wrap
each element's rendered script in ``Element(text)``, and ``Element.__init__`` compiles ``text`` — plain
HTML and JavaScript by then, for a GeoJSON layer hundreds of kilobytes of it — as a Jinja template, only
for the page to render it back into the same text. That was about a third of a match map's CPU.

While :func:`render_page` renders, text with no Jinja syntax in it (no ``{{``, ``{%``, ``{#``) and no
carriage return is not compiled: it renders as Jinja renders it, which for such text is the text with
one trailing newline dropped (Jinja's default ``keep_trailing_newline=False``). Any other text is
compiled as before, so the page is byte for byte what branca renders (tests/test_map_render.py
compares both). Data never relies on this: :func:`sitematch.export._map_parts.esc` escapes braces.
Folium's GeoJSON tooltips and popups also compile the same style sheet template on each render: it is
compiled once (:func:`folium_template`); and element names are worked out once per class name.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import branca.element
import branca.utilities
import folium.features
import jinja2
from branca.element import Element
from folium.template import Template as FoliumTemplate

#: What makes text a Jinja template (the default delimiters branca's ``Template(text)`` uses), or
#: makes Jinja change it (it turns ``\r\n`` and ``\r`` into ``\n``).
_SYNTAX = ("{{", "{%", "{#", "\r")


class PlainText:
    """What ``jinja2.Template(text)`` is for ``text`` without Jinja syntax, without compiling it.

    ``render`` gives the text as Jinja would; anything else asked of it (``module``, ``generate``, …)
    is answered by the compiled template, compiled then.

    Examples
    --------
    >>> PlainText("var a = {x: 1};\\n").render(this=None)
    'var a = {x: 1};'
    >>> jinja2.Template("var a = {x: 1};\\n").render(this=None)
    'var a = {x: 1};'
    """

    __slots__ = ("_compiled", "_source", "_text")

    def __init__(self, source: str) -> None:
        self._source = source
        self._text = source[:-1] if source.endswith("\n") else source
        self._compiled: jinja2.Template | None = None

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        """The text, as the compiled template would render it (it has nothing to fill in)."""
        return self._text

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = jinja2.Template(self._source)
        return getattr(self._compiled, name)


def is_plain(text: str) -> bool:
    """Whether Jinja would render ``text`` as itself (less one trailing newline).

    Examples
    --------
    >>> is_plain("L.marker([59.6, 16.5]).addTo(map_1);"), is_plain("{{ this.get_name() }}")
    (True, False)
    """
    return not any(mark in text for mark in _SYNTAX)


def template(source: str) -> jinja2.Template | PlainText:
    """``jinja2.Template(source)``, or its :class:`PlainText` equivalent when ``source`` has no Jinja syntax."""
    return PlainText(source) if is_plain(source) else jinja2.Template(source)


@functools.lru_cache(maxsize=64)
def folium_template(source: str) -> FoliumTemplate:
    """``folium.template.Template(source)``, compiled once per process (a compiled template renders any
    number of times: folium's GeoJSON tooltips and popups compiled the same style sheet for each layer)."""
    return FoliumTemplate(source)


#: branca's element names in JavaScript ("GeoJson" → "geo_json"): a pure function of a few distinct class
#: names, worked out for each of the thousands of times an element is named while a map renders.
camelify = functools.lru_cache(maxsize=256)(branca.utilities._camelify)


_lock = threading.Lock()
_active = 0
#: The names branca and folium compile with while a map renders: module, name, stock, what replaces it.
_SWAPS = (
    (branca.element, "Template", jinja2.Template, template),
    (folium.features, "Template", FoliumTemplate, folium_template),
    (branca.element, "_camelify", branca.utilities._camelify, camelify),
)


@contextmanager
def plain_text_elements() -> Iterator[None]:
    """Within: ``branca.element.Element(text)`` holds :func:`template` of ``text``, and folium's
    ``Template(source)`` in its GeoJSON tooltips and popups is :func:`folium_template`, and element
    names come from :data:`camelify` (same output, no compiling, no naming again).

    Re-entrant and safe across threads (renders in other threads meanwhile get the same, equivalent,
    templates). A name that is no longer the stock one (a changed branca or folium) is left alone.
    """
    global _active
    with _lock:
        _active += 1
        if _active == 1:
            for module, name, stock, ours in _SWAPS:
                if getattr(module, name) is stock:
                    setattr(module, name, ours)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for module, name, stock, ours in _SWAPS:
                    if getattr(module, name) is ours:
                        setattr(module, name, stock)


def render_page(element: Element) -> str:
    """The HTML page of a Folium map (or any branca element's root), as ``get_root().render()`` gives it."""
    with plain_text_elements():
        return element.get_root().render()
