"""The audit log: every write through the service — who, what, on what, when, and how it ended.

Written by the request middleware for every request that may change something (POST, PUT, PATCH,
DELETE), whatever its outcome, with the detail the route adds (``request.state.audit``). Targets
are paths with ids (plots, matches, accounts), never a lead's company or profile name.

An entry is written by one writer thread per database, in batches: the middleware that records
it runs on the event loop, which must never wait for the database's write lock (under a login
flood that wait stalled every request). :func:`entries` waits for the queue to be written first,
and so does the process's exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from sitematch.service.db import Database, now_iso

log = logging.getLogger(__name__)
#: Most entries written in one transaction.
BATCH = 500


class _Writer:
    """The thread that writes one database's audit entries."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue()
        threading.Thread(target=self._run, name="sitematch-audit", daemon=True).start()

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.db.connect() as con:
                    con.executemany(
                        "INSERT INTO audit (at, username, action, target, status, detail) VALUES (?, ?, ?, ?, ?, ?)",
                        batch,
                    )
            except Exception:  # never lose the thread; say how many entries were lost (no contents)
                log.exception("could not write %d audit entries", len(batch))
            finally:
                for _ in batch:
                    self.queue.task_done()

    def flush(self, timeout_s: float | None = None) -> None:
        if timeout_s is None:
            self.queue.join()
            return
        end = time.monotonic() + timeout_s
        while self.queue.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.01)


_writers: dict[Path, _Writer] = {}
_writers_lock = threading.Lock()


def _writer(db: Database) -> _Writer:
    with _writers_lock:
        found = _writers.get(db.path)
        if found is None:
            found = _writers[db.path] = _Writer(db)
        return found


def flush(db: Database) -> None:
    """Wait until every entry recorded so far is in the database."""
    with _writers_lock:
        found = _writers.get(db.path)
    if found is not None:
        found.flush()


@atexit.register
def _flush_all() -> None:
    for w in list(_writers.values()):
        w.flush(timeout_s=10)


def record(db: Database, *, username: str | None, action: str, target: str, status: int, detail: Any = None) -> None:
    """Append one entry (written by the writer thread; it returns at once).

    Examples
    --------
    >>> import tempfile
    >>> db = Database(f"{tempfile.mkdtemp()}/service.sqlite")
    >>> record(db, username="anna", action="POST", target="/api/plots", status=201, detail={"inserted": 2})
    >>> [(e["username"], e["target"], e["detail"]) for e in entries(db)]
    [('anna', '/api/plots', {'inserted': 2})]
    """
    _writer(db).queue.put(
        (now_iso(), username, action, target, status, json.dumps(detail, default=str) if detail else None)
    )


def entries(db: Database, *, limit: int = 200, username: str | None = None) -> list[dict[str, Any]]:
    """The latest entries first (at most ``limit``), optionally one account's."""
    flush(db)
    where, params = ("WHERE username = ?", [username]) if username else ("", [])
    with db.read() as con:
        rows = con.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
    out = [dict(r) for r in rows]
    for e in out:
        e["detail"] = json.loads(e["detail"]) if e["detail"] else None
    return out
