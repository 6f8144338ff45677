"""The web service's JSON API, route by route, with every refusal: 401, 403, 404, 409, 413, 415, 422, 503.

FastAPI's TestClient runs the real app (real GeoPackage store, real uploads in the isolated reader
process, real matches on the bundled region); nothing is mocked.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sitematch import settings
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import EXAMPLE_CSV, QUICK_PROFILE, ROOT, add_accounts, auth

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CONFIDENTIAL = {
    **QUICK_PROFILE,
    "name": "Secret plant",
    "lead": {"reference": "NDA-7", "company": "Northwind AB", "confidential": True},
}


class Recorder(logging.Handler):
    """Every log line of the run, to check what never appears in them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def logs():
    rec = Recorder()
    root = logging.getLogger()
    old = root.level
    root.addHandler(rec)
    root.setLevel(logging.DEBUG)
    yield rec
    root.removeHandler(rec)
    root.setLevel(old)


@pytest.fixture(scope="module")
def env(tmp_path_factory, logs):
    tmp = tmp_path_factory.mktemp("service")
    profiles = tmp / "profiles"
    profiles.mkdir()
    shutil.copy(ROOT / "scenarios" / "logistics_warehouse.yaml", profiles)
    store = tmp / "plots.gpkg"
    app = create_app(ServiceConfig(store=str(store), data_dir=tmp / "data", profiles_dir=profiles))
    tokens = add_accounts(tmp / "data")
    client = TestClient(app, base_url="https://testserver")
    r = client.post(
        "/api/plots", headers=auth(tokens["anna"]), files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}
    )
    assert r.status_code == 201, r.text
    return {"client": client, "tokens": tokens, "store": store, "tmp": tmp, "app": app}


def call(env, user: str | None, method: str, path: str, **kw):
    headers = {**(auth(env["tokens"][user]) if user else {}), **kw.pop("headers", {})}
    return env["client"].request(method, path, headers=headers, **kw)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error(r, status: int, error: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status and body["message"] and "Traceback" not in r.text
    if error:
        assert body["error"] == error, body
    return body


# -- 401 --------------------------------------------------------------------------------------------
ROUTES = [
    ("GET", "/api/me"),
    ("GET", "/api/layers"),
    ("GET", "/api/layers/criteria"),
    ("GET", "/api/profiles"),
    ("GET", "/api/profiles/schema"),
    ("POST", "/api/profiles/validate"),
    ("POST", "/api/profiles"),
    ("GET", "/api/profiles/abc"),
    ("PUT", "/api/profiles/abc/advisers"),
    ("POST", "/api/matches"),
    ("GET", "/api/matches"),
    ("GET", "/api/matches/abc"),
    ("GET", "/api/matches/abc/files/map.html"),
    ("POST", "/api/plots"),
    ("POST", "/api/plots/check"),
    ("GET", "/api/plots"),
    ("GET", "/api/plots/1980:Å-1"),
    ("GET", "/api/plots/1980:Å-1/history"),
    ("POST", "/api/plots/1980:Å-1/withdraw"),
    ("GET", "/api/plots/1980:Å-1/fit"),
    ("GET", "/api/accounts"),
    ("POST", "/api/accounts"),
    ("DELETE", "/api/accounts/anna"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/abc"),
    ("GET", "/api/audit"),
    ("GET", "/ogc/"),
    ("GET", "/ogc/conformance"),
    ("GET", "/ogc/collections"),
    ("GET", "/ogc/collections/plots"),
    ("GET", "/ogc/collections/plots/items"),
    ("GET", "/ogc/collections/plots/items/1980:Å-1"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_without_credentials_is_401_and_changes_nothing(env, method, path) -> None:
    before = _digest(env["store"])
    r = call(env, None, method, path, json={})
    body = _error(r, 401, "NotAuthenticatedError")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "token" in body["message"]
    assert _digest(env["store"]) == before


@pytest.mark.parametrize(
    "header",
    ["Bearer smt_not-a-token", "Basic !!!", "Digest abc", "Basic " + __import__("base64").b64encode(b"bo:x").decode()],
)
def test_wrong_credentials_are_401(env, header) -> None:
    _error(env["client"].get("/api/me", headers={"Authorization": header}), 401)


def test_basic_auth_with_user_name_and_token_as_password(env) -> None:
    token = env["tokens"]["bo"]
    assert env["client"].get("/api/me", auth=("bo", token)).json() == {
        "username": "bo",
        "role": "adviser",
        "via": "token",
    }
    _error(env["client"].get("/api/me", auth=("cy", token)), 401)  # another user's token


# -- layers and profiles ----------------------------------------------------------------------------
def test_layers_and_criteria(env) -> None:
    layers = call(env, "pia", "GET", "/api/layers").json()
    kinds = {row["layer"] for row in layers["layers"]}
    assert {"municipalities", "motorways", "plots"} <= kinds and all(r["licence"] for r in layers["layers"])
    criteria = {c["name"]: c for c in call(env, "anna", "GET", "/api/layers/criteria").json()}
    assert criteria["area_ha"]["unit"] == "ha" and "J" in criteria["zoning"]["values"]


def test_profiles_list_schema_and_validation(env) -> None:
    listed = call(env, "bo", "GET", "/api/profiles").json()
    assert [p["name"] for p in listed] == ["Regional distribution centre"]
    one = call(env, "pia", "GET", f"/api/profiles/{listed[0]['id']}").json()
    assert one["profile"]["requirements"]
    schema = call(env, "bo", "GET", "/api/profiles/schema").json()
    assert "min_area_ha" in schema["properties"]["requirements"]["properties"]
    ok = call(env, "anna", "POST", "/api/profiles/validate", json=QUICK_PROFILE).json()
    assert ok["valid"] and ok["requires"] == ["Area at least 5 ha"]
    bad = _error(
        call(env, "bo", "POST", "/api/profiles/validate", json={"name": "x", "requirements": {"min_area_km": 1}}),
        422,
        "ProfileError",
    )
    assert bad["key"] == "requirements.min_area_km" and "did you mean" in bad["message"].lower()
    _error(
        call(env, "bo", "POST", "/api/profiles/validate", content=b"[1", headers={"content-type": "application/json"}),
        422,
    )
    _error(call(env, "bo", "GET", "/api/profiles/nosuch"), 404, "NotFoundError")


def test_a_confidential_profile_is_seen_by_its_advisers_and_admins_only(env) -> None:
    for user in ("pia", "anna"):
        _error(call(env, user, "POST", "/api/profiles", json={"profile": CONFIDENTIAL}), 403, "ForbiddenError")
    made = call(env, "bo", "POST", "/api/profiles", json={"profile": CONFIDENTIAL})
    assert made.status_code == 201 and made.json()["confidential"]
    pid = made.json()["id"]
    assert "Northwind" not in pid
    for user in ("cy", "pia", "anna"):
        _error(call(env, user, "GET", f"/api/profiles/{pid}"), 403)
        assert pid not in [p["id"] for p in call(env, user, "GET", "/api/profiles").json()]
    for user in ("bo", "root"):
        assert call(env, user, "GET", f"/api/profiles/{pid}").json()["profile"]["lead"]["company"] == "Northwind AB"
    _error(call(env, "cy", "POST", "/api/matches", json={"profile_id": pid}), 403)
    _error(call(env, "bo", "PUT", f"/api/profiles/{pid}/advisers", json={"advisers": ["cy"]}), 403)
    _error(call(env, "root", "PUT", f"/api/profiles/{pid}/advisers", json={"advisers": ["pia"]}), 422)
    _error(call(env, "root", "PUT", "/api/profiles/nosuch/advisers", json={"advisers": ["cy"]}), 404)
    _error(call(env, "bo", "POST", "/api/profiles", json={"profile": CONFIDENTIAL, "advisers": ["nobody"]}), 422)
    assert call(env, "root", "PUT", f"/api/profiles/{pid}/advisers", json={"advisers": ["cy"]}).status_code == 200
    assert call(env, "cy", "GET", f"/api/profiles/{pid}").status_code == 200


# -- plots ------------------------------------------------------------------------------------------
def _upload(env, user, name="tomter.csv", data=None, ctype="text/csv", **form):
    data = EXAMPLE_CSV.read_bytes() if data is None else data
    return call(env, user, "POST", "/api/plots", files={"file": (name, data, ctype)}, data=form)


def test_upload_stores_all_rows_and_reports_them(env) -> None:
    r = _upload(env, "anna")  # the fixture uploaded the same file: nothing changes
    assert r.status_code == 201
    body = r.json()
    assert body["summary"]["unchanged"] == ["1980:Å-1", "1980:Å-2"] and body["report"]["ok"]
    assert any("approximate" in n for n in body["report"]["notes"])


@pytest.mark.parametrize(
    ("user", "form", "status"),
    [
        ("bo", {}, 403),
        ("pia", {}, 403),
        ("per", {"municipality": "1980"}, 403),
        ("anna", {"municipality": "0180"}, 403),
        ("root", {}, 422),
    ],
)
def test_upload_by_the_wrong_account_is_refused_and_changes_nothing(env, user, form, status) -> None:
    before = _digest(env["store"])
    _error(_upload(env, user, **form), status)
    assert _digest(env["store"]) == before


@pytest.mark.parametrize(
    ("name", "data", "ctype", "words"),
    [
        ("tomter.exe", b"MZ...", "application/octet-stream", "not a file type"),
        ("tomter.gpkg", b"Objekt_ID,lon,lat\n", "application/octet-stream", "does not begin as a GeoPackage"),
        ("tomter.zip", b"<html>", "application/zip", "zipped Shapefile"),
        ("tomter.geojson", b"\x89PNG....", "application/geo+json", "GeoJSON"),
        ("tomter.csv", b"a,b\n", "image/png", "image/png"),
    ],
)
def test_upload_of_the_wrong_kind_of_file_is_415(env, name, data, ctype, words) -> None:
    before = _digest(env["store"])
    body = _error(_upload(env, "anna", name=name, data=data, ctype=ctype), 415, "UnsupportedMediaError")
    assert words in body["message"]
    assert _digest(env["store"]) == before


def test_upload_without_a_multipart_form_is_415(env) -> None:
    _error(call(env, "anna", "POST", "/api/plots", json={"file": "x"}), 415)
    _error(call(env, "anna", "POST", "/api/plots/check", content=b"x", headers={"content-type": "text/csv"}), 415)


def test_upload_over_the_size_limit_is_413_declared_or_streamed(env, monkeypatch) -> None:
    monkeypatch.setattr(settings, "upload_max_bytes", 1000)
    before = _digest(env["store"])
    big = b"Objekt_ID,lon,lat\n" + b"x" * 2_000_000
    body = _error(_upload(env, "anna", data=big), 413, "TooLargeError")
    assert "bytes allowed" in body["message"]

    def chunks():  # no Content-Length: the body is counted as it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
        for _ in range(40):
            yield b"y" * 100_000

    r = call(
        env, "anna", "POST", "/api/plots", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    _error(r, 413)
    just_over = b"Objekt_ID,lon,lat\n" + b"1,16.5,59.6\n" * 100  # under the request limit, over the file limit
    assert "at most 1,000" in _error(_upload(env, "anna", data=just_over), 413)["message"]
    assert _digest(env["store"]) == before


def test_a_refused_upload_reports_every_row_and_never_creates_the_store(env, tmp_path) -> None:
    app = create_app(ServiceConfig(store=str(tmp_path / "new.gpkg"), data_dir=env["tmp"] / "data"))
    client = TestClient(app, base_url="https://testserver")
    bad = (
        "Objekt_ID,Användning,Planstatus,Areal_ha,lon,lat\n"
        "A,J,laga_kraft,3,16.50,59.62\nB,Q,laga_kraft,-1,16.51,59.62\n"
    )
    r = client.post("/api/plots", headers=auth(env["tokens"]["anna"]), files={"file": ("bad.csv", bad.encode())})
    body = _error(r, 422, "UploadError")
    problems = {(p["row"], p["field"]) for p in body["report"]["problems"]}
    assert {(2, "zoning"), (2, "area_ha")} <= problems and "nothing was written" in body["message"]
    assert not (tmp_path / "new.gpkg").exists()
    check = client.post(
        "/api/plots/check", headers=auth(env["tokens"]["anna"]), files={"file": ("bad.csv", bad.encode())}
    )
    assert check.status_code == 200 and not check.json()["ok"]
    r = client.post(
        "/api/plots",
        headers=auth(env["tokens"]["anna"]),
        files={"file": ("bad.csv", bad.encode())},
        data={"accept_valid": "true"},
    )
    assert r.status_code == 201 and r.json()["summary"]["inserted"] == ["1980:A"]


def test_plots_list_get_and_who_sees_what(env) -> None:
    mine = call(env, "anna", "GET", "/api/plots").json()
    assert mine["type"] == "FeatureCollection" and {f["id"] for f in mine["features"]} >= {"1980:Å-1"}
    lon, lat = mine["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 16 < lon < 17 and 59 < lat < 60  # CRS84: longitude first
    assert call(env, "per", "GET", "/api/plots").json()["features"] == []
    _error(call(env, "per", "GET", "/api/plots", params={"municipality": "1980"}), 403)
    assert len(call(env, "bo", "GET", "/api/plots", params={"status": "all"}).json()["features"]) >= 2
    _error(call(env, "bo", "GET", "/api/plots", params={"status": "sold"}), 422, "RequestError")
    _error(call(env, "bo", "GET", "/api/plots", params={"municipality": "abc"}), 422)
    feature = call(env, "anna", "GET", "/api/plots/1980:Å-1").json()
    assert feature["properties"]["name"] == "Finnslätten östra"
    _error(call(env, "per", "GET", "/api/plots/1980:Å-1"), 403)
    _error(call(env, "bo", "GET", "/api/plots/1980:nosuch"), 404)
    _error(call(env, "bo", "GET", "/api/plots/not-an-id"), 404)


def test_history_shows_the_uploader_to_its_municipality_only(env) -> None:
    own = call(env, "anna", "GET", "/api/plots/1980:Å-1/history").json()
    assert own[-1]["uploader"] == "anna" and "by anna" in own[-1]["source"]
    seen = call(env, "bo", "GET", "/api/plots/1980:Å-1/history").json()
    assert seen[-1]["uploader"] == "municipality 1980" and "anna" not in str(seen)
    _error(call(env, "per", "GET", "/api/plots/1980:Å-1/history"), 403)
    _error(call(env, "bo", "GET", "/api/plots/1980:nosuch/history"), 404, "StoreNotFoundError")


def test_withdraw_own_plot_only_and_once(env) -> None:
    versions = len(call(env, "anna", "GET", "/api/plots/1980:Å-2/history").json())
    for user in ("per", "bo", "pia"):
        _error(call(env, user, "POST", "/api/plots/1980:Å-2/withdraw", json={"reason": "mine now"}), 403)
    assert len(call(env, "anna", "GET", "/api/plots/1980:Å-2/history").json()) == versions  # nothing changed
    r = call(env, "anna", "POST", "/api/plots/1980:Å-2/withdraw", json={"reason": "sold"})
    assert r.json() == {"plot_id": "1980:Å-2", "status": "withdrawn"}
    _error(call(env, "anna", "POST", "/api/plots/1980:Å-2/withdraw", json={}), 409, "StoreConflictError")
    _error(call(env, "anna", "POST", "/api/plots/1980:nosuch/withdraw", json={}), 404)
    _error(call(env, "anna", "POST", "/api/plots/1980:Å-1/withdraw", json={"reason": "x" * 600}), 422)
    assert "1980:Å-2" not in {f["id"] for f in call(env, "bo", "GET", "/api/plots").json()["features"]}


def test_fit_of_a_plot_against_the_stored_profiles(env) -> None:
    fit = call(env, "anna", "GET", "/api/plots/1980:Å-1/fit").json()
    assert [f["profile"] for f in fit["profiles"]] == ["Regional distribution centre"]
    assert fit["profiles"][0]["status"] in ("ranked", "near miss", "excluded")
    _error(call(env, "per", "GET", "/api/plots/1980:Å-1/fit"), 403)
    _error(call(env, "bo", "GET", "/api/plots/1980:nosuch/fit"), 404)


# -- matches ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def matches(env):
    public = call(env, "bo", "POST", "/api/matches", json={"profile": QUICK_PROFILE})
    secret = call(env, "bo", "POST", "/api/matches", json={"profile": CONFIDENTIAL})
    assert public.status_code == secret.status_code == 201, (public.text, secret.text)
    return public.json(), secret.json()


def test_a_match_ranks_explains_and_links_its_files(env, matches) -> None:
    public, _ = matches
    assert public["counts"]["ranked"] > 0 and public["ranked"][0]["rank"] == 1
    assert {b["criterion"] for b in public["ranked"][0]["breakdown"]} == {"area_ha"}
    full = call(env, "pia", "GET", public["links"]["self"]).json()["result"]
    assert len(full["ranked"]) == public["counts"]["ranked"] and full["funnel"][0]["key"] == "min_area_ha"
    assert any(r["plot_id"] == "1980:Å-1" for r in full["ranked"])  # the store's plots are matched
    for name, kind in [
        ("map.html", "text/html"),
        ("dossier.html", "text/html"),
        ("ranking.csv", "text/csv"),
        ("funnel.csv", "text/csv"),
        ("ranking.gpkg", "application/geopackage"),
    ]:
        r = call(env, "bo", "GET", public["links"][name])
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), name
        assert public["label"] in r.headers["content-disposition"]
    assert (
        "frame-ancestors 'self'"
        in call(env, "bo", "GET", public["links"]["map.html"]).headers["content-security-policy"]
    )
    _error(call(env, "bo", "GET", f"/api/matches/{public['id']}/files/secrets.txt"), 404)
    assert public["id"] in [m["id"] for m in call(env, "pia", "GET", "/api/matches").json()]


def test_a_municipality_sees_a_match_only_as_far_as_its_own_plots(env, matches) -> None:
    public, _ = matches
    seen = call(env, "anna", "GET", f"/api/matches/{public['id']}").json()["result"]
    assert seen["ranked"] and {r["municipality_code"] for r in seen["ranked"]} == {"1980"}
    assert "company" not in seen["profile"]["lead"]
    theirs = call(env, "per", "GET", f"/api/matches/{public['id']}").json()["result"]["ranked"]
    assert {r["municipality_code"] for r in theirs} == {"0180"}
    _error(call(env, "anna", "GET", public["links"]["map.html"]), 403)


def test_a_confidential_match_is_its_advisers_and_admins_only(env, matches) -> None:
    _, secret = matches
    assert secret["confidential"] and secret["label"] == "lead-NDA-7"
    for user in ("cy", "pia", "anna"):
        _error(call(env, user, "GET", f"/api/matches/{secret['id']}"), 403)
        _error(call(env, user, "GET", secret["links"]["dossier.html"]), 403)
        assert secret["id"] not in [m["id"] for m in call(env, user, "GET", "/api/matches").json()]
    assert call(env, "root", "GET", f"/api/matches/{secret['id']}").status_code == 200


def test_no_company_name_in_urls_file_names_or_logs(env, matches, logs) -> None:
    for match in matches:
        assert "Northwind" not in str(match["links"]) and "Northwind" not in match["label"]
    names = [str(p.relative_to(env["tmp"])) for p in env["tmp"].rglob("*")]
    assert names and not [n for n in names if "northwind" in n.lower()]
    assert not [line for line in logs.lines if "Northwind" in line]
    audit = call(env, "root", "GET", "/api/audit").json()
    assert audit and "Northwind" not in str(audit)


def test_match_refusals(env) -> None:
    for user in ("pia", "anna"):
        _error(call(env, user, "POST", "/api/matches", json={"profile": QUICK_PROFILE}), 403)
    _error(call(env, "bo", "POST", "/api/matches", json={}), 422)
    body = _error(
        call(
            env, "bo", "POST", "/api/matches", json={"profile": {"name": "x", "requirements": {"min_area_ha": "5 ha"}}}
        ),
        422,
        "ProfileError",
    )
    assert body["key"] == "requirements.min_area_ha"
    _error(call(env, "bo", "POST", "/api/matches", json={"profile_id": "nosuch"}), 404)
    _error(call(env, "bo", "GET", "/api/matches/nosuch"), 404)
    _error(call(env, "bo", "GET", "/api/matches/nosuch/files/map.html"), 404)


def test_a_match_over_the_time_limit_is_503_and_leaves_nothing(env, monkeypatch) -> None:
    monkeypatch.setattr(settings, "service_match_timeout_s", 0.0)
    before = sorted(p.name for p in (env["tmp"] / "data" / "matches").iterdir())
    r = call(env, "bo", "POST", "/api/matches", json={"profile": QUICK_PROFILE})
    body = _error(r, 503, "UnavailableError")
    assert "longer than the service's limit" in body["message"] and r.headers["retry-after"]
    assert sorted(p.name for p in (env["tmp"] / "data" / "matches").iterdir()) == before


# -- accounts, tokens, audit -------------------------------------------------------------------------
def test_accounts_are_admins_work(env) -> None:
    _error(call(env, "bo", "GET", "/api/accounts"), 403)
    _error(call(env, "bo", "POST", "/api/accounts", json={"username": "x", "role": "admin", "password": "p" * 12}), 403)
    assert {"username": "anna", "role": "municipality:1980"} in call(env, "root", "GET", "/api/accounts").json()
    new = {"username": "eva", "role": "municipality:0580", "password": "a long password"}
    assert call(env, "root", "POST", "/api/accounts", json=new).status_code == 201
    _error(call(env, "root", "POST", "/api/accounts", json=new), 409, "ConflictError")
    _error(call(env, "root", "POST", "/api/accounts", json={**new, "username": "ed", "role": "mayor"}), 422)
    _error(call(env, "root", "POST", "/api/accounts", json={**new, "username": "ed", "password": "short"}), 422)
    _error(call(env, "root", "POST", "/api/accounts", json={**new, "username": "../x"}), 422)
    assert call(env, "root", "DELETE", "/api/accounts/eva").status_code == 204
    _error(call(env, "root", "DELETE", "/api/accounts/eva"), 404)
    _error(call(env, "bo", "DELETE", "/api/accounts/anna"), 403)


def test_tokens_are_shown_once_kept_hashed_and_revocable(env) -> None:
    made = call(env, "cy", "POST", "/api/tokens", json={"name": "qgis"}).json()
    assert made["token"].startswith("smt_")
    listed = call(env, "cy", "GET", "/api/tokens").json()
    assert made["id"] in [t["id"] for t in listed] and made["token"] not in str(listed)
    db = (env["tmp"] / "data" / "service.sqlite").read_bytes()
    assert made["token"].encode() not in db and b"correct horse" not in db
    assert env["client"].get("/api/me", headers=auth(made["token"])).json()["username"] == "cy"
    assert call(env, "cy", "DELETE", f"/api/tokens/{made['id']}").status_code == 204
    _error(env["client"].get("/api/me", headers=auth(made["token"])), 401)
    _error(call(env, "bo", "DELETE", f"/api/tokens/{listed[0]['id']}"), 404)  # another's token


def test_every_write_is_in_the_audit_log(env) -> None:
    call(env, "per", "POST", "/api/plots/1980:Å-1/withdraw", json={})
    entries = call(env, "root", "GET", "/api/audit", params={"limit": 1000}).json()
    refused = [e for e in entries if e["username"] == "per" and e["target"] == "/api/plots/1980:Å-1/withdraw"]
    assert refused and refused[0]["status"] == 403 and refused[0]["at"]
    uploads = [e for e in entries if e["target"] == "/api/plots" and e["status"] == 201]
    assert uploads and uploads[-1]["username"] == "anna" and uploads[-1]["detail"]["municipality_code"] == "1980"
    _error(call(env, "bo", "GET", "/api/audit"), 403)


# -- errors of any route ------------------------------------------------------------------------------
def test_unknown_routes_and_methods_get_json_errors(env) -> None:
    _error(call(env, "bo", "GET", "/api/nosuch"), 404, "HTTPError")
    _error(call(env, "bo", "DELETE", "/api/layers"), 405)
    _error(
        call(
            env,
            "bo",
            "POST",
            "/api/profiles/validate",
            content=io.BytesIO(b"x" * 3_000_000).read(),
            headers={"content-type": "application/json"},
        ),
        413,
    )


def test_openapi_document_lists_every_api_route(env) -> None:
    doc = env["client"].get("/openapi.json").json()
    paths = set(doc["paths"])
    assert {
        "/api/matches",
        "/api/plots",
        "/api/plots/{plot_id}/history",
        "/ogc/collections/{collection_id}/items",
    } <= paths
    assert not [p for p in paths if not p.startswith(("/api", "/ogc"))]
