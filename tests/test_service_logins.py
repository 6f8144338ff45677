"""Logins under attack, API token lifetime, and the small holes of issue 20, on the real app.

Throttling is checked by counting with a clock the test moves (no sleeping, no timing); the flood
over a real socket is in tests/test_service_flood.py.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sitematch import settings
from sitematch.cli import main
from sitematch.service.accounts import Accounts, check_role, check_username
from sitematch.service.app import create_app
from sitematch.service.db import Database
from sitematch.service.errors import ServiceError, public
from sitematch.service.logins import LoginGate, LoginsBusyError, TooManyLoginsError
from sitematch.service.state import ServiceConfig
from tests._service import EXAMPLE_CSV, PASSWORD, add_accounts, auth, login_token, post_login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _no_refusal_delay(monkeypatch) -> None:
    monkeypatch.setattr(settings, "service_login_refusal_delay_s", 0.0)  # the flood test keeps it


@pytest.fixture()
def app(tmp_path):
    application = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    application.state.tokens = add_accounts(tmp_path / "data")
    return application


def _client(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _session(app, user: str) -> tuple[TestClient, str]:
    client = _client(app)
    r = post_login(client, user)
    assert r.status_code == 303, r.text
    page = client.get("/tokens")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


class Clock:
    """Epoch seconds the test moves by hand."""

    def __init__(self, now_s: float = 1_000_000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def _outcome(gate: LoginGate, name: str, password: str, address: str) -> str:
    try:
        return "ok" if gate.attempt(name, password, address) else "wrong"
    except TooManyLoginsError as exc:
        return f"429 after {exc.headers['Retry-After']} s"


# -- throttling, lock and unlock, counted -----------------------------------------------------------
def test_an_account_backs_off_then_locks_and_only_time_or_an_admin_lifts_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "service_login_free_failures", 3)
    monkeypatch.setattr(settings, "service_login_lockout_s", 60.0)
    accounts = Accounts(Database(tmp_path / "service.sqlite"))
    accounts.add("anna", "adviser", PASSWORD)
    clock = Clock()
    gate = LoginGate(accounts, clock=clock)
    # a new address each time: this is the account's own count
    assert [_outcome(gate, "anna", "wrong", f"10.0.0.{i}") for i in range(4)] == ["wrong"] * 4
    assert gate.wait_s("anna", "10.0.1.1") == 1.0  # 3 free failures; the 4th locks for 1 s
    clock.now_s += 0.5
    assert _outcome(gate, "anna", PASSWORD, "10.0.1.1") == "429 after 1 s"  # the right password too
    assert accounts.login_state("anna").failures == 4  # a refused attempt is not checked, nor counted
    for expected_s in (2, 4, 8, 16, 32, 60, 60):  # doubling, to the cap
        clock.now_s += gate.wait_s("anna", "10.0.1.1")
        assert _outcome(gate, "anna", "wrong", "10.0.1.2") == "wrong"
        assert gate.wait_s("anna", "10.0.1.3") == expected_s
    assert _outcome(gate, "anna", PASSWORD, "10.0.1.4") == "429 after 60 s"
    clock.now_s += 59.5
    assert _outcome(gate, "anna", PASSWORD, "10.0.1.4") == "429 after 1 s"  # still locked, half a second left
    clock.now_s += 0.5
    assert _outcome(gate, "anna", PASSWORD, "10.0.1.4") == "ok"  # the lock lifted with time
    assert accounts.login_state("anna").failures == 0  # and the run of failures ended
    for i in range(5):
        _outcome(gate, "anna", "wrong", f"10.0.2.{i}")
    assert _outcome(gate, "anna", PASSWORD, "10.0.3.1").startswith("429")
    accounts.unlock("anna")  # an admin lifts it: at once
    assert _outcome(gate, "anna", PASSWORD, "10.0.3.1") == "ok"
    with pytest.raises(ServiceError, match="no account 'nobody'"):
        accounts.unlock("nobody")


def test_an_address_backs_off_whatever_names_it_tries(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "service_login_address_free_failures", 4)
    accounts = Accounts(Database(tmp_path / "service.sqlite"))
    accounts.add("anna", "adviser", PASSWORD)
    gate = LoginGate(accounts, clock=Clock())
    seen = [_outcome(gate, f"user{i}", "wrong", "10.0.0.9") for i in range(6)]
    assert seen == ["wrong"] * 5 + ["429 after 1 s"]  # 4 free, the 5th locks the address for 1 s
    assert _outcome(gate, "anna", PASSWORD, "10.0.0.9").startswith("429")  # the address is locked
    assert _outcome(gate, "anna", PASSWORD, "10.0.0.10") == "ok"  # another address is not


def test_the_answers_do_not_tell_whether_an_account_exists(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "service_login_free_failures", 2)
    accounts = Accounts(Database(tmp_path / "service.sqlite"))
    accounts.add("anna", "adviser", PASSWORD)
    runs = {}
    for name in ("anna", "nobody"):
        clock = Clock()
        gate = LoginGate(accounts, clock=clock)
        verified = []
        real = accounts.login
        accounts.login = lambda n, p, real=real, verified=verified: verified.append(n) or real(n, p)  # type: ignore[method-assign]
        outcomes = []
        for i in range(8):
            outcomes.append(_outcome(gate, name, "wrong", f"10.0.{i}.1"))
            clock.now_s += 1.5
        accounts.login = real  # type: ignore[method-assign]
        runs[name] = (outcomes, len(verified))
    assert runs["anna"] == runs["nobody"]  # the same answers, after the same number of password checks
    assert any(o.startswith("429") for o in runs["anna"][0])


def test_password_checks_at_the_same_time_are_bounded(tmp_path) -> None:
    class Slow(Accounts):
        def __init__(self, db: Database) -> None:
            super().__init__(db)
            self.entered, self.release, self.checks = threading.Event(), threading.Event(), 0

        def login(self, username: str, password: str):
            self.checks += 1
            self.entered.set()
            assert self.release.wait(timeout=120)  # a hang guard
            return super().login(username, password)

    accounts = Slow(Database(tmp_path / "service.sqlite"))
    accounts.add("anna", "adviser", PASSWORD)
    gate = LoginGate(accounts, clock=Clock(), slots=1)
    first = threading.Thread(target=gate.attempt, args=("anna", PASSWORD, "10.0.0.1"))
    first.start()
    assert accounts.entered.wait(timeout=120)
    refused = 0
    for i in range(5):
        try:
            gate.attempt("anna", PASSWORD, f"10.0.1.{i}")
        except LoginsBusyError as exc:
            refused += 1
            assert exc.status == 503 and exc.headers["Retry-After"] == "1"
    accounts.release.set()
    first.join(timeout=120)
    assert refused == 5 and accounts.checks == 1  # none of the five waited, none was checked
    assert gate.attempt("anna", PASSWORD, "10.0.2.1") is not None  # the slot is free again


def _lock_out(app, name: str, clock: Clock) -> None:
    """Fail ``name``'s logins until it is locked for 2 minutes (the test's clock moved past each back-off)."""
    gate = app.state.service.logins
    gate.clock = clock
    client = _client(app)
    while gate.wait_s(name, "x") < 120:
        clock.now_s += gate.wait_s(name, "testclient")
        assert post_login(client, name, "wrong password").status_code == 401


def test_a_lock_survives_a_restart_and_the_admin_page_and_command_lift_it(app, tmp_path, monkeypatch) -> None:
    import time

    monkeypatch.setattr(settings, "service_login_free_failures", 2)
    monkeypatch.setattr(settings, "service_login_address_free_failures", 100)
    clock = Clock(time.time())  # stands still: every lock below lasts, whatever the machine's speed
    _lock_out(app, "bo", clock)
    client = _client(app)
    r = post_login(client, "bo")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 120 and "try again in" in r.text
    assert "sitematch_session" not in r.headers.get("set-cookie", "")
    # a new process on the same data: still locked
    again = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    assert post_login(_client(again), "bo").status_code == 429
    # the accounts page shows it, and its button lifts it
    admin, csrf = _session(again, "root")
    page = admin.get("/accounts").text
    assert "<strong>locked</strong> until" in page and 'action="/accounts/bo/unlock"' in page
    assert admin.post("/accounts/bo/unlock", data={}).status_code == 403  # the form's CSRF token is needed
    assert admin.post("/accounts/bo/unlock", data={"csrf_token": csrf}).status_code == 303
    assert "<strong>locked</strong>" not in admin.get("/accounts").text
    assert post_login(_client(again), "bo").status_code == 303
    # and the command
    _lock_out(app, "cy", clock)
    runner = CliRunner()
    listed = runner.invoke(main, ["users", "list", "--data", str(tmp_path / "data")])
    assert "cy\tadviser\tlocked" in listed.output
    r = runner.invoke(main, ["users", "unlock", "cy", "--data", str(tmp_path / "data")])
    assert r.exit_code == 0 and "unlocked cy" in r.output
    assert post_login(client, "cy").status_code == 303  # the running service sees it at once
    r = runner.invoke(main, ["users", "unlock", "nobody", "--data", str(tmp_path / "data")])
    assert r.exit_code == 1 and "no account 'nobody'" in r.output
    # the API, for admins only
    tokens = app.state.tokens
    assert TestClient(app).post("/api/accounts/bo/unlock", headers=auth(tokens["bo"])).status_code == 403
    assert TestClient(app).post("/api/accounts/bo/unlock", headers=auth(tokens["root"])).status_code == 204


# -- the login form: CSRF token and Origin -----------------------------------------------------------
def test_the_login_form_needs_its_token_and_its_own_origin(app) -> None:
    client = _client(app)
    r = client.post("/login", data={"username": "anna", "password": PASSWORD})  # no form token
    assert r.status_code == 403 and "sitematch_session" not in r.headers.get("set-cookie", "")
    token = login_token(client)
    form = {"username": "anna", "password": PASSWORD, "csrf_token": token}
    other = _client(app)  # another browser: its cookie is not this form's
    login_token(other)
    assert other.post("/login", data=form).status_code == 403
    r = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "sitematch_session" not in r.headers.get("set-cookie", "")
    form["csrf_token"] = login_token(client)
    r = client.post("/login", data=form, headers={"Origin": "https://testserver"})
    assert r.status_code == 303 and "sitematch_session" in r.headers["set-cookie"]


# -- API tokens: expiry and rotation ------------------------------------------------------------------
def test_a_token_expires_with_a_clear_401_and_the_tokens_page_says_when(app, tmp_path, monkeypatch) -> None:
    client, _ = _session(app, "cy")
    page = client.get("/tokens").text
    assert 'id="token-days">90 days' in page
    api = TestClient(app)
    token = app.state.tokens["cy"]
    mine = api.get("/api/tokens", headers=auth(token)).json()
    assert all(t["expires_at"] and t["expired"] is False for t in mine)
    made = api.post("/api/tokens", json={"name": "short"}, headers=auth(token)).json()
    created = next(t for t in api.get("/api/tokens", headers=auth(token)).json() if t["id"] == made["id"])
    import datetime as dt

    days = dt.datetime.fromisoformat(made["expires_at"]) - dt.datetime.fromisoformat(created["created_at"])
    assert abs(days.total_seconds() - 90 * 86400) <= 2
    db = Database(tmp_path / "data" / "service.sqlite")
    with db.connect() as con:  # it expired a second ago
        con.execute("UPDATE tokens SET expires_at = 1000000000 WHERE id = ?", (made["id"],))
    r = api.get("/api/me", headers=auth(made["token"]))
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    assert "expired at 2001-09-09T01:46:40+00:00" in r.json()["message"] and made["id"] in r.json()["message"]
    # the page shows Stockholm time: 01:46 UTC on 9 September (summer time, UTC+2) is 03:46
    assert "<strong>expired</strong> 2001-09-09 03:46" in client.get("/tokens").text
    monkeypatch.setattr(settings, "service_token_days", 7.5)
    assert 'id="token-days">7.5 days' in client.get("/tokens").text
    with db.connect() as con:  # a token from before tokens expired counts from its creation
        con.execute("UPDATE tokens SET expires_at = NULL, created_at = '2001-01-01T00:00:00+00:00' WHERE id = ?",
                    (next(t["id"] for t in mine),))  # fmt: skip
    assert api.get("/api/me", headers=auth(token)).status_code == 401


def test_rotating_a_token_replaces_it(app, tmp_path) -> None:
    api = TestClient(app)
    old = app.state.tokens["bo"]
    old_id = api.get("/api/tokens", headers=auth(old)).json()[0]["id"]
    r = api.post(f"/api/tokens/{old_id}/rotate", headers=auth(old))
    assert r.status_code == 201
    new = r.json()
    assert new["name"] == "tests" and new["id"] != old_id and new["token"] != old
    assert api.get("/api/me", headers=auth(old)).status_code == 401
    assert api.get("/api/me", headers=auth(new["token"])).json()["username"] == "bo"
    assert [t["id"] for t in api.get("/api/tokens", headers=auth(new["token"])).json()] == [new["id"]]
    assert api.post(f"/api/tokens/{old_id}/rotate", headers=auth(new["token"])).status_code == 404
    other = app.state.tokens["cy"]  # another's token is not yours to rotate
    assert api.post(f"/api/tokens/{new['id']}/rotate", headers=auth(other)).status_code == 404
    # on the page
    client, csrf = _session(app, "bo")
    assert f'action="/tokens/{new["id"]}/rotate"' in client.get("/tokens").text
    asked = client.post(f"/tokens/{new['id']}/rotate", data={"csrf_token": csrf})  # asks first: nothing changes
    assert asked.status_code == 200 and "Rotate the API token tests?" in asked.text
    assert api.get("/api/me", headers=auth(new["token"])).status_code == 200
    page = client.post(f"/tokens/{new['id']}/rotate", data={"csrf_token": csrf, "confirm": "yes"})
    newest = re.search(r"<code>(smt_[^<]+)</code>", page.text).group(1)
    assert api.get("/api/me", headers=auth(new["token"])).status_code == 401
    assert api.get("/api/me", headers=auth(newest)).status_code == 200
    # with the command
    newest_id = api.get("/api/tokens", headers=auth(newest)).json()[0]["id"]
    r = CliRunner().invoke(main, ["users", "token", "bo", "--rotate", newest_id, "--days", "2",
                                  "--data", str(tmp_path / "data")])  # fmt: skip
    assert r.exit_code == 0 and api.get("/api/me", headers=auth(newest)).status_code == 401
    assert api.get("/api/me", headers=auth(r.stdout.strip())).status_code == 200


# -- small holes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["anna\n", "anna\r\n", "\nanna", "an\nna", "anna\x00"])
def test_a_user_name_with_a_newline_is_refused(app, name: str) -> None:
    with pytest.raises(ServiceError, match="a user name is"):
        check_username(name)
    r = TestClient(app).post("/api/accounts", json={"username": name, "role": "adviser", "password": PASSWORD},
                             headers=auth(app.state.tokens["root"]))  # fmt: skip
    assert r.status_code == 422 and r.json()["key"] == "username"


@pytest.mark.parametrize("role", ["admin\n", "adviser\n", "municipality:1980\n", "municipality:١٩٨٠"])
def test_a_role_with_a_newline_is_refused(app, role: str) -> None:
    with pytest.raises(ServiceError, match="is not a role"):
        check_role(role)
    r = TestClient(app).post("/api/accounts", json={"username": "eve", "role": role, "password": PASSWORD},
                             headers=auth(app.state.tokens["root"]))  # fmt: skip
    assert r.status_code == 422 and r.json()["key"] == "role"


@pytest.mark.parametrize("header", ["{t}", "Token {t}", "{t} {t}", "Bearer{t}"])
def test_no_part_of_a_token_is_echoed(app, header: str) -> None:
    token = app.state.tokens["anna"]
    r = TestClient(app).get("/api/me", headers={"Authorization": header.format(t=token)})
    assert r.status_code == 401
    secret = token.removeprefix("smt_")
    assert not any(secret[i : i + 4] in r.text for i in range(len(secret) - 3)), r.text


def test_error_bodies_have_no_server_path_or_gdal_detail(app, tmp_path) -> None:
    api = TestClient(app)
    anna = auth(app.state.tokens["anna"])
    cases = {
        "bad.gpkg": b"SQLite format 3\x00" + b"\x01" * 2000,
        "bad.gml": b"<gml>",
    }
    for name, data in cases.items():
        r = api.post("/api/plots/check", headers=anna, files={"file": (name, data)})
        assert r.status_code == 422 and r.json()["message"].startswith(f"{name}: not a readable"), r.text
        for leak in (str(tmp_path), "/tmp/", "not recognized", "It might help", "file is not a database", "GDAL"):
            assert leak not in r.text, (leak, r.text)
    assert (
        public("/srv/x/data/plots.gpkg: locked (sqlite3.OperationalError: database is locked)") == "plots.gpkg: locked"
    )
    assert public(r"C:\Users\x\plots.gpkg: busy") == "plots.gpkg: busy"
    assert public("no such page or route: GET /api/a/b") == "no such page or route: GET /api/a/b"


@pytest.mark.parametrize(
    ("field", "text", "code"),
    [
        ("local_ref", "P\u202e10-", "U+202E"),  # right-to-left override
        ("local_ref", "P\u2066x\u2069", "U+2066"),  # left-to-right isolate
        ("name", "Norra \u202aindustri", "U+202A"),
        ("name", "Norra\x1b[31m", "U+001B"),  # a terminal escape
        ("name", "Norra\x9b31m", "U+009B"),  # a C1 control (CSI)
        ("local_ref", "P\t1", "U+0009"),
    ],
)
def test_control_and_bidi_characters_are_refused_in_plot_references_and_names(
    app, field: str, text: str, code: str
) -> None:
    rows = list(csv.DictReader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8"))))
    rows[0][field] = text
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    r = TestClient(app).post("/api/plots/check", headers=auth(app.state.tokens["anna"]),
                             files={"file": ("tomter.csv", out.getvalue().encode("utf-8"))})  # fmt: skip
    assert r.status_code == 200, r.text
    hidden = [p for p in r.json()["problems"] if "control or bidi character" in p["message"]]
    assert len(hidden) == 1, r.json()["problems"]  # only the row that has one
    assert hidden[0]["row"] == 1 and hidden[0]["field"] == field and code in hidden[0]["message"]


def test_a_municipality_never_sees_a_leads_company_or_contact(app) -> None:
    api = TestClient(app)
    lead = {"reference": "OPEN-1", "company": "Synlig Exempel AB", "contact": "Olle Exempel"}
    profile = {"name": "Open lead", "lead": lead, "requirements": {"min_area_ha": 5}}
    made = api.post("/api/profiles", json={"profile": profile}, headers=auth(app.state.tokens["bo"])).json()
    as_anna = api.get(f"/api/profiles/{made['id']}", headers=auth(app.state.tokens["anna"])).json()
    assert as_anna["profile"]["lead"] == {"reference": "OPEN-1"}
    listed = api.get("/api/profiles", headers=auth(app.state.tokens["anna"])).text
    assert "Synlig" not in listed and "Olle" not in listed
    as_pia = api.get(f"/api/profiles/{made['id']}", headers=auth(app.state.tokens["pia"])).json()
    assert as_pia["profile"]["lead"]["company"] == "Synlig Exempel AB"  # others see it, as in match views


def test_a_fit_over_many_profiles_stops_at_its_deadline(tmp_path) -> None:
    from sitematch.layers.region import open_region
    from sitematch.profile import build_profile
    from sitematch.service.errors import UnavailableError
    from sitematch.service.runs import fits

    layers = open_region(None)
    profile = build_profile({"name": "x", "requirements": {"min_area_ha": 5}}, where="t", slug="x")
    steps: list[str] = []

    def step(name: str) -> None:
        steps.append(name)
        if name == "profile p3":
            raise UnavailableError("the fit took longer than the service's limit")

    plot_id = str(layers["plots"]["plot_id"].iloc[0])
    with pytest.raises(UnavailableError):
        fits(layers, [(f"p{i}", profile) for i in range(1, 9)], [plot_id], step)
    marks = [s for s in steps if s.startswith("profile ")]
    assert marks == ["profile p1", "profile p2", "profile p3"]  # checked before each, stopped at the third
    assert len(steps) > len(marks)  # and inside each match too


def test_uploaded_files_path_is_not_in_the_log_fixture_sanity(tmp_path: Path) -> None:
    assert public(f"{tmp_path}/x.gpkg: no") == "x.gpkg: no"
