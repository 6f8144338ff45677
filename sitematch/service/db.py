"""The service's own database: accounts, API tokens, sessions, the audit log, stored profiles and matches.

One SQLite file (``<data dir>/service.sqlite``) in WAL mode, so several uvicorn workers share it;
every write is one short transaction. Plots are not here: they live in the plot store
(:mod:`sitematch.store`). Secrets are kept only as hashes (passwords with argon2, tokens and
session ids with SHA-256).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from sitematch._sqlite import transaction, use_wal
from sitematch.errors import SitematchError

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, created_at TEXT NOT NULL, failed_logins INTEGER NOT NULL DEFAULT 0, "
    "locked_until REAL)",
    "CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, username TEXT NOT NULL "
    "REFERENCES users(username) ON DELETE CASCADE, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
    "created_at TEXT NOT NULL, last_used TEXT, expires_at REAL)",
    "CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, username TEXT NOT NULL "
    "REFERENCES users(username) ON DELETE CASCADE, csrf TEXT NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
    "username TEXT, action TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT)",
    "CREATE TABLE IF NOT EXISTS profiles (id TEXT PRIMARY KEY, name TEXT NOT NULL, confidential INTEGER NOT NULL, "
    "data TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, advisers TEXT NOT NULL, "
    "source TEXT UNIQUE)",
    "CREATE TABLE IF NOT EXISTS matches (id TEXT PRIMARY KEY, profile_id TEXT, label TEXT NOT NULL, "
    "confidential INTEGER NOT NULL, created_by TEXT NOT NULL, advisers TEXT NOT NULL, created_at TEXT NOT NULL, "
    "summary TEXT NOT NULL)",
)
#: Columns added since the first schema: (table, column, definition); added to older databases on open.
COLUMNS = (
    ("users", "failed_logins", "INTEGER NOT NULL DEFAULT 0"),
    ("users", "locked_until", "REAL"),
    ("tokens", "expires_at", "REAL"),
    ("users", "language", "TEXT"),  # the account's own page language (sv, en); NULL: not chosen
)


def now_iso() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Database:
    """The service database file; created with its tables on first use.

    Parameters
    ----------
    path : str or pathlib.Path
        The SQLite file.

    Examples
    --------
    >>> import tempfile
    >>> db = Database(f"{tempfile.mkdtemp()}/service.sqlite")
    >>> with db.connect() as con:
    ...     con.execute("SELECT count(*) FROM users").fetchone()[0]
    0
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            use_wal(self.path)  # readers never wait for a writer (outside a transaction)
            with self.connect() as con:
                for statement in SCHEMA:
                    con.execute(statement)
                for table, column, definition in COLUMNS:
                    have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
                    if column not in have:
                        con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        except (OSError, sqlite3.Error) as exc:
            raise SitematchError(
                f"{self.path}: cannot open the service database: {exc}", where=str(self.path)
            ) from None

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read-only snapshot: never waits for a writer (WAL), and takes no write lock."""
        return transaction(self.path, write=False)

    def connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One transaction: committed when the block succeeds, rolled back otherwise."""
        return transaction(self.path)
