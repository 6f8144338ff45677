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
random and kept only as SHA-256 hashes, so a copy of the database gives no way in. An API token
expires after ``settings.service_token_days``; rotating one replaces it with a new one. Failed
logins are counted per account here (so a lock survives a restart and an admin can lift it); the
throttling itself is :mod:`sitematch.service.logins`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import overload

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sitematch import settings
from sitematch.i18n import check_language
from sitematch.service.db import Database, now_iso
from sitematch.service.errors import ConflictError, NotAuthenticatedError, NotFoundError, ServiceError

ROLES = ("adviser", "planner", "admin", "municipality:<kommunkod>")
#: Both are matched whole (``fullmatch``): ``$`` would let a trailing newline through.
_ROLE = re.compile(r"adviser|planner|admin|municipality:[0-9]{4}")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
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
    #: The page language the account chose (``sv``, ``en``), or None: the browser's, else the role's default.
    language: str | None = field(default=None, repr=False, compare=False)

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
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise ServiceError(
            f"{role!r} is not a role: one of adviser, planner, admin, municipality:<kommunkod> (4 digits)", key="role"
        )
    return role


def check_username(username: str) -> str:
    """``username`` if it is 1–64 letters, digits and ``. _ @ -``; else a ServiceError (422)."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise ServiceError(
            "a user name is 1 to 64 characters: letters, digits and . _ @ - (starting with a letter or digit)",
            key="username",
        )
    return username


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@overload
def iso(epoch_s: float) -> str: ...
@overload
def iso(epoch_s: None) -> None: ...
def iso(epoch_s: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC to the second (None stays None).

    Examples
    --------
    >>> iso(0)
    '1970-01-01T00:00:00+00:00'
    """
    if epoch_s is None:
        return None
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(microsecond=0).isoformat()


def backoff_s(failures: int, free: int, cap_s: float) -> float:
    """How long a login is locked after ``failures`` in a row: none for ``free``, then 1 s doubling to ``cap_s``.

    Examples
    --------
    >>> [backoff_s(n, 3, 10) for n in range(1, 9)]
    [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    """
    if failures <= free:
        return 0.0
    return float(min(2.0 ** min(failures - free - 1, 60), cap_s))


class TokenExpiredError(NotAuthenticatedError):
    """An API token past its expiry (401): its owner makes a new one, or rotates it on the tokens page."""


@dataclass(frozen=True)
class LoginState:
    """An account's failed logins in a row, and until when (epoch seconds) it is locked."""

    failures: int
    locked_until: float | None


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

    def set_language(self, username: str, language: str | None) -> None:
        """The account's page language: ``sv``, ``en`` or None (the browser's, else the role's default).

        A ServiceError (422) for any other value; NotFoundError (404) if there is no such account.
        """
        try:
            code = check_language(language or None)
        except ValueError as exc:
            raise ServiceError(str(exc), key="language") from None
        with self.db.connect() as con:
            if con.execute("UPDATE users SET language = ? WHERE username = ?", (code, username)).rowcount == 0:
                raise NotFoundError(f"no account {username!r}")

    def remove(self, username: str) -> None:
        """Delete an account with its tokens and sessions; NotFoundError (404) if there is none."""
        with self.db.connect() as con:
            if con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                raise NotFoundError(f"no account {username!r}")

    def get(self, username: str) -> User | None:
        """The account, or None."""
        with self.db.read() as con:
            row = con.execute("SELECT username, role, language FROM users WHERE username = ?", (username,)).fetchone()
        return User(row["username"], row["role"], row["language"]) if row else None

    def all(self) -> list[User]:
        """Every account, by name."""
        with self.db.read() as con:
            rows = con.execute("SELECT username, role, language FROM users ORDER BY username").fetchall()
        return [User(r["username"], r["role"], r["language"]) for r in rows]

    def login(self, username: str, password: str) -> User | None:
        """The account if the password is right, else None (in the same time either way).

        This only checks the password: the login route goes through
        :class:`sitematch.service.logins.LoginGate`, which throttles and counts failures.
        """
        with self.db.read() as con:
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

    def login_state(self, username: str) -> LoginState | None:
        """The account's failed logins and lock, or None when there is no such account."""
        with self.db.read() as con:
            row = con.execute(
                "SELECT failed_logins, locked_until FROM users WHERE username = ?", (username,)
            ).fetchone()
        return LoginState(row["failed_logins"], row["locked_until"]) if row else None

    def login_failed(self, username: str, now_s: float) -> LoginState | None:
        """Count a wrong password: the account is locked for :func:`backoff_s` of its failures in a row.

        A run of failures is forgotten once the account has been unlocked for
        ``settings.service_login_lockout_s``. None when there is no such account.
        """
        free, cap_s = settings.service_login_free_failures, settings.service_login_lockout_s
        with self.db.connect() as con:
            row = con.execute(
                "SELECT failed_logins, locked_until FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None:
                return None
            stale = row["locked_until"] is not None and now_s - row["locked_until"] > cap_s
            failures = 1 if stale else row["failed_logins"] + 1
            until = now_s + backoff_s(failures, free, cap_s)
            con.execute(
                "UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?", (failures, until, username)
            )
        return LoginState(failures, until)

    def login_succeeded(self, username: str) -> None:
        """A right password: the run of failures ends."""
        with self.db.connect() as con:
            con.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (username,))

    def unlock(self, username: str) -> None:
        """Lift an account's login lock (admins); NotFoundError (404) if there is no such account."""
        with self.db.connect() as con:
            n = con.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (username,)
            ).rowcount
        if n == 0:
            raise NotFoundError(f"no account {username!r}")

    def locked(self, now_s: float) -> dict[str, float]:
        """The accounts locked at ``now_s``: until when, by name."""
        with self.db.read() as con:
            rows = con.execute("SELECT username, locked_until FROM users WHERE locked_until > ?", (now_s,)).fetchall()
        return {r["username"]: r["locked_until"] for r in rows}

    # -- API tokens -----------------------------------------------------------------------------
    def create_token(self, username: str, name: str, *, days: float | None = None) -> tuple[str, str]:
        """A new API token for ``username``: (its id, the token — shown once, kept only as a hash).

        It expires after ``days`` (default ``settings.service_token_days``).
        """
        if self.get(username) is None:
            raise NotFoundError(f"no account {username!r}")
        with self.db.connect() as con:
            return self._insert_token(con, username, name, days)

    def _insert_token(self, con: sqlite3.Connection, username: str, name: str, days: float | None) -> tuple[str, str]:
        lifetime_days = settings.service_token_days if days is None else days
        if not math.isfinite(lifetime_days) or lifetime_days <= 0:
            raise ServiceError("a token's lifetime is a positive number of days", key="days")
        token, token_id = "smt_" + secrets.token_urlsafe(32), secrets.token_hex(6)
        con.execute(
            "INSERT INTO tokens (id, username, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, username, name[:100], _digest(token), now_iso(), time.time() + lifetime_days * 86400),
        )
        return token_id, token

    def rotate_token(self, username: str, token_id: str, *, days: float | None = None) -> tuple[str, str]:
        """Replace one of an account's tokens with a new one of the same name: (new id, new token).

        The old token stops working at once (one transaction); NotFoundError (404) if the account
        has no such token. The new one gets a full lifetime.
        """
        with self.db.connect() as con:
            row = con.execute("SELECT name FROM tokens WHERE id = ? AND username = ?", (token_id, username)).fetchone()
            if row is None:
                raise NotFoundError(f"no token {token_id!r} of yours")
            con.execute("DELETE FROM tokens WHERE id = ?", (token_id,))
            return self._insert_token(con, username, row["name"], days)

    def tokens(self, username: str) -> list[dict[str, str | bool | None]]:
        """The tokens of an account (id, name, created_at, last_used, expires_at, expired; never the token)."""
        with self.db.read() as con:
            rows = con.execute(
                "SELECT id, name, created_at, last_used, expires_at FROM tokens WHERE username = ? ORDER BY created_at",
                (username,),
            ).fetchall()
        now_s = time.time()
        out: list[dict[str, str | bool | None]] = []
        for r in rows:
            expires = _expiry(r["expires_at"], r["created_at"])
            out.append({**dict(r), "expires_at": iso(expires), "expired": expires <= now_s})
        return out

    def revoke_token(self, username: str, token_id: str) -> None:
        """Delete one of an account's tokens; NotFoundError (404) if it has no such token."""
        with self.db.connect() as con:
            gone = con.execute("DELETE FROM tokens WHERE id = ? AND username = ?", (token_id, username)).rowcount
        if not gone:
            raise NotFoundError(f"no token {token_id!r} of yours")

    def token_user(self, token: str) -> User | None:
        """The account an API token belongs to, or None; TokenExpiredError (401) once it has expired."""
        with self.db.read() as con:
            row = con.execute(
                "SELECT t.id, t.created_at, t.expires_at, t.last_used, u.username, u.role, u.language FROM tokens t "
                "JOIN users u USING (username) WHERE t.token_hash = ?",
                (_digest(token),),
            ).fetchone()
        if row is None:
            return None
        expires = _expiry(row["expires_at"], row["created_at"])
        if expires <= time.time():
            raise TokenExpiredError(
                f"this API token (id {row['id']}) expired at {iso(expires)}: "
                "create a new one, or rotate it on the tokens page"
            )
        now = now_iso()
        if (row["last_used"] or "")[:16] != now[:16]:  # to the minute: not a write per request
            with self.db.connect() as con:
                con.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now, row["id"]))
        return User(row["username"], row["role"], row["language"])

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
        with self.db.read() as con:
            row = con.execute(
                "SELECT u.username, u.role, u.language, s.csrf FROM sessions s JOIN users u USING (username) "
                "WHERE s.id_hash = ? AND s.expires_at > ?",
                (_digest(cookie), time.time()),
            ).fetchone()
        return (User(row["username"], row["role"], row["language"]), row["csrf"]) if row else None

    def end_session(self, cookie: str) -> None:
        """Log out: the session is deleted."""
        with self.db.connect() as con:
            con.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(cookie),))


def _expiry(expires_at: float | None, created_at: str) -> float:
    """A token's expiry; a token from before tokens expired gets the lifetime from its creation."""
    if expires_at is not None:
        return float(expires_at)
    created = dt.datetime.fromisoformat(created_at).timestamp()
    return created + settings.service_token_days * 86400
