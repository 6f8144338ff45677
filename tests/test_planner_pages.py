"""The municipality's "leads my plots fit" and "more leads" views and the planner's pages, in the service.

A confidential lead is present: its name, company, contact and reference never appear in what a
municipality gets (page, CSV, JSON, map). Roles: a municipality sees only its own view; planners and
advisers the planner pages; admins name a municipality. Work is counted, not timed: one
evaluation per profile and data change, shared by every page; an upload or a new profile computes
anew, and only what changed.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from sitematch.profile import parse_profile
from sitematch.service import planner_cache
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import add_accounts, auth, post_login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = """
name: Hemliga Voltverket
sector: battery manufacturing
description: Voltverket wants a second site
lead: {company: Volta Hemlig AB, contact: eva@volta.example, reference: VH-9, confidential: true}
requirements:
  min_area_ha: 5
preferences:
  area_ha: {weight: 1, full_at: 50, zero_at: 5}
"""
PUBLIC = """
name: Open logistics lead
sector: logistics
lead: {company: Öppna Lager AB, reference: OL-1}
requirements:
  min_area_ha: 10
"""
#: Two plots of Västerås: 12.5 ha fits both leads; 3 ha lacks 2 ha for the confidential one, 7 for the other.
PLOTS = (
    "Objekt_ID,Benämning,Användning,Planstatus,Ägare,Areal_ha,Byggklar,Pris_kr_kvm,lon,lat\n"
    "T-1,Testtomt stor,J,laga_kraft,kommun,12.5,ja,450,16.5050,59.6290\n"
    "T-2,Testtomt liten,J,laga_kraft,kommun,3.0,ja,450,16.4700,59.5900\n"
    'T-3,"<img src=x onerror=alert(1)> & co",J,laga_kraft,kommun,1.0,ja,450,16.4800,59.6000\n'
)
SECRETS = ("Hemliga", "Voltverket", "Volta", "eva@volta", "VH-9", "Öppna Lager", "OL-1")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planner-pages")
    app = create_app(ServiceConfig(store=str(tmp / "plots.gpkg"), data_dir=tmp / "data"))
    tokens = add_accounts(tmp / "data")
    svc = app.state.service
    svc.records.add_profile(parse_profile(SECRET, where="test"), created_by="bo")
    svc.records.add_profile(parse_profile(PUBLIC, where="test"), created_by="bo")
    return {"app": app, "tokens": tokens}


def _login(app, user: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert post_login(client, user).status_code == 303
    return client


def _upload(env) -> None:
    client = TestClient(env["app"], base_url="https://testserver")
    r = client.post(
        "/api/plots", headers=auth(env["tokens"]["anna"]), files={"file": ("tomter.csv", PLOTS.encode("utf-8"))}
    )
    assert r.status_code == 201, r.text


def test_leads_my_plots_fit_hides_the_confidential_lead_and_is_computed_once_per_data_change(env) -> None:
    app = env["app"]
    _upload(env)
    anna = _login(app, "anna")
    evaluations, derived = planner_cache.evaluations, planner_cache.derived
    page = anna.get("/municipality/fit")
    assert page.status_code == 200, page.text
    assert planner_cache.evaluations == evaluations + 2  # one per stored profile, over every site
    data = anna.get("/municipality/fit.json").json()
    table = anna.get("/municipality/fit.csv")
    fit_map = anna.get("/municipality/fit/map.html")
    more = anna.get("/municipality/more")
    assert {r.status_code for r in (table, fit_map, more)} == {200}
    assert planner_cache.evaluations == evaluations + 2  # the other views read the same evaluations
    for text in (page.text, table.content.decode("utf-8"), str(data), fit_map.text, more.text):
        for secret in SECRETS:
            assert secret not in text
    assert "Confidential lead 1 (battery manufacturing)" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in page.text
    assert "<img src=x" not in fit_map.text  # escaped in the map's popups too

    plots = {p["plot_id"]: p for p in data["plots"]}
    big, small = plots["1980:T-1"], plots["1980:T-2"]
    assert {f["lead"] for f in big["fits"]} == {"Confidential lead 1 (battery manufacturing)", "Open logistics lead"}
    secret_fit = next(f for f in big["fits"] if f["lead"].startswith("Confidential"))
    assert secret_fit["score"] == 16.7  # area 12.5 ha: (12.5 − 5) / (50 − 5) · 100
    assert small["fits"] == []
    lacks = {f["lead"]: f["lacks"] for f in small["lacks"]}
    assert re.fullmatch(r"needs 2(\.0)? ha more area", lacks["Confidential lead 1 (battery manufacturing)"])
    assert re.fullmatch(r"needs 7(\.0)? ha more area", lacks["Open logistics lead"])
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    mine = [r for r in rows if r["plot_id"] == "1980:T-2"]
    assert sorted((r["lead"], r["fits"]) for r in mine) == [
        ("Confidential lead 1 (battery manufacturing)", "False"),
        ("Open logistics lead", "False"),
    ]
    assert all(r["plot_id"].startswith("1980:") for r in rows)  # its own land only
    section = re.search(r"<h3>Confidential lead 1 \(battery manufacturing\).*?</section>", more.text, re.S)
    assert section is not None and "Area at least 5 ha" in section.group(0)  # T-2 misses only that

    derived_now = planner_cache.derived
    for url in ("/municipality/fit", "/municipality/fit.json", "/municipality/fit.csv", "/municipality/more"):
        assert anna.get(url).status_code == 200
    assert (planner_cache.evaluations, planner_cache.derived) == (evaluations + 2, derived_now)  # all kept
    assert derived_now > derived

    _upload(env)  # the same rows again: a new version of each plot, the same values
    assert anna.get("/municipality/fit").status_code == 200
    assert planner_cache.evaluations == evaluations + 2  # nothing the answers rest on changed

    bigger = PLOTS.replace("12.5", "13.5")
    r = TestClient(app, base_url="https://testserver").post(
        "/api/plots", headers=auth(env["tokens"]["anna"]), files={"file": ("tomter.csv", bigger.encode("utf-8"))}
    )
    assert r.status_code == 201, r.text
    assert anna.get("/municipality/fit").status_code == 200
    assert planner_cache.evaluations == evaluations + 4  # the plots changed: both profiles again

    app.state.service.records.add_profile(parse_profile(PUBLIC.replace("10", "11"), where="test"), created_by="bo")
    assert anna.get("/municipality/fit").status_code == 200
    assert planner_cache.evaluations == evaluations + 5  # only the new profile is evaluated


def test_the_municipality_views_are_its_own(env) -> None:
    app = env["app"]
    anna, per = _login(app, "anna"), _login(app, "per")
    for url in ("/municipality/fit", "/municipality/fit.csv", "/municipality/fit.json", "/municipality/more",
                "/municipality/fit/map.html"):  # fmt: skip
        assert anna.get(url + "?code=0180").status_code == 403  # another municipality's view
        assert per.get(url + "?code=1980").status_code == 403
        for other in ("pia", "bo"):  # planners and advisers have their own pages
            assert _login(app, other).get(url).status_code == 403
    assert per.get("/municipality/fit.json").json()["municipality_code"] == "0180"
    root = _login(app, "root")
    assert root.get("/municipality/fit.json?code=1980").json()["municipality_code"] == "1980"
    assert root.get("/municipality/fit").status_code == 422  # an admin names the municipality


def test_planner_pages_for_planners_and_advisers_only(env) -> None:
    app = env["app"]
    anna, pia, bo = _login(app, "anna"), _login(app, "pia"), _login(app, "bo")
    urls = ("/planner/gaps", "/planner/kartbild.html", "/planner/sheets", "/planner/sheets/1980.html",
            "/planner/matrix", "/planner/matrix.csv", "/planner/matrix.svg", "/brownfield", "/brownfield.csv",
            "/brownfield/map.html")  # fmt: skip
    for url in urls:
        assert anna.get(url).status_code == 403, url
        assert pia.get(url).status_code == 200, url
    assert bo.get("/planner/sheets").status_code == 200
    # a planner may not see the confidential lead at all (the service's rule); an adviser who is not its own neither
    for who in (pia, _login(app, "cy")):
        for url in ("/planner/gaps", "/planner/matrix", "/planner/matrix.csv", "/planner/kartbild.html"):
            text = who.get(url).text
            assert not any(secret in text for secret in SECRETS[:5]), url
    matrix = pia.get("/planner/matrix.csv").content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(matrix)))
    assert "Open logistics lead" in header and not any("onfidential" in h for h in header)
    assert pia.get("/planner/sheets/0000.html").status_code == 404
    assert pia.get("/planner/sheets/x.html").status_code == 404
    assert pia.get("/planner/matrix.png").headers["content-type"] == "image/png"


def _rows(client: TestClient, url: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))


def test_brownfield_filters_sort_and_csv_agree(env) -> None:
    pia = _login(env["app"], "pia")
    every = _rows(pia, "/brownfield.csv")
    assert every and all(r["plot_id"] for r in every)
    big = _rows(pia, "/brownfield.csv?min_area_ha=10&sort=area")
    expected = sorted(
        (r for r in every if float(r["area_ha"]) >= 10), key=lambda r: (-float(r["area_ha"]), r["plot_id"])
    )
    assert [r["plot_id"] for r in big] == [r["plot_id"] for r in expected]
    low_risk = _rows(pia, "/brownfield.csv?mifo=3")
    assert [r["plot_id"] for r in low_risk] == [r["plot_id"] for r in every if r["mifo_risk_class"] in ("3", "4")]
    page = pia.get("/brownfield?fits=any", headers={"Accept-Language": "en"})  # the English column labels
    assert page.status_code == 200
    shown = re.findall(r'<td data-label="plot">([^<]+)</td>', page.text)
    assert shown == [r["plot_id"] for r in every if r["fits"]]
    assert pia.get("/brownfield?sort=nonsense").status_code == 422
    assert pia.get("/brownfield?mifo=9").status_code == 422


def test_every_page_answers_without_stored_profiles(tmp_path) -> None:
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    add_accounts(tmp_path / "data")
    anna, pia = _login(app, "anna"), _login(app, "pia")
    for url in ("/municipality/fit", "/municipality/fit.csv", "/municipality/fit.json", "/municipality/more",
                "/municipality/fit/map.html"):  # fmt: skip
        assert anna.get(url).status_code == 200, url
    for url in ("/planner/gaps", "/planner/kartbild.html", "/planner/sheets", "/planner/matrix", "/planner/matrix.csv",
                "/brownfield", "/brownfield.csv", "/brownfield/map.html"):  # fmt: skip
        assert pia.get(url).status_code == 200, url
    assert "no profiles or no sites" in pia.get("/planner/kartbild.html").text
    assert pia.get("/planner/sheets/1980.html").status_code == 404  # no sheet without profiles


def test_a_page_past_the_services_time_limit_is_503_not_a_hang(env, monkeypatch) -> None:
    from sitematch import settings

    pia, anna = _login(env["app"], "pia"), _login(env["app"], "anna")
    monkeypatch.setattr(settings, "service_match_timeout_s", 0.0)  # every step is past the limit
    r = pia.get("/planner/matrix")
    assert r.status_code == 503 and "took longer than the service" in r.text
    assert anna.get("/municipality/fit").status_code == 503
