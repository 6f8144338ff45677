"""The audit log: every write through the service — who, what, on what, when, and how it ended.

Written by the request middleware for every request that may change something (POST, PUT, PATCH,
DELETE), whatever its outcome, with the detail the route adds (``request.state.audit``). Targets
are paths with ids (plots, matches, accounts), never a lead's company or profile name.
"""

from __future__ import annotations

import json
from typing import Any

from sitematch.service.db import Database, now_iso


def record(db: Database, *, username: str | None, action: str, target: str, status: int, detail: Any = None) -> None:
    """Append one entry.

    Examples
    --------
    >>> import tempfile
    >>> db = Database(f"{tempfile.mkdtemp()}/service.sqlite")
    >>> record(db, username="anna", action="POST", target="/api/plots", status=201, detail={"inserted": 2})
    >>> [(e["username"], e["target"], e["detail"]) for e in entries(db)]
    [('anna', '/api/plots', {'inserted': 2})]
    """
    with db.connect() as con:
        con.execute(
            "INSERT INTO audit (at, username, action, target, status, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (now_iso(), username, action, target, status, json.dumps(detail, default=str) if detail else None),
        )


def entries(db: Database, *, limit: int = 200, username: str | None = None) -> list[dict[str, Any]]:
    """The latest entries first (at most ``limit``), optionally one account's."""
    where, params = ("WHERE username = ?", [username]) if username else ("", [])
    with db.connect() as con:
        rows = con.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
    out = [dict(r) for r in rows]
    for e in out:
        e["detail"] = json.loads(e["detail"]) if e["detail"] else None
    return out
