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
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import branca.element
import jinja2
from branca.element import Element

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


_lock = threading.Lock()
_active = 0
#: branca compiles an element's text with the name ``Template`` of its module: the one swapped.
_STOCK = branca.element.Template


@contextmanager
def plain_text_elements() -> Iterator[None]:
    """Within: ``branca.element.Element(text)`` holds :func:`template` of ``text`` (same output, no compiling).

    Re-entrant and safe across threads (renders in other threads meanwhile get the same, equivalent,
    templates). Does nothing if branca no longer compiles with ``jinja2.Template``.
    """
    global _active
    if _STOCK is not jinja2.Template:
        yield
        return
    with _lock:
        _active += 1
        branca.element.Template = template  # type: ignore[assignment]
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                branca.element.Template = _STOCK


def render_page(element: Element) -> str:
    """The HTML page of a Folium map (or any branca element's root), as ``get_root().render()`` gives it."""
    with plain_text_elements():
        return element.get_root().render()
