"""Each municipality's saved upload mapping: used by default for its next upload, shown in its page.

A mapping is the YAML a mapping file holds (see :mod:`sitematch.upload.mapping`); it is kept in
the service database (table ``upload_mappings``, one row per kommunkod) only after it has been
read without error and an upload with it was stored.
"""

from __future__ import annotations

import logging
from typing import Any

from sitematch.service.db import Database, now_iso
from sitematch.upload.mapping import MAX_MAPPING_BYTES

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS upload_mappings (municipality_code TEXT PRIMARY KEY, mapping TEXT NOT NULL, "
    "saved_by TEXT NOT NULL, saved_at TEXT NOT NULL)"
)


class SavedMappings:
    """The saved mappings in the service database (the table is created on first use).

    Examples
    --------
    >>> import tempfile
    >>> saved = SavedMappings(Database(f"{tempfile.mkdtemp()}/service.sqlite"))
    >>> saved.get("1980") is None
    True
    >>> saved.save("1980", "values:\\n  owner: {Sveaskog: statlig}\\n", "anna")
    >>> saved.get("1980")["mapping"].splitlines()[1]
    '  owner: {Sveaskog: statlig}'
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.connect() as con:
            con.execute(_SCHEMA)

    def get(self, municipality_code: str) -> dict[str, Any] | None:
        """The municipality's saved mapping (``mapping``, ``saved_by``, ``saved_at``), or None."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT mapping, saved_by, saved_at FROM upload_mappings WHERE municipality_code = ?",
                (municipality_code,),
            ).fetchone()
        return dict(row) if row else None

    def save(self, municipality_code: str, mapping: str, saved_by: str) -> None:
        """Keep ``mapping`` (YAML text) for the municipality's next upload, replacing the one saved before."""
        if len(mapping.encode("utf-8")) > MAX_MAPPING_BYTES:
            raise ValueError(f"a mapping may be {MAX_MAPPING_BYTES:,} bytes at most")
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO upload_mappings (municipality_code, mapping, saved_by, saved_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (municipality_code) DO UPDATE SET mapping = excluded.mapping, "
                "saved_by = excluded.saved_by, saved_at = excluded.saved_at",
                (municipality_code, mapping, saved_by, now_iso()),
            )
        log.info("saved the upload mapping of %s", municipality_code)
