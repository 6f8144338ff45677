"""Profiles: good ones load into typed objects; every bad one gets a clear error with its line."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitematch.errors import ProfileError
from sitematch.profile import load_profile, parse_profile

SCENARIOS = sorted(Path(__file__).parent.parent.joinpath("scenarios").glob("*.yaml"))

GOOD = """\
name: Battery plant
sector: battery manufacturing
region:
  members_only: true
  include_municipalities: ["1984"]
parameters:
  port_min_depth_m: 6.0
requirements:
  min_area_ha: 25
  min_grid_capacity_mw: 40
  zoning: [J, Z]
  max_distance_to_motorway_junction_m: 5000
  brownfield_allowed: false
preferences:
  distance_to_motorway_junction_m: {weight: 3, full_at: 1000, zero_at: 5000}
  grid_capacity_mw: {weight: 4, zero_at: 40, full_at: 120, shape: logistic}
  owner: {weight: 1, scores: {kommun: 1.0, privat: 0.4}}
"""


def test_good_profile_loads() -> None:
    p = parse_profile(GOOD, where="good.yaml")
    assert p.name == "Battery plant"
    assert p.region.include_municipalities == ("1984",)
    assert p.parameters.port_min_depth_m == 6.0
    ops = {(c.column, c.op) for c in p.requirements}
    assert ("area_ha", "min") in ops and ("zoning", "in") in ops and ("brownfield", "eq") in ops
    assert p.total_weight == 8
    assert [pr.shape for pr in p.preferences] == ["linear", "logistic", "table"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_is_valid(path: Path) -> None:
    p = load_profile(path)
    assert p.requirements and p.preferences and p.slug == path.stem


def test_there_are_at_least_five_scenarios() -> None:
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            "name: x\nrequirements:\n  min_area: 10\n",
            3,
            "'requirements.min_area': unknown key. Did you mean 'min_area_ha'",
        ),
        ("name: x\nrequirements:\n  max_distance_to_rail_km: 2\n", 3, "write 'max_distance_to_rail_m'"),
        ("name: x\nrequirements:\n  min_grid_capacity_kw: 2000\n", 3, "write 'min_grid_capacity_mw'"),
        (
            "name: x\nrequirements:\n  max_distance_to_rail_m: 5 km\n",
            3,
            "expected a number, got '5 km'. Write a plain number in metres",
        ),
        (
            "name: x\npreferences:\n  area_ha: {weight: -1, full_at: 10, zero_at: 0}\n",
            3,
            "weights must not be negative",
        ),
        ("name: x\nrequirements:\n  min_area_ha: 30\n  max_area_ha: 20\n", 3, "larger than max_area_ha = 20"),
        ("name: x\nrequirements:\n  min_area_ha: -3\n", 3, "must not be negative"),
        ("name: x\nrequirements:\n  zoning: [Q]\n", 3, "unknown value 'Q'"),
        ("name: x\npreferences:\n  area_ha: {weight: 1, full_at: 10}\n", 3, "missing 'zero_at'"),
        ("name: x\npreferences:\n  area_ha: {weight: 1, full_at: 10, zero_at: 10}\n", 3, "must differ"),
        ("name: x\npreferences:\n  area_ha: {weight: 1, full_at: 10, zero_at: 0, shape: cubic}\n", 3, "unknown shape"),
        ("name: x\npreferences:\n  area_ha: {wieght: 1, full_at: 10, zero_at: 0}\n", 3, "Did you mean 'weight'"),
        ("name: x\npreferences:\n  owner: {weight: 1, scores: {kommun: 2}}\n", 3, "between 0 and 1"),
        ("name: x\npreferences:\n  area_ha: {weight: 0, full_at: 10, zero_at: 0}\n", 2, "all weights are 0"),
        ("name: x\nregion:\n  include_municipalities: [198]\n", 3, "lost its leading zero"),
        ('name: x\nregion:\n  include_municipalities: ["19x0"]\n', 3, "not a 4-digit SCB code"),
        ("name: x\nrequirement:\n  min_area_ha: 3\n", 2, "Did you mean 'requirements'"),
        ("requirements:\n  min_area_ha: 3\n", None, "'name': missing"),
        ("name: x\n", None, "neither 'requirements' nor 'preferences'"),
        ("name: x\nrequirements: [1, 2]\n", 2, "expected a mapping"),
        ("name: x\nrequirements:\n  ready: maybe\n", 3, "expected true or false"),
        ("name: x\nrequirements:\n\tmin_area_ha: 3\n", 3, "not valid YAML"),
        ("", None, "the profile is empty"),
        ("- just\n- a list\n", None, "is a YAML mapping"),
    ],
)
def test_bad_profiles_name_the_line_and_key(text: str, line: int | None, needle: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(text, where="lead.yaml")
    msg = str(err.value)
    assert msg.startswith("lead.yaml")
    assert needle in msg
    if line is not None:
        assert f"line {line}" in msg


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: Köping\n".encode("latin-1"))
    with pytest.raises(ProfileError, match="not a UTF-8"):
        load_profile(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_either_parses_or_raises_profile_error(text: str) -> None:
    with contextlib.suppress(ProfileError):
        parse_profile(text)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True), st.text(max_size=8)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["name", "requirements", "preferences", "region", "parameters", "near_miss_tolerance", "lead", "zzz"]
        ),
        yaml_values,
        max_size=6,
    )
)
def test_any_structure_either_parses_or_raises_profile_error(doc: dict) -> None:
    import yaml

    with contextlib.suppress(ProfileError):
        parse_profile(yaml.safe_dump(doc, allow_unicode=True))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_profile_reads_back_from_its_data_and_from_json(path: Path) -> None:
    import json

    from sitematch.profile import build_profile, parse_profile_json

    p = load_profile(path)
    again = build_profile(p.to_data(), slug=p.slug, path=p.path)
    assert again == p and again.digest() == p.digest()
    assert parse_profile_json(json.dumps(p.to_data()), slug=p.slug).digest() == p.digest()


def test_json_profiles_get_the_same_messages_as_yaml() -> None:
    from sitematch.profile import parse_profile_json

    with pytest.raises(ProfileError) as from_yaml:
        parse_profile("name: x\nrequirements:\n  max_distance_to_rail_km: 2\n", where="form")
    with pytest.raises(ProfileError) as from_json:
        parse_profile_json('{"name": "x", "requirements": {"max_distance_to_rail_km": 2}}', where="form")
    assert str(from_json.value) == str(from_yaml.value).replace("form, line 3", "form")
    assert from_json.value.key == from_yaml.value.key == "requirements.max_distance_to_rail_km"
    assert from_yaml.value.line == 3 and from_json.value.line is None
    with pytest.raises(ProfileError, match="not valid JSON"):
        parse_profile_json('{"name": ', where="form")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "name: x\nlead: {reference: a, confidental: true}\nrequirements: {min_area_ha: 1}\n",
            "Did you mean 'confidential'",
        ),
        ("name: x\nlead: {confidential: yes please}\nrequirements: {min_area_ha: 1}\n", "expected true or false"),
        ("name: x\nrequirements: {min_area_ha: " + "9" * 400 + "}\n", "too large"),
        ("name: x\nrequirements: {min_area_ha: 1}\nrequirements: {min_area_ha: 2}\n", "written twice"),
        ("name: &n x\nsector: *n\nrequirements: {min_area_ha: 1}\n", "aliases (*n) are not allowed"),
        ("name: x\nparameters: {port_min_depth_m: deep}\nrequirements: {min_area_ha: 1}\n", "expected a number"),
    ],
)
def test_more_mistakes_get_messages(text: str, needle: str) -> None:
    with pytest.raises(ProfileError, match=None) as err:
        parse_profile(text, where="lead.yaml")
    assert needle in str(err.value)


def test_the_lead_is_typed() -> None:
    p = load_profile(SCENARIOS[0].parent / "data_centre.yaml")
    assert p.lead.confidential is True and p.lead.reference.startswith("DC-2026-007")


def test_the_json_schema_accepts_every_scenario_and_refuses_mistakes() -> None:
    import jsonschema
    import yaml

    from sitematch.profile import profile_schema

    schema = profile_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SCENARIOS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for pref in (data.get("preferences") or {}).values():  # YAML reads `true:` keys as booleans
            if "scores" in pref:
                pref["scores"] = {str(k).lower(): v for k, v in pref["scores"].items()}
        assert not list(validator.iter_errors(data)), path.name
    bad = [
        {"name": "x", "requirements": {"min_area": 3}},
        {"name": "x", "requirements": {"zoning": ["Q"]}},
        {"name": "x", "preferences": {"area_ha": {"weight": 1, "full_at": 10}}},
        {"name": "x", "requirements": {"min_area_ha": -1}},
        {"requirements": {"min_area_ha": 1}},
    ]
    for data in bad:
        assert list(validator.iter_errors(data)), data


def test_the_json_schema_knows_the_long_form_of_a_requirement() -> None:
    import jsonschema

    from sitematch.profile import profile_schema

    validator = jsonschema.Draft202012Validator(profile_schema())
    good = {"name": "x", "requirements": {"max_price_sek_m2": {"value": 800, "if_unknown": "fail"}}}
    assert not list(validator.iter_errors(good))
    bad = {"name": "x", "requirements": {"max_price_sek_m2": {"value": 800, "if_unknown": "maybe"}}}
    assert list(validator.iter_errors(bad))
    with pytest.raises(ProfileError, match="unknown policy 'maybe'"):
        parse_profile("name: x\nrequirements: {max_price_sek_m2: {value: 800, if_unknown: maybe}}")


def test_an_implausibly_small_distance_gets_a_warning_naming_the_key() -> None:
    p = parse_profile("name: x\nrequirements: {max_distance_to_motorway_junction_m: 5}", where="lead.yaml")
    assert p.warnings == (
        "lead.yaml: 'requirements.max_distance_to_motorway_junction_m' is 5 m; did you mean 5 km = 5000?",
    )
    assert parse_profile("name: x\nrequirements: {max_distance_to_motorway_junction_m: 5000}").warnings == ()


def test_a_lead_can_require_an_international_airport() -> None:
    """Torsby's airfield is not Arlanda: airports carry a class, and a profile can ask for an international one."""
    from sitematch import LayerSet, match

    layers = LayerSet.from_path(Path(__file__).parent.parent / "layers")
    classes = layers["airports"].set_index("icao")["airport_class"]
    assert classes["ESSA"] == "international" and classes["ESST"] == "regional" and classes["ESKK"] == "airfield"
    profile = parse_profile("name: x\nrequirements: {max_distance_to_international_airport_m: 60000}\n")
    result = match(profile, layers)
    ranked = result.ranked
    assert len(ranked) and set(ranked["nearest_international_airport"]) <= {
        "Stockholm-Arlanda Airport",
        "Stockholm Skavsta Airport",
    }
    # near any airport is not near an international one
    assert (result.sites["distance_to_international_airport_m"] >= result.sites["distance_to_airport_m"]).all()


def test_a_billion_laughs_profile_is_refused_fast_with_a_message(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):  # 9 levels of 9 aliases each: 9^10 strings if expanded
        prev, cur = chr(96 + i), chr(97 + i)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "lol.yaml"
    bomb.write_text("name: x\nsector:\n  " + "\n  ".join(levels) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(ProfileError, match=r"aliases \(\*a\) are not allowed"):
        load_profile(bomb)
    assert time.perf_counter() - start < 60  # a hang guard: refused before any alias is expanded (~1 ms)
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "sitematch.cli", "profile", "check", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.perf_counter() - start < 120  # a hang guard (interpreter start-up included), not a speed test
    assert res.returncode == 1 and "aliases (*a) are not allowed" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr) < 400


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"name": "x", "requirements": {"min_area_ha": 1, "min_area_ha": 2}}', "written twice"),
        ('{"name": "x", "requirements": {"min_area_ha": ' + "9" * 5000 + "}}", "not valid JSON"),
        ('{"name": 2026, "requirements": {"min_area_ha": 1}}', "expected text"),
        (
            '{"name": "x", "preferences": {"owner": {"weight": 1, "full_at": 1, "scores": {"kommun": 1}}}}',
            "not breakpoints",
        ),
        ('{"name": "x", "requirements": {"max_price_sek_m2": {"value": 9, "if_unknown": null}}}', "unknown policy"),
    ],
)
def test_json_mistakes_get_messages(text: str, needle: str) -> None:
    from sitematch.profile import parse_profile_json

    with pytest.raises(ProfileError) as err:
        parse_profile_json(text, where="form")
    assert needle in str(err.value)


def test_an_integer_of_thousands_of_digits_in_yaml_is_a_message() -> None:
    with pytest.raises(ProfileError, match="cannot be read"):
        parse_profile("name: x\nrequirements: {min_area_ha: " + "9" * 5000 + "}\n", where="lead.yaml")
