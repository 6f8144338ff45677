"""Notifications that cannot be lost: an outbox table and a sender with retries.

A change that should tell someone (a request sent, an answer given) writes its messages into the
``outbox`` table **in the same transaction** as the change (:func:`enqueue`). A sender
(:class:`OutboxSender`, run by the service in a background thread, or ``sitematch leads send``)
takes due messages one at a time, claims each with a lease, sends it over SMTP and marks it sent.

- SMTP server down: the attempt is counted and retried later with back-off; the change itself
  succeeded long before.
- Service killed after the commit, before the send: the message is still pending and is sent by
  the next sender, once.
- Service killed while sending (after the SMTP server took the message, before it was marked
  sent): the lease expires and the message is sent again — the only window for a duplicate. Its
  ``Message-ID`` is fixed per outbox row, so a mail system can recognise the repeat.

No log line carries an address, a subject or a body: messages are logged by their outbox id.
"""

from __future__ import annotations

import logging
import smtplib
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from email.message import EmailMessage
from email.utils import formatdate

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, "
    "to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
    "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, lease_until REAL, last_error TEXT, "
    "sent_at REAL)",
)
#: Seconds to wait before the 1st, 2nd, 3rd… retry (the last repeats).
BACKOFF_S = (5.0, 30.0, 120.0, 600.0)


def enqueue(con: sqlite3.Connection, *, to_addr: str, subject: str, body: str) -> int:
    """Write one message into the outbox inside the caller's transaction; returns its id."""
    now = time.time()
    cur = con.execute(
        "INSERT INTO outbox (created_at, to_addr, subject, body, next_attempt_at) VALUES (?,?,?,?,?)",
        (now, to_addr, subject, body, now),
    )
    return int(cur.lastrowid or 0)


class OutboxSender:
    """Sends the outbox's due messages over SMTP.

    Parameters
    ----------
    connect : callable
        As for :class:`sitematch.leads.LeadBook`: one transaction per block.
    host, port : str, int
        The SMTP server.
    sender : str
        The From address.
    timeout_s : float
        SMTP connection timeout.
    lease_s : float
        How long a claimed message is left to one sender before another may take it.
    backoff_s : sequence of float
        Waits before successive retries.
    """

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[sqlite3.Connection]],
        host: str,
        port: int,
        sender: str,
        *,
        timeout_s: float = 10.0,
        lease_s: float = 60.0,
        backoff_s: tuple[float, ...] = BACKOFF_S,
    ) -> None:
        self.connect, self.host, self.port, self.sender = connect, host, port, sender
        self.timeout_s, self.lease_s, self.backoff_s = timeout_s, lease_s, backoff_s

    def _claim(self, now: float) -> sqlite3.Row | None:
        with self.connect() as con:
            row = con.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                "AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is not None:
                con.execute("UPDATE outbox SET lease_until = ? WHERE id = ?", (now + self.lease_s, row["id"]))
        return row

    def _message(self, row: sqlite3.Row) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = row["to_addr"]
        msg["Subject"] = row["subject"]
        msg["Date"] = formatdate(row["created_at"], usegmt=True)
        domain = self.sender.rpartition("@")[2] or "sitematch.local"
        msg["Message-ID"] = f"<outbox-{row['id']}-{int(row['created_at'])}@{domain}>"
        msg.set_content(row["body"])
        return msg

    def send_due(self, now: float | None = None) -> int:
        """Send every message due at ``now``; returns how many were sent (failures are retried later)."""
        sent = 0
        now = time.time() if now is None else now
        while (row := self._claim(now)) is not None:
            try:
                with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                    smtp.send_message(self._message(row))
            except (OSError, smtplib.SMTPException) as exc:
                attempts = int(row["attempts"]) + 1
                wait = self.backoff_s[min(attempts, len(self.backoff_s)) - 1]
                with self.connect() as con:
                    con.execute(
                        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, lease_until = NULL, last_error = ? "
                        "WHERE id = ?",
                        (attempts, now + wait, type(exc).__name__, row["id"]),
                    )
                log.warning(
                    "outbox message %s not sent (attempt %d, %s); retry in %.0f s",
                    row["id"],
                    attempts,
                    type(exc).__name__,
                    wait,
                )
                continue
            with self.connect() as con:
                con.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, lease_until = NULL "
                    "WHERE id = ?",
                    (time.time(), row["id"]),
                )
            log.info("outbox message %s sent", row["id"])
            sent += 1
        return sent

    def run(self, stop: threading.Event, poll_s: float = 2.0) -> None:
        """Send due messages every ``poll_s`` seconds until ``stop`` is set (a background thread)."""
        while not stop.is_set():
            try:
                self.send_due()
            except sqlite3.Error as exc:  # a busy database: try again at the next poll
                log.warning("outbox: database not available (%s)", type(exc).__name__)
            stop.wait(poll_s)


def pending(connect: Callable[[], AbstractContextManager[sqlite3.Connection]]) -> list[dict[str, object]]:
    """Messages not yet sent, oldest first: id, attempts, last error (no addresses or text)."""
    with connect() as con:
        rows = con.execute(
            "SELECT id, attempts, last_error, next_attempt_at FROM outbox WHERE status = 'pending' ORDER BY id"
        ).fetchall()
    return [dict(r) for r in rows]
