"""The lead process on a real ``sitematch serve`` (uvicorn on loopback), with the GeoPackage store and
with PostGIS, notifications through a real SMTP server on loopback (aiosmtpd):

an adviser records a confidential lead and matches it; requests go to exactly the municipalities
with ranked sites or near misses; a municipality sees only its own (403 on another's), confirms one
site, updates another's price (a new plot version in the history), declines a third; the adviser
sees the answers and the re-ranked shortlist; the status history and the audit log have each step;
and the lead's company and contact are in no municipality's page, request, e-mail, CSV, log line or
API answer.
"""

from __future__ import annotations

import html
import sqlite3
import time

import pytest
from aiosmtpd.controller import Controller

from tests._postgis import postgis_url  # noqa: F401 - the fixture
from tests._service import EXAMPLE_CSV, free_port, post_login, serve
from tests._smtp import Inbox
from tests.test_service_load import _fresh_database

pytestmark = pytest.mark.slow

COMPANY = "Hemligbolaget Nordic AB"
CONTACT = "Greta Hemlig, greta@hemligbolaget.example"
PROFILE = {
    "name": "Cell-component plant",
    "requirements": {"min_area_ha": 5},
    "preferences": {"area_ha": {"weight": 1, "full_at": 30, "zero_at": 5}},
    "near_miss_tolerance": 0.25,
}


def _wait_for(predicate, what: str, limit_s: float = 120) -> None:
    """A hang guard, not a timing assertion: the outbox is polled every second."""
    end = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.2)


def _session(server, user: str):
    """A logged-in browser session (cookie and CSRF token) for the pages."""
    import re

    import httpx

    client = httpx.Client(base_url=server.url, timeout=300, follow_redirects=False)
    r = post_login(client, user, Origin=server.url)
    assert r.status_code == 303, r.text
    page = client.get("/requests" if user in ("anna", "per") else "/leads").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client, csrf


@pytest.mark.parametrize("backend", ["GeoPackage", "PostGIS"])
def test_the_whole_lead_cycle(backend, tmp_path, request, monkeypatch) -> None:
    store = str(tmp_path / "plots.gpkg")
    if backend == "PostGIS":
        store = _fresh_database(request.getfixturevalue("postgis_url"))
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    monkeypatch.setenv("SITEMATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SITEMATCH_SMTP_PORT", str(port))
    monkeypatch.setenv("SITEMATCH_OUTBOX_POLL_S", "1")
    monkeypatch.setenv("SITEMATCH_MAIL_FROM", "sitematch@invest.example")
    try:
        with serve(tmp_path, store=store) as server:
            _cycle(server, inbox)
            log_text = server.log.read_text(encoding="utf-8", errors="replace")
    finally:
        smtp.stop()
    for secret in (COMPANY, "Hemligbolaget", "Greta", "greta@"):
        assert secret not in log_text


def _cycle(server, inbox: Inbox) -> None:
    bo, anna, per = server.client("bo"), server.client("anna"), server.client("per")
    assert anna.post("/api/plots", files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}).status_code == 201
    assert anna.post("/api/me/contacts", json={"email": "naringsliv@vasteras.example"}).status_code == 201
    assert bo.post("/api/me/contacts", json={"email": "bo@invest.example"}).status_code == 201

    # The adviser records a confidential lead and matches it.
    new = {"reference": "BS-2026-300", "sector": "battery", "source": "business_sweden", "company": COMPANY,
           "contact": CONTACT, "confidential": True, "profile": PROFILE}  # fmt: skip
    r = bo.post("/api/leads", json=new)
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["company"] == COMPANY and lead["status"] == "new"
    assert server.client("cy").get(f"/api/leads/{lead['id']}").status_code == 403  # confidential: not cy's
    assert anna.get(f"/api/leads/{lead['id']}").status_code == 403
    r = bo.post(f"/api/leads/{lead['id']}/matches")
    assert r.status_code == 201, r.text
    match_id = r.json()["id"]

    # Requests go to exactly the municipalities with ranked sites or near misses (from the match itself).
    result = bo.get(f"/api/matches/{match_id}").json()["result"]
    expected = {x["municipality_code"] for x in result["ranked"] if x["rank"] is not None} | {
        x["municipality_code"] for x in result["near_misses"]
    }
    assert "1980" in expected and len(expected) >= 2
    r = bo.post(f"/api/leads/{lead['id']}/requests", json={"reply_by": "2027-01-15"})
    assert r.status_code == 201, r.text
    requests = bo.get(f"/api/leads/{lead['id']}").json()["requests"]
    assert {q["municipality_code"] for q in requests} == expected
    assert bo.get(f"/api/leads/{lead['id']}").json()["status"] == "requests_sent"

    # A municipality sees only its own request and sites; 403 on another's.
    mine = anna.get("/api/requests").json()
    assert [q["municipality_code"] for q in mine] == ["1980"]
    other = next(q for q in requests if q["municipality_code"] != "1980")
    assert anna.get(f"/api/requests/{other['id']}").status_code == 403
    assert anna.put(f"/api/requests/{other['id']}/answers/{other['sites'][0]['plot_id']}",
                    json={"answer": "confirmed"}).status_code == 403  # fmt: skip
    request = mine[0]
    ours = [x["plot_id"] for x in request["sites"]]
    assert ours and all(p.startswith("1980:") for p in ours)
    assert len(ours) >= 3, ours

    # It confirms one, updates another's price, declines a third (drafts, then sent).
    first, second, third = ours[:3]
    assert anna.put(f"/api/requests/{request['id']}/answers/{first}", json={"answer": "confirmed"}).status_code == 200
    assert anna.put(f"/api/requests/{request['id']}/answers/{second}",
                    json={"answer": "updated", "detail": {"price_sek_m2": "450"}}).status_code == 200  # fmt: skip
    bad = anna.put(f"/api/requests/{request['id']}/answers/{third}", json={"answer": "not_available"})
    assert bad.status_code == 422 and bad.json()["key"] == "reason"
    declined = {"answer": "not_available", "detail": {"reason": "sold in November"}}
    assert anna.put(f"/api/requests/{request['id']}/answers/{third}", json=declined).status_code == 200
    bad = anna.put(f"/api/requests/{request['id']}/answers/{first}", json={"answer": "updated", "detail": {"prize": 1}})
    assert bad.status_code == 422 and "prize" in bad.json()["message"]
    extra = "Objekt_ID,Benämning,Användning,Planstatus,Ägare,Areal_ha,Byggklar,Pris_kr_kvm,lon,lat\n"
    extra += "Å-9,Finnslätten västra,J,laga_kraft,kommun,4.0,ja,300,16.4900,59.6250\n"
    assert anna.post("/api/plots", files={"file": ("ny.csv", extra.encode())}).status_code == 201
    uploaded = ["1980:Å-9"]
    assert uploaded[0] not in ours
    proposal = {"answer": "proposed", "detail": {"note": "ready in March"}}
    assert anna.put(f"/api/requests/{request['id']}/answers/{uploaded[0]}", json=proposal).status_code == 200
    refused = anna.put(f"/api/requests/{request['id']}/answers/1980:NOT-UPLOADED", json=proposal)
    assert refused.status_code == 422 and "upload it first" in refused.json()["message"]
    before = anna.get(f"/api/plots/{second}/history")  # a region plot has no store history yet (404)
    assert before.status_code in (200, 404), before.text
    versions_before = len(before.json()) if before.status_code == 200 else 0
    r = anna.post(f"/api/requests/{request['id']}/send")
    assert r.status_code == 200, r.text
    assert r.json()["sent"] == 4
    history = anna.get(f"/api/plots/{second}/history").json()
    assert len(history) == versions_before + 1 and history[-1]["price_sek_m2"] == 450

    # The adviser sees the answers and the re-ranked shortlist.
    answered = next(q for q in bo.get(f"/api/leads/{lead['id']}").json()["requests"] if q["id"] == request["id"])
    assert {p: a["answer"] for p, a in answered["answers"].items()} == {
        first: "confirmed",
        second: "updated",
        third: "not_available",
        uploaded[0]: "proposed",
    }
    r = bo.post(f"/api/leads/{lead['id']}/rerank")
    assert r.status_code == 201, r.text
    changes = r.json()["changes"]
    assert {c["plot_id"] for c in changes} >= {x["plot_id"] for x in result["ranked"]}
    assert all(c["change"] in ("new", "up", "down", "same", "gone") for c in changes)
    r = bo.post(f"/api/leads/{lead['id']}/status", json={"status": "shortlist_sent"})
    assert r.status_code == 200
    statuses = [h["status"] for h in r.json()["history"]]
    assert statuses == ["new", "searching", "requests_sent", "shortlist_sent"]

    # Notifications: the municipality's request e-mail and the adviser's answer e-mail, each once.
    _wait_for(lambda: len(inbox.messages) >= 2, "two e-mails")
    time.sleep(2.5)  # two more outbox polls: nothing is sent twice
    rcpts = sorted(m[0][0] for m in inbox.messages)
    assert rcpts == ["bo@invest.example", "naringsliv@vasteras.example"]

    # The audit log records each step.
    with sqlite3.connect(server.data_dir / "service.sqlite") as con:
        targets = [t for (t,) in con.execute("SELECT target FROM audit WHERE status < 400 ORDER BY id")]
    for path in (f"/api/leads/{lead['id']}/matches", f"/api/leads/{lead['id']}/requests",
                 f"/api/requests/{request['id']}/send", f"/api/leads/{lead['id']}/rerank",
                 f"/api/leads/{lead['id']}/status"):  # fmt: skip
        assert path in targets

    # The municipality's pages, e-mails, API answers and the figures' CSV carry no company or contact.
    client, _ = _session(server, "anna")
    seen = [client.get("/requests").text, client.get(f"/requests/{request['id']}").text]
    seen += [anna.get("/api/requests").text, anna.get(f"/api/requests/{request['id']}").text,
             anna.get("/api/me/notifications").text]  # fmt: skip
    seen += [per.get("/api/requests").text]
    seen += [m[1] for m in inbox.messages]
    seen += [bo.get(f"/kpi/{name}.csv").text for name in ("municipalities", "sectors", "sources", "leads")]
    assert "BS-2026-300" in seen[1]
    for text in seen:
        for secret in (COMPANY, "Hemligbolaget", "Greta", "greta@"):
            assert secret not in text


@pytest.mark.parametrize("backend", ["GeoPackage", "PostGIS"])
def test_pages_of_the_cycle_and_their_mistakes(backend, tmp_path, request) -> None:
    store = str(tmp_path / "plots.gpkg")
    if backend == "PostGIS":
        store = _fresh_database(request.getfixturevalue("postgis_url"))
    with serve(tmp_path, store=store) as server:
        adviser, csrf = _session(server, "bo")
        r = adviser.post("/leads", data={"csrf_token": csrf, "reference": "", "source": "fair",
                                         "profile_text": "name: x\nrequirements: {min_area_ha: 5}"})  # fmt: skip
        assert r.status_code == 422 and "reference" in r.text and "min_area_ha: 5" in r.text  # typed text kept
        r = adviser.post("/leads", data={"csrf_token": csrf, "reference": "R-1", "source": "fair",
                                         "profile_text": "name: x\nrequirements: {min_area_ha: tio}"})  # fmt: skip
        assert r.status_code == 422 and "min_area_ha" in r.text and "R-1" in r.text
        r = adviser.post("/leads", data={"csrf_token": csrf, "reference": "R-1", "sector": "logistik", "source": "fair",
                                         "profile_text": "name: x\nrequirements: {min_area_ha: 5}"})  # fmt: skip
        assert r.status_code == 303, r.text
        lead_url = r.headers["location"]
        assert adviser.post(f"{lead_url}/match", data={"csrf_token": csrf}).status_code == 303
        page = adviser.get(lead_url).text
        assert 'id="send-requests"' in page
        r = adviser.post(f"{lead_url}/requests", data={"csrf_token": csrf, "reply_by": "den 20 december",
                                                      "municipality": "1980"})  # fmt: skip
        assert r.status_code == 422 and "YYYY-MM-DD" in r.text
        r = adviser.post(f"{lead_url}/requests", data={"csrf_token": csrf, "reply_by": "2027-01-15",
                                                      "municipality": "1980"})  # fmt: skip
        assert r.status_code == 303
        municipality, mcsrf = _session(server, "anna")
        listing = municipality.get("/requests").text
        assert "R-1" in listing
        import re

        request_url = re.search(r'href="(/requests/[0-9a-f]+)"', listing).group(1)
        page = municipality.get(request_url).text
        plot_id = re.search(r'name="plot_id" value="([^"]+)"', page).group(1)
        typed = {"csrf_token": mcsrf, "plot_id": plot_id, "answer": "updated", "price_sek_m2": "fyrahundra"}
        r = municipality.post(f"{request_url}/answers", data=typed)
        assert r.status_code == 422 and "fyrahundra" in r.text and "not a number" in r.text
        other, _ = _session(server, "per")
        assert other.get(request_url).status_code == 403
        match_id = re.search(r'href="/matches/([0-9a-f]+)"', adviser.get(lead_url).text).group(1)
        r = adviser.post(f"/matches/{match_id}/weights", data={"csrf_token": csrf, "weights": '{"area_ha": -2}'})
        assert r.status_code == 422 and "weight" in r.text
        r = adviser.post(f"/matches/{match_id}/weights", data={"csrf_token": csrf, "weights": '{"price_sek_m2": 1}'})
        assert r.status_code == 422 and "not a preference" in r.text
        other = adviser.post("/match", data={"csrf_token": csrf, "name": "No lead", "req.min_area_ha": "5",
                                             "pref.area_ha.weight": "1", "pref.area_ha.full_at": "20",
                                             "pref.area_ha.zero_at": "5"})  # fmt: skip
        assert other.status_code == 303, other.text[:500]  # a match that is no lead's
        plain_id = other.headers["location"].rsplit("/", 1)[1]
        r = adviser.post(f"/matches/{plain_id}/weights", data={"csrf_token": csrf, "weights": '{"area_ha": 2}'})
        assert r.status_code == 422 and "not a lead's" in html.unescape(r.text)
        r = adviser.get("/kpi?start=2026-13-01")
        assert r.status_code == 422 and "not a date" in r.text


def _requests_sent(server) -> None:
    bo = server.client("bo")
    lead = bo.post("/api/leads", json={"reference": "BS-2026-500", "source": "web", "profile": PROFILE}).json()
    assert bo.post(f"/api/leads/{lead['id']}/matches").status_code == 201
    r = bo.post(f"/api/leads/{lead['id']}/requests", json={"reply_by": "2027-01-15", "municipalities": ["1980"]})
    assert r.status_code == 201, r.text  # the change succeeds whatever the mail server does


def _outbox(server) -> list[tuple[str, int]]:
    with sqlite3.connect(server.data_dir / "service.sqlite") as con:
        return con.execute("SELECT status, attempts FROM outbox ORDER BY id").fetchall()


def test_mail_server_down_then_back_and_service_killed_before_sending(tmp_path, monkeypatch) -> None:
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("SITEMATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SITEMATCH_SMTP_PORT", str(port))
    monkeypatch.setenv("SITEMATCH_OUTBOX_POLL_S", "1")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    try:
        # 1. The SMTP server is down: the request succeeds, the message waits, and arrives once it is back.
        with serve(tmp_path) as server:
            server.client("anna").post("/api/me/contacts", json={"email": "naringsliv@vasteras.example"})
            _requests_sent(server)
            _wait_for(lambda: _outbox(server) and _outbox(server)[0][1] >= 1, "a failed first attempt")
            assert _outbox(server)[0][0] == "pending"
            smtp.start()
            _wait_for(lambda: len(inbox.messages) == 1, "the message after the server came back")
            time.sleep(2.5)
            assert len(inbox.messages) == 1 and _outbox(server) == [("sent", 2)]
            # 2. The service is killed after a change commits and before its message is sent ...
            smtp.stop()
            _requests_sent(server)
            _wait_for(lambda: len(_outbox(server)) == 2, "the second message in the outbox")
            import os
            import signal

            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
        assert [s for s, _ in _outbox(server)] == ["sent", "pending"]
        smtp = Controller(inbox, hostname="127.0.0.1", port=port)
        smtp.start()
        # ... and sends it after the restart, once.
        with serve(tmp_path) as server:
            _wait_for(lambda: len(inbox.messages) == 2, "the message after the restart")
            time.sleep(2.5)
            assert len(inbox.messages) == 2 and [s for s, _ in _outbox(server)] == ["sent", "sent"]
    finally:
        smtp.stop()
