"""The match form in a real browser (Debian's Chromium via Playwright) at 1024×768 and 390×844.

An adviser loads a stored profile (the form shows its requirements, preferences and parameters),
types words into a number field and gets the form back (422) with what was typed and a message next
to the field, pastes a profile, keeps one, and runs a match, seeing the progress line while the
server works. No page scrolls sideways; no JavaScript error; nothing leaves loopback. With
``SITEMATCH_SCREENSHOTS=folder`` the screenshots are kept there.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM
from tests._service import PASSWORD, ROOT, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
SIZES = {"desktop": (1024, 768), "phone": (390, 844)}
PROFILE_JSON = '{"name": "Other lead", "requirements": {"min_area_ha": 6}}'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("form-browser"), profiles=ROOT / "scenarios") as srv:
        yield srv


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("form-shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


@pytest.fixture(params=list(SIZES))
def adviser(request, browser, server, shots):
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    errors: list[str] = []
    blocked: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith((server.url, "data:", "about:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")  # a 422 page is "failed"
            else None
        ),
    )
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "bo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/match")

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"form-{name}-{request.param}.png"), full_page=False)

    yield page, shot, request.param
    context.close()
    assert errors == [], errors
    assert [u for u in blocked if "tile.openstreetmap.org" not in u] == []


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def test_words_in_a_number_field_come_back_with_the_typed_value_and_a_message(adviser, server) -> None:
    page, shot, _ = adviser
    page.select_option("#pick-profile select[name=profile]", label="Regional distribution centre")
    page.click("#pick-profile button")
    page.wait_for_load_state()
    # the stored profile shows all it asks for: preferences beyond the old form's few, open
    assert page.input_value("input[name='pref.labour_pool_population.weight']") == "3"
    assert page.is_checked("input[name='req.zoning'][value='T']")
    assert page.input_value("input[name='pref.plan_status.score.antagen']") == "0.6"
    assert page.is_visible("input[name='pref.price_sek_m2.full_at']")
    _no_sideways_scroll(page)
    shot("stored-profile")
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    _no_sideways_scroll(page)  # every group, the region's codes, the parameters and the paste box open
    page.locator("#region").scroll_into_view_if_needed()
    shot("region-open")
    page.fill("input[name='req.min_area_ha']", "tio")
    page.fill("input[name='pref.price_sek_m2.full_at']", "10 ha")
    with page.expect_response(lambda r: r.url == f"{server.url}/match" and r.request.method == "POST") as answer:
        page.click("#run-match")
    assert answer.value.status == 422
    page.wait_for_load_state()
    assert page.input_value("input[name='req.min_area_ha']") == "tio"
    assert page.input_value("input[name='pref.price_sek_m2.full_at']") == "10 ha"
    assert page.input_value("input[name=name]") == "Regional distribution centre"
    message = page.inner_text("#e-req\\.min_area_ha")
    assert "is not a number" in message and "hectares" in message
    assert page.is_visible("#e-req\\.min_area_ha") and page.is_visible("#profile-error")
    assert page.locator("header.top nav a[href='/leads']").count() == 1  # the menu is there
    page.locator("#e-req\\.min_area_ha").scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    shot("words-in-a-number")


def test_paste_keep_and_run_with_progress(adviser, server) -> None:
    page, shot, size = adviser
    page.click("#paste-box summary")
    page.fill("#f-paste", "name: Pasted lead\nrequirements:\n  min_area_ha: 6\n  zoning: [J]\n"
                          "preferences:\n  area_ha: {weight: 1, full_at: 30, zero_at: 6}\n")  # fmt: skip
    page.click("#use-paste")
    page.wait_for_load_state()
    assert page.input_value("input[name=name]") == "Pasted lead"
    assert page.input_value("input[name='req.min_area_ha']") == "6"
    assert page.is_checked("input[name='req.zoning'][value='J']")
    assert not page.is_checked("input[name='req.zoning'][value='Z']")
    page.fill("input[name=name]", f"Kept lead {size}")
    page.click("#save-profile")
    page.wait_for_url(re.compile(r".*/match\?profile=[0-9a-f]+&saved=1$"))
    assert f"Kept lead {size}" in page.inner_text("#saved")
    assert page.input_value("input[name='pref.area_ha.full_at']") == "30"
    _no_sideways_scroll(page)
    # The progress line, shown by the submit's handler: fired here without the post (Playwright cannot
    # read a page whose navigation is pending), while a real match of the same profile runs.
    import json
    import threading

    other = threading.Thread(
        target=lambda: server.client("cy").post("/api/matches", json={"profile": json.loads(PROFILE_JSON)}),
        daemon=True,
    )
    other.start()
    page.evaluate(
        "() => document.getElementById('profile-form').dispatchEvent(new SubmitEvent('submit', "
        "{submitter: document.getElementById('run-match'), cancelable: true}))"
    )
    page.wait_for_function(
        "() => /Matching… \\d+ s — (queued|running|starting)/"
        ".test(document.getElementById('match-progress').textContent)",
        timeout=10_000,
    )
    page.wait_for_timeout(1500)
    line = page.inner_text("#match-progress")
    assert re.match(r"Matching… [1-9]\d* s — (queued|running|starting)", line), line
    assert "%" not in line  # no made-up percentage
    assert page.is_disabled("#run-match")
    page.locator("#match-progress").scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    shot("progress")
    other.join(120)
    # and the real submit: the page polls the server's status while the match runs, then shows the result
    page.goto(page.url)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if r.url.endswith("/match/status") else None)
    page.click("#run-match")
    page.wait_for_url(re.compile(r".*/matches/[0-9a-f]{16}$"), timeout=90_000)
    assert polls and set(polls) == {200}, polls
    assert re.search(r"\d+ of \d+ sites meet every requirement", page.inner_text("#counts"))
