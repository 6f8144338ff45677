"""The adviser's match form, through its page routes on the real app (issue 21, item 5).

Every criterion of the region can be required or preferred; a stored profile shows all it asks
for (posting its page back unchanged keeps the same profile); "keep as a stored profile" goes
through the profiles store; a pasted YAML/JSON profile is read as a profile file is; and a form
the form cannot read comes back with 422, the typed values, a message next to each field and the
menu — never a 5xx (a Hypothesis property over the page route). A form filled in by hand gives the
same ranking as the same profile written as a file and matched by :func:`sitematch.match`.
"""

from __future__ import annotations

import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st

from sitematch.profile import load_profile, parse_profile
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import ROOT, add_accounts, post_login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


class Page(HTMLParser):
    """A page's form as a browser sends it: inputs, ticked boxes, chosen options, text areas; and
    each field's message (``<span class="field-error" id="e-NAME">``)."""

    def __init__(self, text: str, form_id: str = "profile-form") -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self.inputs: dict[str, dict[str, str]] = {}
        self.messages: dict[str, str] = {}
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._message: str | None = None
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if tag == "span" and "field-error" in a.get("class", ""):
            self._message, self._text = a.get("id", "")[2:], ""
        if not self.inside:
            return
        if tag == "input" and "name" in a:
            self.inputs[a["name"]] = a
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None or self._message is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, on in self._options if on] or [self._options[0][0]]
            self.fields.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "span" and self._message is not None:
            self.messages[self._message] = self._text
            self._message = None

    def value(self, name: str) -> str:
        return dict(self.fields)[name]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("form")
    application = create_app(
        ServiceConfig(store=str(tmp / "plots.gpkg"), data_dir=tmp / "data", profiles_dir=ROOT / "scenarios")
    )
    add_accounts(tmp / "data")
    with TestClient(application):  # the app's start-up reads the scenarios into the store
        yield application


def _login(app, user: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = post_login(client, user)
    assert r.status_code == 303, r.text
    page = client.get("/match" if user in ("bo", "cy", "root") else r.headers["location"])
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture(scope="module")
def bo(app):
    return _login(app, "bo")


@pytest.fixture(scope="module")
def root(app):
    return _login(app, "root")  # sees the confidential scenarios too


def _stored_id(client: TestClient, name: str) -> str:
    page = client.get("/match").text
    found = re.search(r'<option value="([0-9a-f]+)"[^>]*>' + re.escape(name), page)
    assert found is not None, name
    return found.group(1)


def _codes_sorted(data: dict) -> dict:
    """Profile data with each requirement's allowed codes sorted (a set: the form ticks them in the
    registry's order, a file lists them in any)."""
    reqs = {k: sorted(v) if isinstance(v, list) else v for k, v in data.get("requirements", {}).items()}
    return {**data, "requirements": reqs}


def _post(client: TestClient, fields: list[tuple[str, str]], csrf: str, action: str):
    """Post the form as a browser does (fields in order, repeated names kept) with one of its buttons."""
    body = [*[(k, v) for k, v in fields if k not in ("csrf_token", "action")], ("csrf_token", csrf), ("action", action)]
    content = urlencode(body).encode()
    return client.post("/match", content=content, headers={"content-type": "application/x-www-form-urlencoded"})


# -- the form shows the region's criteria, whole profiles, and keeps them ------------------------------
def test_every_criterion_of_the_registry_can_be_required_and_preferred(app, bo) -> None:
    client, _ = bo
    page = client.get("/match")
    assert page.status_code == 200
    form = Page(page.text)
    registry = app.state.service.registry
    assert len(registry) == 19
    for c in registry:
        assert f'id="c-{c.name}"' in page.text
        assert f"pref.{c.name}.weight" in form.inputs, c.name  # preferred
        required = [f"req.min_{c.name}", f"req.max_{c.name}"] if c.kind == "numeric" else [f"req.{c.name}"]
        assert all(r in form.inputs or f'name="{r}"' in page.text for r in required), c.name
    # codes in words, units, the region and the parameters
    assert "industri / industry (J)" in page.text and "laga kraft (in force)" in page.text
    assert "(hectares)" in page.text and "(MW)" in page.text
    for name in ("region.include_municipalities", "region.exclude_municipalities", "region.counties",
                 "param.port_min_depth_m", "param.labour_pool_radius_m", "near_miss_tolerance"):  # fmt: skip
        assert name in form.inputs, name
    assert "1980 Västerås" in page.text  # the codes, with names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_a_stored_profile_shows_all_it_asks_for(root, path: Path) -> None:
    """Post a stored profile's page back unchanged as "keep": the kept profile is the file's, every part."""
    client, csrf = root
    original = load_profile(path)
    page = Page(client.get(f"/match?profile={_stored_id(client, original.name)}").text)
    assert page.value("name") == original.name
    r = _post(client, page.fields, csrf, "save")
    assert r.status_code == 303, r.text[:2000]
    kept_id = r.headers["location"].split("profile=")[1].split("&")[0]
    kept = client.get(f"/api/profiles/{kept_id}").json()["profile"]
    assert _codes_sorted(kept) == _codes_sorted(original.to_data())


def test_a_profile_with_everything_round_trips_through_the_form(bo) -> None:
    text = """
name: Everything lead
sector: test
description: every part of a profile
lead: {reference: R-9, via: Business Sweden, company: "Acme <b>AB</b>", contact: Eva, received: "2026-12-01",
       confidential: true}
region:
  {members_only: false, include_municipalities: ["0381"], exclude_municipalities: ["0180"], counties: ["03", "19"]}
parameters: {port_min_depth_m: 9, labour_pool_radius_m: 25000}
requirements:
  min_area_ha: 8
  max_area_ha: 60
  max_price_sek_m2: {value: 900, if_unknown: fail}
  zoning: [J, E]
  municipality_code: ["1980", "0381"]
  ready: true
  brownfield_allowed: false
preferences:
  grid_capacity_mw: {weight: 3, full_at: 80, zero_at: 10, shape: logistic}
  owner: {weight: 1, scores: {kommun: 1, privat: 0.5}}
  municipality_code: {weight: 0.5, scores: {"1980": 1, "0381": 0.25}}
  brownfield: {weight: 1, scores: {"false": 1, "true": 0}}
near_miss_tolerance: 0.1
assembly: {max_gap_m: 150}
"""
    client, csrf = bo
    r = _post(client, [("paste", text)], csrf, "paste")
    assert r.status_code == 200, r.text[:3000]
    page = Page(r.text)
    assert page.value("lead.company") == "Acme <b>AB</b>" and "<b>AB" not in r.text  # escaped
    assert page.value("region.counties") == "03, 19" and page.value("unknown.price_sek_m2") == "fail"
    r = _post(client, page.fields, csrf, "save")
    assert r.status_code == 303, r.text[:3000]
    kept_id = r.headers["location"].split("profile=")[1].split("&")[0]
    kept = client.get(f"/api/profiles/{kept_id}").json()
    assert kept["confidential"] is True and kept["created_by"] == "bo"
    assert _codes_sorted(kept["profile"]) == _codes_sorted(parse_profile(text).to_data())
    # the kept profile is confidential: another adviser does not see it, an admin does
    cy, _ = _login(client.app, "cy")
    assert cy.get(f"/match?profile={kept_id}").status_code == 403
    assert "Everything lead" not in cy.get("/match").text


def test_keep_as_profile_needs_an_adviser_and_the_csrf_token(app, bo) -> None:
    client, csrf = bo
    r = client.post("/match", data={"name": "No token", "req.min_area_ha": "5", "action": "save"})
    assert r.status_code == 403
    pia, pia_csrf = _login(app, "pia")
    r = pia.post("/match", data={"name": "Planner", "req.min_area_ha": "5", "action": "save", "csrf_token": pia_csrf})
    assert r.status_code == 403
    assert "No token" not in client.get("/match").text and "Planner" not in client.get("/match").text
    r = client.post("/match", data={"name": "Kept lead", "req.min_area_ha": "5", "save.advisers": "pia",
                                    "action": "save", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 422 and "not an adviser" in Page(r.text).messages["save.advisers"]
    assert Page(r.text).value("save.advisers") == "pia"
    r = client.post("/match", data={"name": "Kept lead", "req.min_area_ha": "5", "req.zoning": ["J", "Z"],
                                    "save.advisers": "cy", "action": "save", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Kept as a stored profile: Kept lead" in page.text
    form = Page(page.text)
    assert form.value("req.min_area_ha") == "5" and ("req.zoning", "J") in form.fields
    assert ("req.zoning", "E") not in form.fields
    listed = client.get("/api/profiles").json()
    assert [(p["created_by"], p["advisers"]) for p in listed if p["name"] == "Kept lead"] == [("bo", ["cy"])]


# -- what the form cannot read: 422, the typed values, a message, the menu ---------------------------
def test_words_in_a_number_field_come_back_with_422_the_typed_value_and_a_message(bo) -> None:
    client, csrf = bo
    form = Page(client.get("/match").text)
    fields = [(k, v) for k, v in form.fields if k not in ("req.min_area_ha", "pref.area_ha.full_at")]
    fields += [("req.min_area_ha", "tio"), ("pref.area_ha.full_at", "10 ha")]
    r = _post(client, fields, csrf, "run")
    assert r.status_code == 422
    back = Page(r.text)
    assert back.value("req.min_area_ha") == "tio" and back.value("pref.area_ha.full_at") == "10 ha"
    assert "is not a number" in back.messages["req.min_area_ha"]
    assert "hectares" in back.messages["pref.area_ha.full_at"]
    assert back.value("name") == form.value("name")  # everything else kept too
    assert 'href="/leads"' in r.text  # the menu


def test_the_library_s_message_lands_next_to_its_field(bo) -> None:
    client, csrf = bo
    cases = [
        ([("req.min_area_ha", "-3")], "req.min_area_ha", "must not be negative"),
        ([("region.counties", "3")], "region.counties", "2-digit SCB code"),
        ([("pref.area_ha.weight", "1"), ("pref.area_ha.full_at", "5"), ("pref.area_ha.zero_at", "5")],
         "pref.area_ha.full_at", "must differ"),
        ([("pref.zoning.weight", "1")], "pref.zoning.weight", "give 'scores'"),
        ([("pref.owner.score.kommun", "2"), ("pref.owner.weight", "1")], "pref.owner.score.kommun", "between 0 and 1"),
    ]  # fmt: skip
    for fields, name, words in cases:
        base = [("name", "Lead"), ("req.min_area_ha", "5")]
        r = _post(client, [*[b for b in base if b[0] not in dict(fields)], *fields], csrf, "run")
        assert r.status_code == 422, (fields, r.status_code)
        back = Page(r.text)
        assert words in back.messages.get(name, ""), (name, back.messages)
        for key, value in fields:
            assert back.value(key) == value


def test_a_pasted_profile_is_read_as_a_file_is(bo) -> None:
    client, csrf = bo
    bad = "name: Pasted\nrequirements:\n  min_area_ha: [10\n"
    r = _post(client, [("name", "Typed name"), ("paste", bad)], csrf, "paste")
    assert r.status_code == 422
    back = Page(r.text)
    assert back.value("paste") == bad and back.value("name") == "Typed name"
    assert back.messages["paste"].startswith("the pasted profile")
    r = _post(client, [("paste", "name: Pasted\nrequirements: {min_area_ha: 10 ha}\n")], csrf, "paste")
    assert r.status_code == 422 and "line 2" in Page(r.text).messages["paste"]
    r = _post(client, [("paste", '{"name": "Json lead", "requirements": {"min_area_ha": 7, "min_area_ha": 8}}')],
              csrf, "paste")  # fmt: skip
    assert r.status_code == 422 and "written twice" in Page(r.text).messages["paste"]
    good = json.dumps({"name": "Json lead", "requirements": {"min_area_ha": 7, "zoning": ["Z"]}})
    r = _post(client, [("paste", good)], csrf, "paste")
    assert r.status_code == 200
    back = Page(r.text)
    assert back.value("name") == "Json lead" and back.value("req.min_area_ha") == "7"
    assert ("req.zoning", "Z") in back.fields and ("req.zoning", "J") not in back.fields


def _not_a_number(text: str) -> bool:
    """Text that is no number however written: it has a character numbers never have."""
    return any(ch not in string.digits + " .,+-eE\u00a0\u2009\u202f\u2212" for ch in text)


@st.composite
def _typed(draw, names: list[str]) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), min_size=1,
                    max_size=40).filter(_not_a_number)  # fmt: skip
    return {name: draw(texts) for name in chosen}


def test_any_text_in_any_number_field_is_422_with_the_text_back_never_5xx(app, bo) -> None:
    client, csrf = bo
    form = Page(client.get("/match").text)
    numeric = [n for n, a in form.inputs.items() if a.get("inputmode") == "decimal"]
    assert len(numeric) > 60  # every numeric field of every criterion, the parameters, tolerance, gap

    @hypothesis.given(typed=_typed(numeric))
    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
    def check(typed: dict[str, str]) -> None:
        fields = [(k, v) for k, v in form.fields if k not in typed] + list(typed.items())
        r = _post(client, fields, csrf, "run")
        assert r.status_code == 422, (typed, r.status_code, r.text[:500])
        back = Page(r.text)
        for name, text in typed.items():
            assert back.value(name) == text
            assert back.messages.get(name), name
        assert 'href="/leads"' in r.text

    check()


# -- the form's match is the library's match ---------------------------------------------------------
FULL_PROFILE = """
name: Full form lead
requirements:
  min_area_ha: 6
  max_distance_to_motorway_junction_m: 8000
  zoning: [J, Z, E]
  plan_status: [laga_kraft, antagen]
  brownfield_allowed: false
preferences:
  distance_to_motorway_junction_m: {weight: 3, full_at: 800, zero_at: 8000}
  grid_capacity_mw: {weight: 2, full_at: 60, zero_at: 5, shape: logistic}
  labour_pool_population: {weight: 1, full_at: 300000, zero_at: 20000}
  owner: {weight: 1, scores: {kommun: 1, privat: 0.3}}
  ready: {weight: 1, scores: {"true": 1, "false": 0.2}}
region: {members_only: true, exclude_municipalities: ["0180"], counties: ["01", "03", "19"]}
parameters: {labour_pool_radius_m: 20000, grid_connection_radius_m: 10000}
"""
#: The same profile as a person fills the form in (decimal commas and thousands spaces, as typed).
FULL_FORM = [
    ("name", "Full form lead"),
    ("req.min_area_ha", "6"),
    ("req.max_distance_to_motorway_junction_m", "8 000"),
    ("req.zoning", "J"), ("req.zoning", "Z"), ("req.zoning", "E"),
    ("req.plan_status", "laga_kraft"), ("req.plan_status", "antagen"),
    ("req.brownfield", "no"),
    ("pref.distance_to_motorway_junction_m.weight", "3"),
    ("pref.distance_to_motorway_junction_m.full_at", "800"),
    ("pref.distance_to_motorway_junction_m.zero_at", "8000"),
    ("pref.grid_capacity_mw.weight", "2"), ("pref.grid_capacity_mw.full_at", "60"),
    ("pref.grid_capacity_mw.zero_at", "5"), ("pref.grid_capacity_mw.shape", "logistic"),
    ("pref.labour_pool_population.weight", "1"), ("pref.labour_pool_population.full_at", "300 000"),
    ("pref.labour_pool_population.zero_at", "20000"),
    ("pref.owner.weight", "1"), ("pref.owner.score.kommun", "1"), ("pref.owner.score.privat", "0,3"),
    ("pref.ready.weight", "1"), ("pref.ready.score.true", "1"), ("pref.ready.score.false", "0,2"),
    ("region.members_only", "on"), ("region.exclude_municipalities", "0180"),
    ("region.counties", "01, 03 19"),
    ("param.labour_pool_radius_m", "20000"), ("param.grid_connection_radius_m", "10 000"),
]  # fmt: skip


@pytest.mark.slow
def test_a_full_form_ranks_as_the_same_profile_file_does(app, bo, tmp_path) -> None:
    from sitematch import LayerSet, match
    from sitematch import settings as sm_settings

    client, csrf = bo
    r = _post(client, FULL_FORM, csrf, "run")
    assert r.status_code == 303, r.text[:3000]
    match_id = r.headers["location"].rsplit("/", 1)[1]
    result = json.loads((app.state.service.matches_dir / match_id / "result.json").read_text(encoding="utf-8"))
    path = tmp_path / "full.yaml"
    path.write_text(FULL_PROFILE, encoding="utf-8")
    expected = match(load_profile(path), LayerSet.from_path(sm_settings.layers_path()))
    ranked = expected.ranked
    assert len(ranked) > 3  # a ranking worth comparing
    assert [row["plot_id"] for row in result["ranked"]] == list(ranked["plot_id"])
    assert [row["score"] for row in result["ranked"]] == [round(float(x), 2) for x in ranked["score"]]
    assert result["counts"]["near_misses"] == len(expected.near_misses)
    assert _codes_sorted(result["profile"]) == _codes_sorted(load_profile(path).to_data())
