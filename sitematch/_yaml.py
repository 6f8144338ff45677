"""Reading YAML people wrote (profiles, catalogues, mapping files): safe, bounded, with line numbers.

- only plain data (``yaml.SafeLoader``); no Python objects;
- anchors may be set, but aliases (``*name``, and merge keys ``<<: *name``) are refused, so a small
  file cannot expand into gigabytes ("billion laughs");
- bounded: at most ``max_chars`` characters and ``max_depth`` levels of nesting;
- a key written twice in one mapping is an error (YAML would silently keep the last);
- the line of every key is kept, so errors can say where the mistake is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from sitematch.errors import SitematchError

#: Largest YAML text read, in characters.
MAX_CHARS = 1_000_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 32


class _RefusedError(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than ``max_depth``."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _RefusedError(
                event.start_mark,
                f"aliases (*{event.anchor}) are not allowed; write the value out where it is needed",
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise _RefusedError(self.peek_event().start_mark, f"nested deeper than {self.max_depth} levels")
            # types-PyYAML types index as int; PyYAML also passes None and, for a mapping value, its key node
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data and the line of every key, by key path."""

    data: Any
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def line(self, *path: str) -> int | None:
        """The line of the key at ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _walk(node: yaml.Node | None, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = (*path, str(k.value))
            if key in lines:
                raise _RefusedError(
                    k.start_mark, f"the key '{'.'.join(key)}' is written twice (first on line {lines[key]})"
                )
            lines[key] = k.start_mark.line + 1
            _walk(v, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, (*path, str(i)), lines)


def read_yaml(
    text: str,
    *,
    where: str,
    error: type[SitematchError] = SitematchError,
    max_chars: int = MAX_CHARS,
) -> YamlDocument:
    """Parse YAML text written by a person, safely and within bounds.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        Its name in error messages (a file name, "the mapping file").
    error : type of SitematchError
        The error to raise (``ProfileError``, ``CatalogueError``, ``UploadError``…).
    max_chars : int
        Refuse longer texts.

    Returns
    -------
    YamlDocument

    Raises
    ------
    SitematchError
        Of type ``error``: not YAML, too long, too deep, an alias, a duplicate key.

    Examples
    --------
    >>> doc = read_yaml("name: x\\nrequirements:\\n  min_area_ha: 5\\n", where="lead.yaml")
    >>> doc.data["requirements"], doc.line("requirements", "min_area_ha")
    ({'min_area_ha': 5}, 3)
    """
    if len(text) > max_chars:
        raise error(
            f"{where}: {len(text):,} characters is more than the {max_chars:,} allowed; is this the right file?",
            where=where,
        )
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)
        node = loader.get_single_node()
        lines: dict[tuple[str, ...], int] = {}
        _walk(node, (), lines)
        data = loader.construct_document(node) if node is not None else None
    except _RefusedError as exc:
        line = exc.mark.line + 1 if exc.mark is not None else None
        loc = f"{where}, line {line}" if line else where
        raise error(f"{loc}: {exc.message}", where=where, line=line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        loc = f"{where}, line {line}" if line else where
        raise error(f"{loc}: not valid YAML: {problem}", where=where, line=line) from None
    except (RecursionError, MemoryError):
        raise error(f"{where}: too deeply nested or too large to read", where=where) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise error(f"{where}: a value cannot be read ({str(exc).splitlines()[0][:120]})", where=where) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, lines)
