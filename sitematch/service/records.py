"""Stored profiles and matches, and who may see them.

A lead is confidential when its profile says so (``lead: {confidential: true}``): its profile and
its matches are visible only to the adviser who created them, the advisers assigned to them, and
admins. Other leads are visible to every adviser and planner, and to municipalities as far as
their own plots are concerned. Ids are random: no URL carries a lead's name or company.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitematch.criteria import Registry
from sitematch.profile import Profile, build_profile, load_profile
from sitematch.service.accounts import User
from sitematch.service.db import Database, now_iso
from sitematch.service.errors import ForbiddenError, NotFoundError

log = logging.getLogger(__name__)

#: Who created the profiles read from the profiles folder.
FOLDER = "(profiles folder)"
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")


#: A lead's fields a municipality never sees (in a match, a stored profile, or a list).
PRIVATE_LEAD_FIELDS = ("company", "contact")


def profile_data_for(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A profile's data as ``user`` may see it: the one visibility rule for a lead's details.

    A municipality sees a (non-confidential) lead's profile, but never its company or contact;
    everyone else who may see the lead sees all of it. Used by every route that shows a profile
    (the profiles API, match views and pages).

    Examples
    --------
    >>> data = {"name": "x", "lead": {"reference": "R-1", "company": "Acme AB", "contact": "Eva"}}
    >>> profile_data_for(User("anna", "municipality:1980"), data)["lead"]
    {'reference': 'R-1'}
    >>> profile_data_for(User("bo", "adviser"), data)["lead"]["company"]
    'Acme AB'
    """
    if not user.municipality or not isinstance(data.get("lead"), dict):
        return data
    lead = {k: v for k, v in data["lead"].items() if k not in PRIVATE_LEAD_FIELDS}
    return {**data, "lead": lead}


@dataclass(frozen=True)
class Lead:
    """What visibility rests on, for a stored profile or match."""

    id: str
    confidential: bool
    created_by: str
    advisers: tuple[str, ...]

    def visible_to(self, user: User) -> bool:
        """Whether ``user`` may see it (a municipality only as far as its own plots are concerned).

        Examples
        --------
        >>> lead = Lead("abc", True, "anna", ("bo",))
        >>> [lead.visible_to(User(n, r)) for n, r in [("anna", "adviser"), ("bo", "adviser"), ("cy", "adviser"),
        ...                                           ("root", "admin"), ("pia", "planner")]]
        [True, True, False, True, False]
        """
        if user.is_admin:
            return True
        if self.confidential:
            return user.role == "adviser" and (user.username == self.created_by or user.username in self.advisers)
        return True

    def check(self, user: User, what: str) -> None:
        """ForbiddenError (403) unless ``user`` may see it."""
        if not self.visible_to(user):
            raise ForbiddenError(f"{what} {self.id} is a confidential lead: only its advisers and admins see it")


@dataclass(frozen=True)
class StoredProfile(Lead):
    """A profile kept by the service."""

    name: str = ""
    data: Any = None
    created_at: str = ""

    def profile(self, registry: Registry | None) -> Profile:
        """The validated profile (its slug is its id, so output names never carry its file name)."""
        return build_profile(self.data, where=f"profile {self.id}", slug=self.id, registry=registry)

    def summary(self) -> dict[str, Any]:
        """What a list shows."""
        lead = self.data.get("lead", {})
        return {
            "id": self.id,
            "name": self.name,
            "sector": self.data.get("sector", ""),
            "reference": lead.get("reference", ""),
            "confidential": self.confidential,
            "created_by": self.created_by,
            "advisers": list(self.advisers),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class StoredMatch(Lead):
    """A match kept by the service: its exports are in ``<data dir>/matches/<id>/``."""

    profile_id: str | None = None
    label: str = ""
    created_at: str = ""
    summary: Any = None


def _profile(row: Any) -> StoredProfile:
    return StoredProfile(
        row["id"],
        bool(row["confidential"]),
        row["created_by"],
        tuple(json.loads(row["advisers"])),
        name=row["name"],
        data=json.loads(row["data"]),
        created_at=row["created_at"],
    )


def _match(row: Any) -> StoredMatch:
    return StoredMatch(
        row["id"],
        bool(row["confidential"]),
        row["created_by"],
        tuple(json.loads(row["advisers"])),
        profile_id=row["profile_id"],
        label=row["label"],
        created_at=row["created_at"],
        summary=json.loads(row["summary"]),
    )


class Records:
    """Stored profiles and matches in the service database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- profiles -------------------------------------------------------------------------------
    def add_profile(
        self, profile: Profile, *, created_by: str, advisers: tuple[str, ...] = (), source: str | None = None
    ) -> StoredProfile:
        """Keep a validated profile; with ``source`` (a file), replace the one read from it before."""
        data = json.dumps(profile.to_data(), ensure_ascii=False, default=str)
        with self.db.connect() as con:
            old = con.execute("SELECT id FROM profiles WHERE source = ?", (source,)).fetchone() if source else None
            pid = old["id"] if old else secrets.token_hex(6)
            con.execute(
                "INSERT OR REPLACE INTO profiles (id, name, confidential, data, created_by, created_at, advisers, "
                "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, profile.name, int(profile.lead.confidential), data, created_by, now_iso(), json.dumps(advisers),
                 source),
            )  # fmt: skip
        return self.profile(pid)

    def profile(self, profile_id: str) -> StoredProfile:
        """A stored profile; NotFoundError (404) if there is none."""
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no stored profile {profile_id!r}")
        return _profile(row)

    def profiles(self, user: User) -> list[StoredProfile]:
        """The stored profiles ``user`` may see, by name."""
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM profiles ORDER BY name, id").fetchall()
        return [p for p in map(_profile, rows) if p.visible_to(user)]

    def assign(self, profile_id: str, advisers: tuple[str, ...]) -> StoredProfile:
        """Set the advisers a stored profile is assigned to."""
        self.profile(profile_id)
        with self.db.connect() as con:
            con.execute("UPDATE profiles SET advisers = ? WHERE id = ?", (json.dumps(advisers), profile_id))
        return self.profile(profile_id)

    def load_folder(self, folder: Path, registry: Registry | None) -> int:
        """Read every profile in ``folder`` into the store (each refused one is logged); how many were read."""
        n = 0
        for path in sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PROFILE_SUFFIXES):
            profile = load_profile(path, registry=registry)
            self.add_profile(profile, created_by=FOLDER, source=str(path.resolve()))
            n += 1
        log.info("read %d profiles from %s", n, folder)
        return n

    # -- matches --------------------------------------------------------------------------------
    def new_match_id(self) -> str:
        """A fresh random match id."""
        return secrets.token_hex(8)

    def add_match(self, match: StoredMatch) -> StoredMatch:
        """Keep a finished match."""
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO matches (id, profile_id, label, confidential, created_by, advisers, created_at, summary) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (match.id, match.profile_id, match.label, int(match.confidential), match.created_by,
                 json.dumps(match.advisers), match.created_at or now_iso(), json.dumps(match.summary, default=str)),
            )  # fmt: skip
        return self.match(match.id)

    def match(self, match_id: str) -> StoredMatch:
        """A stored match; NotFoundError (404) if there is none."""
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM matches WHERE id = ?", (match_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no match {match_id!r}")
        return _match(row)

    def matches(self, user: User, limit: int = 100) -> list[StoredMatch]:
        """The latest matches ``user`` may see, newest first."""
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM matches ORDER BY created_at DESC, rowid DESC").fetchall()
        return [m for m in map(_match, rows) if m.visible_to(user)][:limit]
