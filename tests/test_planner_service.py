"""The planner's gap page in the service: roles, content, and computed once per data change."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sitematch.service import planner_cache
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import add_accounts, post_login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PROFILE = """
name: Gap page lead
sector: logistics
requirements:
  min_area_ha: 10
  zoning: [J]
  min_grid_capacity_mw: 60
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planner-pages")
    application = create_app(ServiceConfig(store=str(tmp / "plots.gpkg"), data_dir=tmp / "data"))
    add_accounts(tmp / "data")
    return application


def _login(app, user: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = post_login(client, user)
    assert r.status_code == 303, r.text
    return client


def test_gap_page_for_planners_only_and_computed_once_per_data_change(app) -> None:
    assert _login(app, "anna").get("/planner/gaps").status_code == 403  # a municipality
    svc = app.state.service
    from sitematch.profile import parse_profile

    svc.records.add_profile(parse_profile(PROFILE, where="test"), created_by="pia")
    pia = _login(app, "pia")
    before = planner_cache.computed
    r = pia.get("/planner/gaps")
    assert r.status_code == 200, r.text
    # a planner reads Swedish unless the browser or the account asks otherwise
    assert "Vad som håller regionen tillbaka" in r.text and "Gap page lead" in r.text
    binding = re.search(r'<table class="list[^"]*" id="binding">(.*?)</table>', r.text, re.S).group(1)
    assert "Grid capacity available at least 60 MW" in binding  # the bundled region's binding constraint
    assert 'id="municipalities"' in r.text and "Västerås" in r.text
    assert planner_cache.computed == before + 1
    assert pia.get("/planner/gaps").status_code == 200
    assert planner_cache.computed == before + 1  # the second load reads the kept answer
    svc.records.add_profile(parse_profile(PROFILE.replace("60", "50"), where="test"), created_by="pia")
    assert pia.get("/planner/gaps").status_code == 200
    assert planner_cache.computed == before + 2  # a changed set of profiles computes anew
