"""Accounts, roles, API tokens and login sessions.

Roles:

``adviser``
    Runs matches, sees every plot and the leads assigned to it.
``municipality:<kommunkod>``
    Uploads, withdraws and reads the history of its own plots only; sees matches only as far as
    its own plots are concerned.
``planner``
    Reads matches and the brownfield page; changes nothing.
``admin``
    Everything, and the accounts.

Passwords are hashed with argon2id (``argon2-cffi``); API tokens (``smt_…``) and session ids are
random and kept only as SHA-256 hashes, so a copy of the database gives no way in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sitematch import settings
from sitematch.service.db import Database, now_iso
from sitematch.service.errors import ConflictError, NotFoundError, ServiceError

ROLES = ("adviser", "planner", "admin", "municipality:<kommunkod>")
_ROLE = re.compile(r"^(adviser|planner|admin|municipality:\d{4})$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
#: A hash to verify against when the user does not exist, so both cases take the same time.
_DUMMY = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    """An account as the service sees it.

    Examples
    --------
    >>> User("anna", "municipality:1980").municipality, User("bo", "adviser").municipality
    ('1980', None)
    """

    username: str
    role: str

    @property
    def municipality(self) -> str | None:
        """The kommunkod of a municipality account, else None."""
        return self.role.split(":", 1)[1] if self.role.startswith("municipality:") else None

    @property
    def is_admin(self) -> bool:
        """Whether the account administers the service."""
        return self.role == "admin"


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else a ServiceError (422) saying which they are.

    Examples
    --------
    >>> check_role("municipality:1980")
    'municipality:1980'
    """
    if not _ROLE.match(role or ""):
        raise ServiceError(
            f"{role!r} is not a role: one of adviser, planner, admin, municipality:<kommunkod> (4 digits)", key="role"
        )
    return role


def check_username(username: str) -> str:
    """``username`` if it is 1–64 letters, digits and ``. _ @ -``; else a ServiceError (422)."""
    if not _USERNAME.match(username or ""):
        raise ServiceError(
            "a user name is 1 to 64 characters: letters, digits and . _ @ - (starting with a letter or digit)",
            key="username",
        )
    return username


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Accounts:
    """Accounts, tokens and sessions in the service database.

    Examples
    --------
    >>> import tempfile
    >>> accounts = Accounts(Database(f"{tempfile.mkdtemp()}/service.sqlite"))
    >>> accounts.add("anna", "municipality:1980", "a long password")
    User(username='anna', role='municipality:1980')
    >>> accounts.login("anna", "a long password").role, accounts.login("anna", "wrong") is None
    ('municipality:1980', True)
    >>> token = accounts.create_token("anna", "qgis")[1]
    >>> accounts.token_user(token).username
    'anna'
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- accounts -------------------------------------------------------------------------------
    def add(self, username: str, role: str, password: str) -> User:
        """Create an account; ConflictError (409) if the name is taken."""
        check_username(username)
        check_role(role)
        if len(password) < MIN_PASSWORD:
            raise ServiceError(f"a password has at least {MIN_PASSWORD} characters", key="password")
        try:
            with self.db.connect() as con:
                con.execute(
                    "INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (username, role, _hasher.hash(password), now_iso()),
                )
        except sqlite3.IntegrityError:
            raise ConflictError(f"there is already an account {username!r}", key="username") from None
        return User(username, role)

    def remove(self, username: str) -> None:
        """Delete an account with its tokens and sessions; NotFoundError (404) if there is none."""
        with self.db.connect() as con:
            if con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                raise NotFoundError(f"no account {username!r}")

    def get(self, username: str) -> User | None:
        """The account, or None."""
        with self.db.connect() as con:
            row = con.execute("SELECT username, role FROM users WHERE username = ?", (username,)).fetchone()
        return User(row["username"], row["role"]) if row else None

    def all(self) -> list[User]:
        """Every account, by name."""
        with self.db.connect() as con:
            rows = con.execute("SELECT username, role FROM users ORDER BY username").fetchall()
        return [User(r["username"], r["role"]) for r in rows]

    def login(self, username: str, password: str) -> User | None:
        """The account if the password is right, else None (in the same time either way)."""
        with self.db.connect() as con:
            row = con.execute("SELECT role, password_hash FROM users WHERE username = ?", (username,)).fetchone()
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            with self.db.connect() as con:
                con.execute("UPDATE users SET password_hash = ? WHERE username = ?", (_hasher.hash(password), username))
        return User(username, row["role"])

    # -- API tokens -----------------------------------------------------------------------------
    def create_token(self, username: str, name: str) -> tuple[str, str]:
        """A new API token for ``username``: (its id, the token — shown once, kept only as a hash)."""
        if self.get(username) is None:
            raise NotFoundError(f"no account {username!r}")
        token, token_id = "smt_" + secrets.token_urlsafe(32), secrets.token_hex(6)
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO tokens (id, username, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (token_id, username, name[:100], _digest(token), now_iso()),
            )
        return token_id, token

    def tokens(self, username: str) -> list[dict[str, str | None]]:
        """The tokens of an account (id, name, created_at, last_used; never the token)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT id, name, created_at, last_used FROM tokens WHERE username = ? ORDER BY created_at",
                (username,),
            ).fetchall()
        return [dict(r) for r in rows]

    def revoke_token(self, username: str, token_id: str) -> None:
        """Delete one of an account's tokens; NotFoundError (404) if it has no such token."""
        with self.db.connect() as con:
            gone = con.execute("DELETE FROM tokens WHERE id = ? AND username = ?", (token_id, username)).rowcount
        if not gone:
            raise NotFoundError(f"no token {token_id!r} of yours")

    def token_user(self, token: str) -> User | None:
        """The account an API token belongs to, or None."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT t.id, u.username, u.role FROM tokens t JOIN users u USING (username) WHERE t.token_hash = ?",
                (_digest(token),),
            ).fetchone()
            if row is not None:
                con.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now_iso(), row["id"]))
        return User(row["username"], row["role"]) if row else None

    # -- sessions (pages) -----------------------------------------------------------------------
    def start_session(self, user: User) -> tuple[str, str]:
        """A new login session: (the cookie value, its CSRF token)."""
        session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = time.time() + settings.service_session_hours * 3600
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            con.execute(
                "INSERT INTO sessions (id_hash, username, csrf, expires_at) VALUES (?, ?, ?, ?)",
                (_digest(session), user.username, csrf, expires),
            )
        return session, csrf

    def session(self, cookie: str) -> tuple[User, str] | None:
        """The account and CSRF token of a live session, or None."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT u.username, u.role, s.csrf FROM sessions s JOIN users u USING (username) "
                "WHERE s.id_hash = ? AND s.expires_at > ?",
                (_digest(cookie), time.time()),
            ).fetchone()
        return (User(row["username"], row["role"]), row["csrf"]) if row else None

    def end_session(self, cookie: str) -> None:
        """Log out: the session is deleted."""
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(cookie),))
