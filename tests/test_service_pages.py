"""The pages' own rules, on the real app: login, redirects, CSRF, roles; and the ``sitematch users`` command."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sitematch.cli import main
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import PASSWORD, add_accounts, login_token, post_login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    application = create_app(ServiceConfig(store=str(tmp / "plots.gpkg"), data_dir=tmp / "data"))
    add_accounts(tmp / "data")
    return application


def _login(app, user: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = post_login(client, user)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client, csrf


def test_pages_need_a_login_and_a_wrong_password_is_refused(app) -> None:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = client.get("/municipality")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/municipality"
    r = post_login(client, "anna", "wrong password")
    assert (
        r.status_code == 401
        and "Wrong user name or password" in r.text
        and "sitematch_session" not in r.headers.get("set-cookie", "")
    )
    form = {"username": "anna", "password": PASSWORD, "next": "//evil.example/x", "csrf_token": login_token(client)}
    r = client.post("/login", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/municipality"  # never to another site
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "script-src 'self'" in client.get("/municipality").headers["content-security-policy"]


def test_a_form_without_the_csrf_token_changes_nothing(app) -> None:
    client, csrf = _login(app, "root")
    r = client.post("/accounts", data={"username": "eve", "role": "adviser", "password": "a long password"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert "eve" not in client.get("/accounts").text
    r = client.post("/accounts", data={"username": "eve", "role": "adviser", "password": "a long password",
                                       "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303 and "eve" in client.get("/accounts").text
    r = client.post("/accounts", data={"username": "eve", "role": "adviser", "password": "a long password",
                                       "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 409 and "already an account" in r.text  # an error page, not a trace
    asked = client.post("/accounts/eve/delete", data={"csrf_token": csrf})  # asks first, deletes nothing
    assert asked.status_code == 200 and "Delete the account eve?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert "eve" in client.get("/accounts").text
    assert client.post("/accounts/eve/delete", data={"csrf_token": csrf, "confirm": "yes"}).status_code == 303
    assert client.post("/accounts/eve/delete", data={"csrf_token": csrf, "confirm": "yes"}).status_code == 404
    assert client.post("/accounts/eve/delete", data={"csrf_token": csrf}).status_code == 404  # no page asks for nothing


def test_roles_on_pages(app) -> None:
    client, csrf = _login(app, "anna")
    for path in ("/match", "/accounts", "/brownfield"):
        r = client.get(path)
        assert r.status_code == 403 and "Inte tillåtet" in r.text, path  # "Not allowed": a municipality reads Swedish
    r = client.post("/plots/0180:X/withdraw", data={"csrf_token": csrf})
    assert r.status_code == 403 and "belongs to municipality 0180" in r.text
    r = client.post("/plots/1980:nosuch/withdraw", data={"csrf_token": csrf})
    assert r.status_code == 404
    r = client.post("/plots/1980:nosuch/withdraw", data={"csrf_token": csrf, "confirm": "yes"})
    assert r.status_code == 404
    assert client.get("/nosuch").status_code == 404
    planner, _ = _login(app, "pia")
    assert planner.get("/municipality").status_code == 403
    admin, _ = _login(app, "root")
    assert admin.get("/municipality").status_code == 422  # an admin names the municipality
    assert admin.get("/municipality?code=1980").status_code == 200


def test_tokens_page_and_logout(app) -> None:
    client, csrf = _login(app, "cy")
    r = client.post("/tokens", data={"name": "script", "csrf_token": csrf})
    token = re.search(r"<code>(smt_[^<]+)</code>", r.text).group(1)
    assert TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "cy"
    mine = TestClient(app).get("/api/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    token_id = next(t["id"] for t in mine if t["name"] == "script")
    assert f'action="/tokens/{token_id}/revoke"' in client.get("/tokens").text
    asked = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert asked.status_code == 200 and "Revoke the API token script?" in asked.text
    assert TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200  # not yet
    assert client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf, "confirm": "yes"}).status_code == 303
    assert TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/tokens").status_code == 303  # logged out: back to the login page


def test_users_command(tmp_path, monkeypatch) -> None:
    runner = CliRunner()
    data = ["--data", str(tmp_path)]
    monkeypatch.setenv("SITEMATCH_PASSWORD", "a long password")
    r = runner.invoke(main, ["users", "add", "anna", "--role", "municipality:1980", *data])
    assert r.exit_code == 0 and "added anna (municipality:1980)" in r.output
    r = runner.invoke(main, ["users", "add", "anna", "--role", "adviser", *data])
    assert r.exit_code == 1 and "already an account" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["users", "add", "bo", "--role", "mayor", *data])
    assert r.exit_code == 1 and "not a role" in r.output
    r = runner.invoke(main, ["users", "token", "anna", "--name", "qgis", *data])
    assert r.exit_code == 0 and r.output.startswith("smt_")
    assert runner.invoke(main, ["users", "list", *data]).output == "anna\tmunicipality:1980\n"
    assert runner.invoke(main, ["users", "remove", "anna", *data]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "anna", *data]).exit_code == 1
    assert "reverse proxy" in runner.invoke(main, ["serve", "--help"]).output


def test_a_refused_account_form_keeps_what_was_typed_and_the_menu(app) -> None:
    client, csrf = _login(app, "root")
    form = {"username": "kim", "role": "wizard", "password": "a secret long pass", "csrf_token": csrf}
    r = client.post("/accounts", data=form)
    assert 400 <= r.status_code < 500 and 'id="account-error"' in r.text
    assert 'name="username" required value="kim"' in r.text and 'value="wizard"' in r.text
    assert "a secret long pass" not in r.text  # never the password
    assert 'href="/kpi"' in r.text and 'action="/logout"' in r.text  # the menu, and the way out
    assert "kim" not in client.get("/accounts").text.split('id="accounts"')[1].split("</table>")[0]


def test_an_error_page_keeps_the_menu_when_logged_in(app) -> None:
    client, _ = _login(app, "bo")
    r = client.get("/leads/nosuch")
    assert r.status_code == 404 and 'href="/match"' in r.text and 'action="/logout"' in r.text
    anonymous = TestClient(app, base_url="https://testserver").get("/nosuch")
    assert anonymous.status_code == 404 and 'action="/logout"' not in anonymous.text
