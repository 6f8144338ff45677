"""Text from data, made safe for a terminal: no Rich markup interpreted, no control characters."""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls except tab and newline, DEL, and C1 controls (ESC starts terminal escape sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object) -> str:
    """``value`` as text a Rich console prints literally, with control characters removed.

    Examples
    --------
    >>> plain("[bold]x[/] \\x1b[31mred")
    '\\\\[bold]x\\\\[/] [31mred'
    """
    return escape(_CONTROL.sub("", str(value)))
