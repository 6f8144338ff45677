"""Text for the terminal: data printed as written (never as Rich markup, no control characters),
and errors as one clean paragraph naming the command-line flag that fixes them.

Shared by every ``sitematch`` command group.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from sitematch.errors import SitematchError

#: C0 and C1 control characters except tab and newline (what a terminal could act on: ESC starts
#: escape sequences), and the bidirectional marks and overrides that can make text read backwards.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: Where errors go.
err = Console(stderr=True, emoji=False)  # no :emoji: codes: data never turns into pictures


def console() -> Console:
    """Terminal output: the terminal's width; when piped, $COLUMNS or 120, so tables stay readable in logs."""
    piped = not Console().is_terminal
    return Console(width=int(os.environ.get("COLUMNS") or 120) if piped else None, emoji=False)


def clean(value: object) -> str:
    """Data as terminal text: empty for missing values, control characters removed, newlines kept.

    Use it inside :class:`rich.text.Text` (which never reads markup).

    Examples
    --------
    >>> clean("\\x1b[31mred\\x1b[0m [/x]"), clean(None), clean(float("nan"))
    ('[31mred[0m [/x]', '', '')
    """
    from sitematch._io import is_missing  # pandas: imported when there is a value to show

    if is_missing(value):
        return ""
    return _CONTROL.sub("", str(value))


def plain(value: object) -> str:
    """Data to put into a Rich markup string: :func:`clean`, and markup escaped.

    Examples
    --------
    >>> plain("[bold]x[/] \\x1b[31mred")
    '\\\\[bold]x\\\\[/] [31mred'
    """
    return escape(clean(value))


def code_word(field: str, value: object, criterion: Any = None) -> str:
    """A category's code as the short word a terminal table has room for: zoning ``J`` → ``industri``,
    plan status ``laga_kraft`` → ``laga kraft``, owner ``kommun`` → ``kommun``; the code itself when
    no words are known; empty for a missing value.

    The words are the criterion's own ``value_words`` when ``criterion`` declares them, else the
    built-in words (:data:`sitematch.criteria.format.CODE_WORDS`), cut to their first term.

    Examples
    --------
    >>> code_word("zoning", "J"), code_word("plan_status", "laga_kraft"), code_word("owner", "okand")
    ('industri', 'laga kraft', 'okänd')
    >>> code_word("zoning", "X9"), code_word("zoning", None)
    ('X9', '')
    """
    from sitematch.criteria.format import CODE_WORDS  # pandas: imported when there is a table to show

    if clean(value) == "":
        return ""
    code = clean(value)
    declared = getattr(criterion, "value_words", None) or {}
    words = str(declared.get(code) or CODE_WORDS.get(field, {}).get(code) or "")
    if not words:
        return code
    short = re.sub(r"\s*\([^)]*\)\s*$", "", words.split(" / ")[0]).strip()
    return clean(short) or code


def flag(option: str) -> str:
    """The command-line flag for a library setting (``accept_valid`` → ``--accept-valid``)."""
    return "--" + option.replace("_", "-")


def error_text(exc: SitematchError) -> str:
    """An error as one paragraph for the terminal, with the flag that fixes it, if any."""
    report = getattr(exc, "report", None)
    text = str(exc)
    if report is not None and hasattr(report, "to_text"):
        text = exc.message.split("\n", 1)[0] + "\n" + report.to_text(option=flag)
    if exc.option:
        text += f" (use {flag(exc.option)})"
    return clean(text)


class MessagesGroup(click.Group):
    """A click group that turns every SitematchError into a plain message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitematchError as exc:
            err.print(Text.assemble(("error: ", "bold red"), error_text(exc)), soft_wrap=True, highlight=False)
            sys.exit(1)


def layers_option(f: Any) -> Any:
    """The ``--layers`` option of every command that reads a region."""
    return click.option(
        "--layers",
        "layers_path",
        default=None,
        show_default="$SITEMATCH_LAYERS, the config file, or the bundled region",
        type=click.Path(path_type=Path),
        help="Region: a folder with layers.yaml, a GeoPackage, or a folder of files by kind.",
    )(f)
