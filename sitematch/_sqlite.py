"""SQLite files sitematch keeps its own records in (the service database, the lead log): WAL mode,
and one transaction per block.

In WAL mode readers never wait for a writer; :func:`transaction` with ``write=False`` is a read-only
snapshot that takes no write lock, and with ``write=True`` takes the write lock at once
(``BEGIN IMMEDIATE``), so two writers queue instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30


def use_wal(path: str | Path) -> None:
    """Put the database file in WAL mode (creating it if needed)."""
    with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as con:
        con.execute("PRAGMA journal_mode=WAL")


@contextlib.contextmanager
def transaction(path: str | Path, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction on ``path``, rows as :class:`sqlite3.Row`: committed when the block succeeds,
    rolled back otherwise; ``write=False`` for a read-only snapshot.

    Examples
    --------
    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/x.sqlite"
    >>> with transaction(path) as con:
    ...     _ = con.execute("CREATE TABLE t (a INTEGER)")
    >>> with transaction(path, write=False) as con:
    ...     con.execute("SELECT count(*) FROM t").fetchone()[0]
    0
    """
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys=ON")
    try:
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
