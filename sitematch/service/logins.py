"""Logging in under attack: throttling with back-off, account locks, and a bound on password checks.

A login goes through :meth:`LoginGate.attempt`, which, in this order:

1. refuses at once (429 with ``Retry-After``) when the address, or the account name, is backing
   off after failed logins — without checking the password, so a locked account stays locked
   even for the right one;
2. refuses at once (503 with ``Retry-After``) when ``settings.service_login_verify_slots``
   password checks are already running: argon2 is CPU-heavy, and waiting logins must not fill the
   threads that answer everyone else;
3. checks the password (against a dummy hash when there is no such account, so the answer takes
   the same time and says the same either way), and counts a failure.

An existing account's failures and lock are in the service database (they survive a restart, and
an admin lifts them: ``sitematch users unlock NAME`` or the accounts page). Names with no account,
and addresses, are counted in memory in this process, the same way, so a lock says nothing about
whether an account exists. Nothing here is logged with a password, and the messages never say
which of name or password was wrong.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sitematch import settings
from sitematch.service.accounts import Accounts, User, backoff_s
from sitematch.service.errors import ServiceError, UnavailableError

#: Most names and addresses counted in memory; the stalest are forgotten first.
MAX_TRACKED = 10_000


class TooManyLoginsError(ServiceError):
    """Too many failed logins for this account or from this address: wait (429, ``Retry-After``)."""

    status = 429

    def __init__(self, wait_s: float) -> None:
        seconds = max(1, math.ceil(wait_s))
        super().__init__(
            f"too many failed logins for this account or from this address: try again in {seconds} s "
            "(an admin can lift an account's lock)",
            headers={"Retry-After": str(seconds)},
        )
        self.retry_after_s = seconds


class LoginsBusyError(UnavailableError):
    """Every password-check slot is busy (503, ``Retry-After: 1``)."""

    def __init__(self) -> None:
        super().__init__("too many logins at once: try again in a second")
        self.headers = {"Retry-After": "1"}


@dataclass
class _Count:
    failures: int = 0
    until_s: float = 0.0


class _Counter:
    """Failed logins by key (an address, or a name with no account), in memory, bounded."""

    def __init__(self, free: Callable[[], int]) -> None:
        self._free = free
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, key: str, now_s: float) -> float:
        with self._lock:
            count = self._counts.get(key)
            return 0.0 if count is None else max(0.0, count.until_s - now_s)

    def failed(self, key: str, now_s: float) -> None:
        cap_s = settings.service_login_lockout_s
        with self._lock:
            count = self._counts.pop(key, None) or _Count()
            if count.failures and now_s - count.until_s > cap_s:
                count = _Count()  # a run of failures long past is forgotten
            count.failures += 1
            count.until_s = now_s + backoff_s(count.failures, self._free(), cap_s)
            self._counts[key] = count
            while len(self._counts) > MAX_TRACKED:
                self._counts.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class LoginGate:
    """Throttled, bounded logins over :class:`~sitematch.service.accounts.Accounts`.

    Parameters
    ----------
    accounts : Accounts
    clock : callable, optional
        Epoch seconds (``time.time``); tests pass their own.
    slots : int, optional
        Password checks at the same time (default ``settings.service_login_verify_slots``).

    Examples
    --------
    >>> import tempfile
    >>> from sitematch.service.db import Database
    >>> accounts = Accounts(Database(f"{tempfile.mkdtemp()}/service.sqlite"))
    >>> _ = accounts.add("anna", "adviser", "a long password")
    >>> gate = LoginGate(accounts, clock=lambda: 1000.0)
    >>> [gate.attempt("anna", "wrong", "10.0.0.1") for _ in range(settings.service_login_free_failures)]
    [None, None, None, None, None]
    >>> gate.attempt("anna", "wrong", "10.0.0.1") is None  # the 6th failure locks for 1 s
    True
    >>> try:  # even the right password, from another address, until the lock lifts
    ...     gate.attempt("anna", "a long password", "10.0.0.2")
    ... except TooManyLoginsError as exc:
    ...     print(exc.status, exc.headers)
    429 {'Retry-After': '1'}
    """

    def __init__(self, accounts: Accounts, *, clock: Callable[[], float] = time.time, slots: int | None = None) -> None:
        self.accounts = accounts
        self.clock = clock
        self._slots = threading.BoundedSemaphore(slots or settings.service_login_verify_slots)
        self._addresses = _Counter(lambda: settings.service_login_address_free_failures)
        self._names = _Counter(lambda: settings.service_login_free_failures)

    def wait_s(self, username: str, address: str) -> float:
        """Seconds until ``username`` may try again from ``address`` (0 when it may now)."""
        now_s = self.clock()
        state = self.accounts.login_state(username)
        if state is None:
            name_wait = self._names.wait_s(username, now_s)
        else:
            name_wait = max(0.0, (state.locked_until or 0.0) - now_s)
        return max(name_wait, self._addresses.wait_s(address, now_s))

    def check(self, username: str, address: str) -> None:
        """TooManyLoginsError (429) while the name or the address is backing off; cheap (no password check)."""
        wait = self.wait_s(username, address)
        if wait > 0:
            raise TooManyLoginsError(wait)

    def take_slot(self, address: str = "-") -> None:
        """Take a password-check slot, or LoginsBusyError (503) at once: a login never waits in a thread.

        A login refused for want of a slot counts against its address as a failure would: a
        flood that keeps every slot busy backs off like one that guesses wrong.
        """
        if not self._slots.acquire(blocking=False):
            self._addresses.failed(address, self.clock())
            raise LoginsBusyError()

    async def take_slot_soon(self, address: str, within_s: float = 0.25) -> None:
        """:meth:`take_slot`, trying again on the event loop for up to ``within_s`` (no thread waits)."""
        import asyncio

        for _ in range(max(1, int(within_s / 0.05))):
            if self._slots.acquire(blocking=False):
                return
            await asyncio.sleep(0.05)
        self.take_slot(address)

    def release_slot(self) -> None:
        """Give back a slot :meth:`take_slot` took."""
        self._slots.release()

    def verify(self, username: str, password: str, address: str) -> User | None:
        """Check the password (in a slot already taken) and count the outcome; the account, or None."""
        user = self.accounts.login(username, password)
        now_s = self.clock()
        if user is not None:
            self.accounts.login_succeeded(username)
            return user
        self._addresses.failed(address, now_s)
        if self.accounts.login_failed(username, now_s) is None:
            self._names.failed(username, now_s)
        return None

    def attempt(self, username: str, password: str, address: str) -> User | None:
        """The account if the password is right and nothing is locked; None if it is wrong.

        :meth:`check`, :meth:`take_slot`, :meth:`verify`: the login route runs the first two on the
        event loop and only the password check in a thread.

        Raises
        ------
        TooManyLoginsError
            The account name or the address is backing off (429); the password was not checked.
        LoginsBusyError
            Every password-check slot is busy (503).
        """
        self.check(username, address)
        self.take_slot(address)
        try:
            return self.verify(username, password, address)
        finally:
            self.release_slot()

    def forget_name(self, username: str) -> None:
        """Forget a name's in-memory failures (when an admin unlocks it)."""
        self._names.clear(username)
