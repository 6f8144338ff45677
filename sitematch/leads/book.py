"""The lead log: leads, their status history and profile versions, requests and answers.

Kept in the service's SQLite database (the caller passes its ``connect``: a context manager that
yields one connection inside one transaction, committed when the block succeeds), beside the
:mod:`outbox <sitematch.leads.outbox>`. A change and the messages it causes are written in the same
transaction, so a killed service never loses a notification nor sends one for a change that did
not happen.

Nothing here decides who may see what: the service checks roles before calling, and
:meth:`Lead.public <sitematch.leads.model.Lead.public>` is all a municipality is ever given of a lead.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sitematch._sqlite import transaction, use_wal
from sitematch.leads import outbox
from sitematch.leads.answers import check_detail
from sitematch.leads.model import ANSWERS, SOURCES, Lead, LeadError, LeadNotFoundError, StatusChange, check_step
from sitematch.leads.requests import PlannedRequest

Connect = Callable[[], AbstractContextManager[sqlite3.Connection]]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, reference TEXT NOT NULL, company TEXT NOT NULL, "
    "contact TEXT NOT NULL, sector TEXT NOT NULL, source TEXT NOT NULL, confidential INTEGER NOT NULL, "
    "advisers TEXT NOT NULL, status TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lead_history (id INTEGER PRIMARY KEY AUTOINCREMENT, lead_id TEXT NOT NULL "
    "REFERENCES leads(id), status TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lead_profiles (lead_id TEXT NOT NULL REFERENCES leads(id), version INTEGER NOT NULL, "
    "data TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL, PRIMARY KEY (lead_id, version))",
    "CREATE TABLE IF NOT EXISTS lead_matches (lead_id TEXT NOT NULL REFERENCES leads(id), match_id TEXT NOT NULL, "
    "at TEXT NOT NULL, PRIMARY KEY (lead_id, match_id))",
    "CREATE TABLE IF NOT EXISTS lead_requests (id TEXT PRIMARY KEY, lead_id TEXT NOT NULL REFERENCES leads(id), "
    "municipality_code TEXT NOT NULL, match_id TEXT NOT NULL, body TEXT NOT NULL, reply_by TEXT NOT NULL, "
    "created_at TEXT NOT NULL, created_by TEXT NOT NULL, answered_at TEXT, reminded_at TEXT)",
    "CREATE TABLE IF NOT EXISTS request_answers (request_id TEXT NOT NULL REFERENCES lead_requests(id), "
    "plot_id TEXT NOT NULL, answer TEXT NOT NULL, detail TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, "
    "by TEXT NOT NULL, PRIMARY KEY (request_id, plot_id))",
    "CREATE TABLE IF NOT EXISTS contacts (recipient TEXT NOT NULL, email TEXT NOT NULL, "
    "PRIMARY KEY (recipient, email))",
    "CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL, "
    "text TEXT NOT NULL, link TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS shares (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, lead_id TEXT NOT NULL "
    "REFERENCES leads(id), match_id TEXT NOT NULL, plot_ids TEXT NOT NULL, created_by TEXT NOT NULL, "
    "created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)",
    "CREATE TABLE IF NOT EXISTS share_opens (share_id TEXT NOT NULL REFERENCES shares(id), at TEXT NOT NULL)",
    *outbox.SCHEMA,
)


def now_iso() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def municipality_recipient(code: str) -> str:
    """The recipient key of a municipality's contacts and notifications (its role name)."""
    return f"municipality:{code}"


def user_recipient(username: str) -> str:
    """The recipient key of one account's contacts and notifications."""
    return f"user:{username}"


@dataclass(frozen=True)
class Request:
    """A request to one municipality about one lead, with the answers given so far."""

    id: str
    lead_id: str
    municipality_code: str
    match_id: str
    body: dict[str, Any]
    reply_by: str
    created_at: str
    created_by: str
    answered_at: str | None
    answers: dict[str, dict[str, Any]]

    @property
    def plot_ids(self) -> list[str]:
        """The sites the request asks about, in the request's order."""
        return [x["plot_id"] for x in self.body.get("sites", [])]


class LeadBook:
    """The lead log in the service database.

    Parameters
    ----------
    connect : callable
        Returns a context manager yielding a :class:`sqlite3.Connection` (rows as
        :class:`sqlite3.Row`) inside one transaction — e.g. ``Database.connect`` of the service.
    read : callable, optional
        The same for a read-only snapshot that takes no write lock (``Database.read``); default
        ``connect``.

    Examples
    --------
    >>> import tempfile
    >>> book = LeadBook(sqlite_connect(f"{tempfile.mkdtemp()}/service.sqlite"))
    >>> lead = book.create_lead("anna", reference="BS-1", sector="logistics", source="fair", profile={"name": "x"})
    >>> book.lead(lead.id).status, [c.status for c in book.lead(lead.id).history]
    ('new', ['new'])
    """

    def __init__(self, connect: Connect, read: Connect | None = None) -> None:
        self.connect = connect
        self.read = read or connect
        with self.connect() as con:
            for statement in SCHEMA:
                con.execute(statement)

    # -- leads ---------------------------------------------------------------------------------
    def create_lead(
        self,
        by: str,
        *,
        reference: str,
        sector: str,
        source: str,
        profile: dict[str, Any],
        company: str = "",
        contact: str = "",
        confidential: bool = False,
        advisers: Iterable[str] = (),
    ) -> Lead:
        """Record a new lead (status ``new``) with its profile as version 1."""
        if source not in SOURCES:
            raise LeadError(f"unknown source {source!r}", key="source", hint=f"Use one of: {', '.join(SOURCES)}.")
        if not reference.strip():
            raise LeadError("a lead needs a reference", key="reference")
        lead_id = secrets.token_hex(8)
        at = now_iso()
        with self.connect() as con:
            con.execute(
                "INSERT INTO leads VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    lead_id,
                    reference,
                    company,
                    contact,
                    sector,
                    source,
                    int(confidential),
                    json.dumps(sorted(set(advisers) | {by})),
                    "new",
                    by,
                    at,
                ),
            )
            con.execute(
                "INSERT INTO lead_history (lead_id, status, reason, at, by) VALUES (?,?,?,?,?)",
                (lead_id, "new", "", at, by),
            )
            con.execute("INSERT INTO lead_profiles VALUES (?,?,?,?,?)", (lead_id, 1, json.dumps(profile), at, by))
        return self.lead(lead_id)

    def lead(self, lead_id: str) -> Lead:
        """One lead with its history; LeadError (not found) when there is none."""
        with self.read() as con:
            row = con.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
            if row is None:
                raise LeadNotFoundError(f"no lead {lead_id!r}", key="lead")
            history = con.execute(
                "SELECT status, at, by, reason FROM lead_history WHERE lead_id = ? ORDER BY id", (lead_id,)
            ).fetchall()
        return _lead(row, tuple(StatusChange(h["status"], h["at"], h["by"], h["reason"]) for h in history))

    def leads(self) -> list[Lead]:
        """Every lead, newest first (the caller filters by who may see them)."""
        with self.read() as con:
            rows = con.execute("SELECT * FROM leads ORDER BY created_at DESC, id").fetchall()
            history = con.execute("SELECT lead_id, status, at, by, reason FROM lead_history ORDER BY id").fetchall()
        by_lead: dict[str, list[StatusChange]] = {}
        for h in history:
            by_lead.setdefault(h["lead_id"], []).append(StatusChange(h["status"], h["at"], h["by"], h["reason"]))
        return [_lead(r, tuple(by_lead.get(r["id"], ()))) for r in rows]

    def set_status(self, lead_id: str, status: str, by: str, reason: str = "") -> Lead:
        """Move a lead to ``status`` (checked against the process), keeping the step in its history."""
        with self.connect() as con:
            self._step(con, lead_id, status, by, reason)
        return self.lead(lead_id)

    def _step(self, con: sqlite3.Connection, lead_id: str, status: str, by: str, reason: str) -> None:
        row = con.execute("SELECT status FROM leads WHERE id = ?", (lead_id,)).fetchone()
        if row is None:
            raise LeadNotFoundError(f"no lead {lead_id!r}", key="lead")
        check_step(row["status"], status, reason)
        con.execute("UPDATE leads SET status = ? WHERE id = ?", (status, lead_id))
        con.execute(
            "INSERT INTO lead_history (lead_id, status, reason, at, by) VALUES (?,?,?,?,?)",
            (lead_id, status, reason, now_iso(), by),
        )

    # -- profiles and matches ------------------------------------------------------------------
    def save_profile(self, lead_id: str, profile: dict[str, Any], by: str) -> int:
        """Keep a new version of the lead's profile (earlier versions stay); returns its number."""
        with self.connect() as con:
            self._require(con, lead_id)
            (last,) = con.execute("SELECT max(version) FROM lead_profiles WHERE lead_id = ?", (lead_id,)).fetchone()
            version = int(last or 0) + 1
            con.execute(
                "INSERT INTO lead_profiles VALUES (?,?,?,?,?)", (lead_id, version, json.dumps(profile), now_iso(), by)
            )
        return version

    def profiles(self, lead_id: str) -> list[dict[str, Any]]:
        """Every version of the lead's profile, oldest first: ``{version, at, by, data}``."""
        with self.read() as con:
            rows = con.execute(
                "SELECT version, at, by, data FROM lead_profiles WHERE lead_id = ? ORDER BY version", (lead_id,)
            ).fetchall()
        return [{"version": r["version"], "at": r["at"], "by": r["by"], "data": json.loads(r["data"])} for r in rows]

    def record_match(self, lead_id: str, match_id: str, by: str) -> None:
        """Link a stored match to the lead; the first match moves a new lead to ``searching``."""
        with self.connect() as con:
            status = self._require(con, lead_id)
            con.execute("INSERT OR IGNORE INTO lead_matches VALUES (?,?,?)", (lead_id, match_id, now_iso()))
            if status == "new":
                self._step(con, lead_id, "searching", by, "")

    def lead_of_match(self, match_id: str) -> str | None:
        """The lead a stored match was made for, if any."""
        with self.read() as con:
            row = con.execute("SELECT lead_id FROM lead_matches WHERE match_id = ?", (match_id,)).fetchone()
        return None if row is None else str(row["lead_id"])

    def matches(self, lead_id: str) -> list[str]:
        """The lead's match ids, oldest first."""
        with self.read() as con:
            rows = con.execute(
                "SELECT match_id FROM lead_matches WHERE lead_id = ? ORDER BY at, match_id", (lead_id,)
            ).fetchall()
        return [r["match_id"] for r in rows]

    @staticmethod
    def _require(con: sqlite3.Connection, lead_id: str) -> str:
        row = con.execute("SELECT status FROM leads WHERE id = ?", (lead_id,)).fetchone()
        if row is None:
            raise LeadNotFoundError(f"no lead {lead_id!r}", key="lead")
        return str(row["status"])

    # -- contacts and notifications ------------------------------------------------------------
    def add_contact(self, recipient: str, email: str) -> None:
        """An e-mail address that gets ``recipient``'s notifications (a municipality or an account)."""
        email = email.strip()
        if "@" not in email or any(c in email for c in "\r\n<>,; ") or len(email) > 254:
            raise LeadError(f"{email!r} is not an e-mail address", key="email")
        with self.connect() as con:
            con.execute("INSERT OR IGNORE INTO contacts VALUES (?,?)", (recipient, email))

    def notifications(self, recipient: str) -> list[dict[str, Any]]:
        """Everything ``recipient`` was told, newest first (the page shows them: no e-mail needed)."""
        with self.read() as con:
            rows = con.execute(
                "SELECT text, link, at FROM notifications WHERE recipient = ? ORDER BY id DESC", (recipient,)
            ).fetchall()
        return [dict(r) for r in rows]

    def _notify(self, con: sqlite3.Connection, recipient: str, subject: str, text: str, link: str) -> None:
        """A notification in the page and, for each of the recipient's addresses, a message in the outbox."""
        con.execute(
            "INSERT INTO notifications (recipient, text, link, at) VALUES (?,?,?,?)",
            (recipient, subject, link, now_iso()),
        )
        for (email,) in con.execute("SELECT email FROM contacts WHERE recipient = ?", (recipient,)).fetchall():
            outbox.enqueue(con, to_addr=email, subject=subject, body=f"{text}\n\n{link}\n")

    # -- requests and answers ------------------------------------------------------------------
    def send_requests(
        self, lead_id: str, match_id: str, planned: Iterable[PlannedRequest], reply_by: str, by: str, link: str = ""
    ) -> list[str]:
        """Record one request per planned municipality, notify each, and move the lead to
        ``requests_sent`` — all in one transaction. Returns the request ids.

        The request body holds the lead's public part (reference, sector) and the planned sites; never
        the company or the contact.
        """
        try:
            dt.date.fromisoformat(reply_by)
        except ValueError:
            raise LeadError(f"reply-by date {reply_by!r} is not a date (YYYY-MM-DD)", key="reply_by") from None
        planned = list(planned)
        if not planned:
            raise LeadError("no municipality has ranked sites or near misses for this lead: nothing to ask")
        lead = self.lead(lead_id)
        public = lead.public()
        ids = []
        at = now_iso()
        with self.connect() as con:
            if lead.status != "requests_sent":
                self._step(con, lead_id, "requests_sent", by, "")
            for p in planned:
                request_id = secrets.token_hex(8)
                body = {"lead": public, **p.to_data()}
                con.execute(
                    "INSERT INTO lead_requests VALUES (?,?,?,?,?,?,?,?,NULL,NULL)",
                    (request_id, lead_id, p.municipality_code, match_id, json.dumps(body), reply_by, at, by),
                )
                lines = [
                    f"Förfrågan om etablering / Establishment request {public['reference']} ({public['sector']})",
                    f"Svara senast / Reply by: {reply_by}",
                    "",
                    "Behov / Needs:",
                ]
                lines += [f"  - {n}" for n in p.needs]
                lines += ["", f"Era tomter / Your sites ({len(p.sites)}):"]
                for site in p.sites:
                    extra = "; ".join([*(f"att verifiera: {v}" for v in site.to_verify), *site.lacks])
                    lines.append(f"  - {site.plot_id}" + (f": {extra}" if extra else ""))
                self._notify(
                    con,
                    _municipality(p.municipality_code),
                    f"Ny förfrågan {public['reference']} / New request",
                    "\n".join(lines),
                    f"{link}/requests/{request_id}" if link else f"/requests/{request_id}",
                )
                ids.append(request_id)
        return ids

    def requests(self, *, lead_id: str | None = None, municipality_code: str | None = None) -> list[Request]:
        """Requests of one lead or to one municipality (or all), oldest first."""
        where, args = [], []
        if lead_id is not None:
            where.append("lead_id = ?")
            args.append(lead_id)
        if municipality_code is not None:
            where.append("municipality_code = ?")
            args.append(municipality_code)
        sql = "SELECT * FROM lead_requests" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self.read() as con:
            rows = con.execute(sql + " ORDER BY created_at, municipality_code, id", args).fetchall()
            answers = con.execute("SELECT * FROM request_answers").fetchall()
        by_request: dict[str, dict[str, dict[str, Any]]] = {}
        for a in answers:
            by_request.setdefault(a["request_id"], {})[a["plot_id"]] = {
                "answer": a["answer"],
                "detail": json.loads(a["detail"]),
                "state": a["state"],
                "at": a["at"],
                "by": a["by"],
            }
        return [_request(r, by_request.get(r["id"], {})) for r in rows]

    def request(self, request_id: str) -> Request:
        """One request with its answers; LeadError when there is none."""
        with self.read() as con:
            row = con.execute("SELECT * FROM lead_requests WHERE id = ?", (request_id,)).fetchone()
            if row is None:
                raise LeadNotFoundError(f"no request {request_id!r}", key="request")
            answers = con.execute("SELECT * FROM request_answers WHERE request_id = ?", (request_id,)).fetchall()
        return _request(
            row,
            {
                a["plot_id"]: {
                    "answer": a["answer"],
                    "detail": json.loads(a["detail"]),
                    "state": a["state"],
                    "at": a["at"],
                    "by": a["by"],
                }
                for a in answers
            },
        )

    def answer(self, request_id: str, plot_id: str, answer: str, by: str, detail: dict[str, Any] | None = None) -> None:
        """Save a draft answer for one site (sent with :meth:`send_answers`; a later draft replaces it)."""
        if answer not in ANSWERS:
            raise LeadError(f"unknown answer {answer!r}", key="answer", hint=f"Use one of: {', '.join(ANSWERS)}.")
        detail = check_detail(answer, dict(detail or {}))
        if answer == "not_available" and not str(detail.get("reason", "")).strip():
            raise LeadError("'not available' needs a reason", key="reason")
        request = self.request(request_id)
        if plot_id not in request.plot_ids and answer != "proposed":
            raise LeadError(f"plot {plot_id!r} is not in request {request_id}", key="plot_id")
        if request.answers.get(plot_id, {}).get("state") == "sent":
            raise LeadError(f"the answer for {plot_id} was already sent", key="plot_id")
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO request_answers VALUES (?,?,?,?,?,?,?)",
                (request_id, plot_id, answer, json.dumps(detail), "draft", now_iso(), by),
            )

    def send_answers(self, request_id: str, by: str, link: str = "") -> int:
        """Send the request's draft answers: mark them sent, date the request's first answer and tell
        the lead's advisers. Returns how many were sent."""
        request = self.request(request_id)
        drafts = [p for p, a in request.answers.items() if a["state"] == "draft"]
        if not drafts:
            raise LeadError("no draft answer to send", key="request")
        lead = self.lead(request.lead_id)
        at = now_iso()
        with self.connect() as con:
            con.executemany(
                "UPDATE request_answers SET state = 'sent', at = ? WHERE request_id = ? AND plot_id = ?",
                [(at, request_id, p) for p in drafts],
            )
            con.execute(
                "UPDATE lead_requests SET answered_at = coalesce(answered_at, ?) WHERE id = ?", (at, request_id)
            )
            subject = f"Svar från {request.body.get('municipality_name', request.municipality_code)} / Answer"
            text = f"{len(drafts)} svar på förfrågan {lead.reference} / answers to request {lead.reference}"
            for adviser in lead.advisers:
                self._notify(
                    con,
                    user_recipient(adviser),
                    subject,
                    text,
                    f"{link}/leads/{lead.id}" if link else f"/leads/{lead.id}",
                )
        return len(drafts)

    def remind(self, today: str, days_before: int = 2, link: str = "") -> int:
        """Remind each municipality once of its unanswered requests due within ``days_before`` days
        of ``today`` (YYYY-MM-DD). Returns how many reminders were written."""
        due = (dt.date.fromisoformat(today) + dt.timedelta(days=days_before)).isoformat()
        with self.connect() as con:
            rows = con.execute(
                "SELECT r.id, r.municipality_code, r.reply_by, l.reference FROM lead_requests r "
                "JOIN leads l ON l.id = r.lead_id WHERE r.answered_at IS NULL AND r.reminded_at IS NULL "
                "AND r.reply_by <= ? AND l.status NOT IN ('won', 'lost', 'paused')",
                (due,),
            ).fetchall()
            for r in rows:
                self._notify(
                    con,
                    _municipality(r["municipality_code"]),
                    f"Påminnelse: svar senast {r['reply_by']} / Reminder: reply by {r['reply_by']}",
                    f"Förfrågan {r['reference']} väntar på svar / Request {r['reference']} awaits an answer",
                    f"{link}/requests/{r['id']}" if link else f"/requests/{r['id']}",
                )
                con.execute("UPDATE lead_requests SET reminded_at = ? WHERE id = ?", (now_iso(), r["id"]))
        return len(rows)

    # -- shortlists shared with the investor ---------------------------------------------------------
    def create_share(self, lead_id: str, match_id: str, plot_ids: list[str], by: str, days: int) -> tuple[str, str]:
        """A read-only link to a curated shortlist (``plot_ids`` in the adviser's order) that expires
        after ``days``. Returns ``(share id, token)``; only the token's hash is kept."""
        if not plot_ids:
            raise LeadError("choose at least one site to share", key="plot_ids")
        if len(set(plot_ids)) != len(plot_ids):
            raise LeadError("a site is chosen twice", key="plot_ids")
        if not 1 <= days <= 365:
            raise LeadError("a shared link lasts 1 to 365 days", key="days")
        token = secrets.token_urlsafe(24)
        share_id = secrets.token_hex(8)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(microsecond=0).isoformat()
        with self.connect() as con:
            self._require(con, lead_id)
            con.execute(
                "INSERT INTO shares VALUES (?,?,?,?,?,?,?,?,NULL)",
                (share_id, _hash(token), lead_id, match_id, json.dumps(plot_ids), by, now_iso(), expires),
            )
        return share_id, token

    def shares(self, lead_id: str) -> list[dict[str, Any]]:
        """The lead's shared links (never their tokens), with how often each was opened."""
        with self.read() as con:
            rows = con.execute(
                "SELECT s.id, s.match_id, s.plot_ids, s.created_by, s.created_at, s.expires_at, s.revoked_at, "
                "(SELECT count(*) FROM share_opens o WHERE o.share_id = s.id) AS opened, "
                "(SELECT max(at) FROM share_opens o WHERE o.share_id = s.id) AS last_opened "
                "FROM shares s WHERE lead_id = ? ORDER BY created_at",
                (lead_id,),
            ).fetchall()
        return [{**dict(r), "plot_ids": json.loads(r["plot_ids"])} for r in rows]

    def open_share(self, token: str, *, log: bool = True) -> dict[str, Any]:
        """The shared shortlist behind ``token``, its opening logged unless ``log`` is false.

        LeadNotFoundError when there is none, or it expired or was revoked — the same answer for
        each, so a token cannot be probed.
        """
        with self.connect() as con:
            row = con.execute("SELECT * FROM shares WHERE token_hash = ?", (_hash(token),)).fetchone()
            if row is None or row["revoked_at"] or row["expires_at"] <= now_iso():
                raise LeadNotFoundError("this link does not exist, has expired or was withdrawn", key="share")
            if log:
                con.execute("INSERT INTO share_opens VALUES (?,?)", (row["id"], now_iso()))
        return {**dict(row), "plot_ids": json.loads(row["plot_ids"])}

    def revoke_share(self, lead_id: str, share_id: str) -> None:
        """Withdraw a shared link at once."""
        with self.connect() as con:
            cur = con.execute(
                "UPDATE shares SET revoked_at = ? WHERE id = ? AND lead_id = ? AND revoked_at IS NULL",
                (now_iso(), share_id, lead_id),
            )
            if cur.rowcount == 0:
                raise LeadNotFoundError(f"no active shared link {share_id!r} for this lead", key="share")


def _hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _municipality(code: str) -> str:
    return municipality_recipient(code)


def _lead(row: sqlite3.Row, history: tuple[StatusChange, ...]) -> Lead:
    return Lead(
        id=row["id"],
        reference=row["reference"],
        sector=row["sector"],
        source=row["source"],
        confidential=bool(row["confidential"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        status=row["status"],
        company=row["company"],
        contact=row["contact"],
        advisers=tuple(json.loads(row["advisers"])),
        history=history,
    )


def _request(row: sqlite3.Row, answers: dict[str, dict[str, Any]]) -> Request:
    return Request(
        id=row["id"],
        lead_id=row["lead_id"],
        municipality_code=row["municipality_code"],
        match_id=row["match_id"],
        body=json.loads(row["body"]),
        reply_by=row["reply_by"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        answered_at=row["answered_at"],
        answers=answers,
    )


def sqlite_connect(path: str) -> Connect:
    """A ``connect`` for :class:`LeadBook` on a SQLite file (WAL; one write transaction per block).

    The service passes its own database's ``connect`` and ``read``; this one is for the command line
    and tests.
    """
    use_wal(path)
    return functools.partial(transaction, path)
