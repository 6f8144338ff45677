"""The lead log: the process, tailored requests, answers, notifications over real SMTP, and figures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from sitematch import schema as s
from sitematch.leads import LeadBook, LeadError, OutboxSender, kpi, plan_requests, sqlite_connect
from sitematch.leads.book import municipality_recipient, user_recipient
from sitematch.leads.outbox import pending
from tests._smtp import Inbox

COMPANY = "Hemligbolaget Nordic AB"
CONTACT = "Greta Hemlig, greta@hemligbolaget.example"


@pytest.fixture(scope="module")
def result():
    from sitematch import LayerSet, load_profile, match, settings

    layers = LayerSet.from_path(settings.layers_path())
    return match(load_profile("scenarios/battery_plant.yaml", registry=layers.registry), layers)


@pytest.fixture
def book(tmp_path: Path) -> LeadBook:
    return LeadBook(sqlite_connect(str(tmp_path / "service.sqlite")))


def _lead(book: LeadBook, **kw):
    return book.create_lead(
        "anna",
        reference="BS-2026-200",
        sector="battery",
        source="business_sweden",
        profile={"name": "x"},
        company=COMPANY,
        contact=CONTACT,
        confidential=True,
        **kw,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on loopback (aiosmtpd), started and stopped by the test."""
    port = _free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox, port
    controller.stop()


# -- which municipalities are asked ------------------------------------------------------------------


def test_requests_go_only_to_municipalities_with_ranked_sites_or_near_misses(result):
    planned = plan_requests(result)
    sites = result.sites
    # Independently of plan_requests: the municipalities of the ranked sites and of the near misses.
    expected = set(sites.loc[sites["rank"].notna(), s.MUNICIPALITY_CODE]) | set(
        sites.loc[sites["near_miss"].astype(bool), s.MUNICIPALITY_CODE]
    )
    assert {p.municipality_code for p in planned} == expected
    assert len(expected) < sites[s.MUNICIPALITY_CODE].nunique()  # not everyone
    for p in planned:
        codes = set(sites.set_index(s.PLOT_ID).loc[[x.plot_id for x in p.sites], s.MUNICIPALITY_CODE])
        assert codes == {p.municipality_code}  # each lists only its own sites
        assert all(x.lacks for x in p.near_misses)  # a near miss says what it lacks
        assert p.needs == tuple(r.describe() for r in result.profile.requirements)
    ranked_ids = [x.plot_id for p in planned for x in p.ranked]
    assert sorted(ranked_ids) == sorted(sites.loc[sites["rank"].notna(), s.PLOT_ID])


# -- the process ---------------------------------------------------------------------------------------


def test_status_steps_follow_the_process_and_are_kept(book):
    lead = _lead(book)
    book.record_match(lead.id, "m1", "anna")
    assert book.lead(lead.id).status == "searching"
    with pytest.raises(LeadError, match="only with a reason"):
        book.set_status(lead.id, "lost", "anna")
    book.set_status(lead.id, "paused", "anna", reason="investor waits for board decision")
    with pytest.raises(LeadError, match="cannot become 'won'"):
        book.set_status(lead.id, "won", "anna")
    history = book.lead(lead.id).history
    assert [c.status for c in history] == ["new", "searching", "paused"]
    assert history[-1].reason == "investor waits for board decision"


def test_profile_versions_keep_the_earlier_ones(book):
    lead = _lead(book)
    assert book.save_profile(lead.id, {"name": "y", "requirements": {"min_area_ha": 30}}, "anna") == 2
    versions = book.profiles(lead.id)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["data"] == {"name": "x"}


def test_whole_cycle_requests_answers_and_no_company_anywhere_a_municipality_reads(book, result):
    lead = _lead(book)
    book.add_contact(municipality_recipient("2180"), "naringsliv@gavle.example")
    book.add_contact(user_recipient("anna"), "anna@invest.example")
    book.record_match(lead.id, "m1", "anna")
    planned = plan_requests(result)
    ids = book.send_requests(lead.id, "m1", planned, "2026-12-20", "anna")
    assert len(ids) == len(planned)
    assert book.lead(lead.id).status == "requests_sent"

    gavle = book.requests(municipality_code="2180")
    assert len(gavle) == 1
    request = gavle[0]
    everything_a_municipality_reads = json.dumps(request.body, ensure_ascii=False) + json.dumps(
        book.notifications(municipality_recipient("2180")), ensure_ascii=False
    )
    with book.connect() as con:
        everything_a_municipality_reads += " ".join(
            r["subject"] + r["body"] for r in con.execute("SELECT subject, body FROM outbox").fetchall()
        )
    assert "BS-2026-200" in everything_a_municipality_reads
    for secret in (COMPANY, "Hemligbolaget", "Greta", "greta@"):
        assert secret not in everything_a_municipality_reads

    first, second, third = request.plot_ids[:3]
    book.answer(request.id, first, "confirmed", "gavle-user")
    book.answer(request.id, second, "updated", "gavle-user", {"price_sek_m2": 450})
    with pytest.raises(LeadError, match="needs a reason"):
        book.answer(request.id, third, "not_available", "gavle-user")
    book.answer(request.id, third, "not_available", "gavle-user", {"reason": "sold"})
    with pytest.raises(LeadError, match="not in request"):
        book.answer(request.id, "0180:NOPE", "confirmed", "gavle-user")
    assert book.request(request.id).answered_at is None  # drafts are not answers yet
    assert book.send_answers(request.id, "gavle-user") == 3
    answered = book.request(request.id)
    assert answered.answered_at is not None
    assert {p: a["answer"] for p, a in answered.answers.items()} == {
        first: "confirmed",
        second: "updated",
        third: "not_available",
    }
    assert book.notifications(user_recipient("anna"))[0]["text"].startswith("Svar från")
    with pytest.raises(LeadError, match="already sent"):
        book.answer(request.id, first, "not_available", "gavle-user", {"reason": "changed mind"})


def test_reminders_once_before_the_reply_by_date(book, result):
    lead = _lead(book)
    planned = plan_requests(result)[:2]
    book.send_requests(lead.id, "m1", planned, "2026-12-20", "anna")
    assert book.remind("2026-12-10") == 0  # ten days before: not yet
    assert book.remind("2026-12-18") == 2
    assert book.remind("2026-12-19") == 0  # once
    texts = [n["text"] for n in book.notifications(municipality_recipient(planned[0].municipality_code))]
    assert sum(t.startswith("Påminnelse") for t in texts) == 1


def test_bad_inputs_are_refused_with_the_key(book):
    with pytest.raises(LeadError) as err:
        book.create_lead("anna", reference="R", sector="x", source="tv", profile={})
    assert err.value.key == "source"
    lead = _lead(book)
    with pytest.raises(LeadError, match="not a date"):
        book.send_requests(lead.id, "m1", [], "20 december", "anna")
    with pytest.raises(LeadError, match="nothing to ask"):
        book.send_requests(lead.id, "m1", [], "2026-12-20", "anna")
    with pytest.raises(LeadError, match="not an e-mail"):
        book.add_contact("municipality:0180", "a@b\r\nBcc: x@y")


# -- notifications over a real SMTP server --------------------------------------------------------------


def _request_with_mail(book, result, code="2180"):
    book.add_contact(municipality_recipient(code), f"kontakt-{code}@kommun.example")
    lead = _lead(book)
    planned = [p for p in plan_requests(result) if p.municipality_code == code]
    book.send_requests(lead.id, "m1", planned, "2026-12-20", "anna")
    return lead


def test_each_message_arrives_once(book, result, smtp):
    _, inbox, port = smtp
    _request_with_mail(book, result)
    sender = OutboxSender(book.connect, "127.0.0.1", port, "sitematch@invest.example")
    assert sender.send_due() == 1
    assert sender.send_due() == 0
    assert sender.send_due(time.time() + 3600) == 0
    assert len(inbox.messages) == 1
    rcpt, text = inbox.messages[0]
    assert rcpt == ["kontakt-2180@kommun.example"]
    assert "BS-2026-200" in text and COMPANY not in text


def test_smtp_server_down_then_back_delivers_once(book, result):
    port = _free_port()
    lead = _request_with_mail(book, result)  # the change succeeds with no mail server at all
    assert book.lead(lead.id).status == "requests_sent"
    sender = OutboxSender(book.connect, "127.0.0.1", port, "sitematch@invest.example", timeout_s=2)
    assert sender.send_due() == 0
    (waiting,) = pending(book.connect)
    assert waiting["attempts"] == 1 and waiting["last_error"]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert sender.send_due() == 0  # not due yet: back-off
        assert sender.send_due(time.time() + 60) == 1
        assert sender.send_due(time.time() + 3600) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert pending(book.connect) == []


KILLED_AFTER_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from sitematch import LayerSet, load_profile, match, settings
    from sitematch.leads import LeadBook, OutboxSender, plan_requests, sqlite_connect
    from sitematch.leads.book import municipality_recipient
    book = LeadBook(sqlite_connect(sys.argv[1]))
    book.add_contact(municipality_recipient("2180"), "kontakt@gavle.example")
    layers = LayerSet.from_path(settings.layers_path())
    result = match(load_profile("scenarios/battery_plant.yaml", registry=layers.registry), layers)
    lead = book.create_lead("anna", reference="BS-9", sector="x", source="direct", profile={})
    planned = [p for p in plan_requests(result) if p.municipality_code == "2180"]
    book.send_requests(lead.id, "m1", planned, "2026-12-20", "anna")   # committed
    if sys.argv[2] == "claimed":   # killed while sending: the message is claimed, not sent
        OutboxSender(book.connect, "127.0.0.1", 9, "x@y", lease_s=5)._claim(__import__("time").time())
    os.kill(os.getpid(), signal.SIGKILL)  # before any message is sent
    """
)


@pytest.mark.parametrize("when", ["committed", "claimed"])
def test_service_killed_between_commit_and_send_sends_after_restart_once(tmp_path, smtp, when):
    _, inbox, port = smtp
    db = tmp_path / "service.sqlite"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, str(db), when],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    book = LeadBook(sqlite_connect(str(db)))  # "after restart"
    assert book.requests()[0].municipality_code == "2180"
    sender = OutboxSender(book.connect, "127.0.0.1", port, "sitematch@invest.example")
    later = time.time() + (10 if when == "claimed" else 0)  # a claim's lease (5 s) has run out
    assert sender.send_due(later) == 1
    assert sender.send_due(later + 3600) == 0
    assert len(inbox.messages) == 1


# -- figures -----------------------------------------------------------------------------------------


def test_kpi_answer_times_per_municipality_equal_a_hand_computation(book):
    lead = _lead(book)
    # Requests with known dates: (municipality, created, first answer or None, answers sent)
    fixture = [
        ("1980", "2026-03-02T08:00:00+00:00", "2026-03-03T08:00:00+00:00", ["confirmed"]),  # 1.0 day
        ("1980", "2026-03-02T08:00:00+00:00", "2026-03-05T08:00:00+00:00", ["confirmed", "updated"]),  # 3.0
        ("1980", "2026-03-10T00:00:00+00:00", "2026-03-10T12:00:00+00:00", ["not_available"]),  # 0.5
        ("1980", "2026-03-11T00:00:00+00:00", "2026-03-21T00:00:00+00:00", ["confirmed"]),  # 10.0
        ("1980", "2026-03-12T00:00:00+00:00", None, []),  # unanswered
        ("0180", "2026-03-01T00:00:00+00:00", "2026-03-08T00:00:00+00:00", ["confirmed"]),  # 7.0
    ]
    with book.connect() as con:
        for i, (code, created, answered, answers) in enumerate(fixture):
            con.execute(
                "INSERT INTO lead_requests VALUES (?,?,?,?,?,?,?,?,?,NULL)",
                (f"r{i}", lead.id, code, "m1", "{}", "2026-04-01", created, "anna", answered),
            )
            for j, a in enumerate(answers):
                con.execute(
                    "INSERT INTO request_answers VALUES (?,?,?,?,?,?,?)",
                    (f"r{i}", f"{code}:P{j}", a, "{}", "sent", answered, "m"),
                )
    table = kpi.by_municipality(book.requests()).set_index("municipality_code")
    # 1980: times 0.5, 1, 3, 10 -> median (1 + 3) / 2 = 2; p90 nearest rank ceil(0.9*4)=4 -> 10
    # answers sent: confirmed, confirmed, updated, not_available, confirmed -> 3 of 5 confirmed
    assert table.loc["1980"].to_dict() == {
        "requests": 5,
        "answered": 4,
        "median_days": 2.0,
        "p90_days": 10.0,
        "share_confirmed": 0.6,
    }
    assert table.loc["0180"].to_dict() == {
        "requests": 1,
        "answered": 1,
        "median_days": 7.0,
        "p90_days": 7.0,
        "share_confirmed": 1.0,
    }
    # A period: only March 10-12 -> 1980's 0.5 and 10 days (and one unanswered)
    march = kpi.by_municipality(book.requests(), start="2026-03-10", end="2026-03-12").set_index("municipality_code")
    assert list(march.index) == ["1980"]
    assert march.loc["1980", "median_days"] == 5.25 and march.loc["1980", "p90_days"] == 10.0


def test_kpi_per_sector_source_and_lead(book):
    a = book.create_lead("anna", reference="A", sector="logistics", source="fair", profile={})
    b = book.create_lead("anna", reference="B", sector="logistics", source="direct", profile={})
    book.create_lead("anna", reference="C", sector="data centre", source="fair", profile={})
    for lead in (a, b):
        book.set_status(lead.id, "requests_sent", "anna")
        book.set_status(lead.id, "shortlist_sent", "anna")
    book.set_status(a.id, "won", "anna")
    sectors = kpi.by_group(book.leads(), "sector").set_index("sector")
    assert sectors.loc["logistics"].to_dict() == {"leads": 2, "shortlists_sent": 2, "won": 1}
    assert sectors.loc["data centre"].to_dict() == {"leads": 1, "shortlists_sent": 0, "won": 0}
    sources = kpi.by_group(book.leads(), "source").set_index("source")
    assert sources.loc["fair"].to_dict() == {"leads": 2, "shortlists_sent": 1, "won": 1}
    per_lead = kpi.by_lead(book.leads()).set_index("reference")
    assert per_lead.loc["A", "days_request_to_shortlist"] >= 0
    assert pd.isna(per_lead.loc["C", "days_request_to_shortlist"])


def test_cli_lists_shows_and_exports_without_company(tmp_path, result):
    from click.testing import CliRunner

    from sitematch.cli import main

    data = tmp_path / "data"
    data.mkdir()
    book = LeadBook(sqlite_connect(str(data / "service.sqlite")))
    lead = _lead(book)
    book.send_requests(lead.id, "m1", plan_requests(result)[:2], "2026-12-20", "anna")
    runner = CliRunner()
    listed = runner.invoke(main, ["leads", "list", "--data", str(data)], env={"COLUMNS": "80"})
    assert listed.exit_code == 0 and "BS-2026-200" in listed.output and "Hemlig" not in listed.output
    shown = runner.invoke(main, ["leads", "show", lead.id, "--data", str(data)], env={"COLUMNS": "80"})
    assert shown.exit_code == 0 and "requests_sent" in shown.output and "Hemlig" not in shown.output
    out = tmp_path / "kpi"
    exported = runner.invoke(main, ["leads", "export", "--out", str(out), "--excel", "--data", str(data)])
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in out.iterdir()) == ["leads.csv", "municipalities.csv", "sectors.csv", "sources.csv"]
    text = "".join(p.read_text(encoding="utf-8-sig") for p in out.iterdir())
    assert "BS-2026-200" in text and "Hemlig" not in text and ";" in text
    missing = runner.invoke(main, ["leads", "list", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "--data" in missing.output
    bad = runner.invoke(main, ["leads", "export", "--out", str(out), "--from", "1 jan", "--data", str(data)])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
