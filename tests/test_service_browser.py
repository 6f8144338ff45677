"""The pages in a real browser: Debian's Chromium driven by Playwright, against ``sitematch serve`` on loopback.

Every request that is not to the server on loopback (or a ``data:`` URL inside the maps) is
blocked, and any JavaScript error in any frame fails the test. A municipality uploads and sees its
report and its plot on the map; another municipality has no withdraw button for it and is refused
(403) when it forces the request; an adviser edits a profile in the form, runs the match, sees the
map with its sites and the ranked table, and downloads the dossier; a planner and an admin see
their pages. With ``SITEMATCH_SCREENSHOTS=docs/service`` the screenshots of every page are kept there.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM
from tests._service import EXAMPLE_CSV, PASSWORD, ROOT, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("browser"), profiles=ROOT / "scenarios") as srv:
        yield srv


class Session:
    """One person's browser context: loopback only, every JavaScript error kept."""

    def __init__(self, browser, server, shots: Path) -> None:
        self.server, self.shots = server, shots
        self.context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.context.route("**/*", self._route)
        self.context.on("weberror", lambda e: self.errors.append(f"weberror: {e.error}"))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith((self.server.url, "data:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, message) -> None:
        # "Failed to load resource" is the network's word for a blocked tile or a page answered 4xx (a refused
        # upload is 422): not a JavaScript error. Every other console error is.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def login(self, user: str) -> None:
        self.page.goto(f"{self.server.url}/login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(800)  # let a map finish its zoom animation
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=False)

    def close(self) -> None:
        non_tiles = [u for u in self.blocked if "tile.openstreetmap.org" not in u]
        self.context.close()
        assert self.errors == [], self.errors
        assert non_tiles == [], non_tiles


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


@pytest.fixture
def person(browser, server, shots):
    made: list[Session] = []

    def make() -> Session:
        made.append(Session(browser, server, shots))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_municipality_uploads_sees_the_report_and_the_plot_and_another_cannot_withdraw_it(person, server) -> None:
    anna = person()
    anna.page.goto(f"{server.url}/municipality")
    assert anna.page.url.startswith(f"{server.url}/login")  # pages need a login
    anna.shot("login")
    anna.login("anna")
    assert anna.page.url == f"{server.url}/municipality"
    anna.page.set_input_files("input[name=file]", str(EXAMPLE_CSV))
    anna.page.click("#upload-form button[type=submit]")
    anna.page.wait_for_selector("#upload-result")
    assert "1980: 2 new" in anna.page.inner_text("#upload-result")
    report = anna.page.inner_text("#report")
    assert "2 rows, 2 valid" in report and "approximate" in report
    assert anna.page.locator("tr[data-plot='1980:Å-1'] button.withdraw").count() == 1
    plots_map = anna.page.frame_locator("#plots-map")
    drawn = plots_map.locator("path.leaflet-interactive[fill='#1a9641']")
    drawn.first.wait_for(timeout=15_000)
    assert drawn.count() == 2  # both plots, active, on the map
    anna.shot("municipality")

    bad = "Objekt_ID,Användning,Planstatus,Areal_ha,lon,lat\nX-1,Q,laga_kraft,-3,16.50,59.62\n"
    path = server.data_dir.parent / "fel.csv"
    path.write_text(bad, encoding="utf-8")
    anna.page.set_input_files("input[name=file]", str(path))
    anna.page.click("#upload-form button[type=submit]")
    anna.page.wait_for_selector("#report table")
    assert "refused, nothing was written" in anna.page.inner_text("#upload-result")
    rows = anna.page.locator("#report table tr").all_inner_texts()
    assert any("zoning" in r for r in rows) and any("area_ha" in r for r in rows)
    anna.shot("municipality-refused-upload")
    anna.page.goto(f"{server.url}/plots/1980:Å-1/history")
    assert "anna" in anna.page.inner_text("#history")
    anna.shot("history")

    per = person()
    per.login("per")
    assert per.page.url == f"{server.url}/municipality"
    assert per.page.locator("tr[data-plot='1980:Å-1']").count() == 0
    assert per.page.locator("button.withdraw").count() == 0
    csrf = per.page.get_attribute("#upload-form input[name=csrf_token]", "value")
    forced = per.context.request.post(f"{server.url}/plots/1980:Å-1/withdraw", form={"csrf_token": csrf, "reason": "x"})
    assert forced.status == 403 and "belongs to municipality 1980" in forced.text()
    anna.page.goto(f"{server.url}/municipality")
    assert "active" in anna.page.inner_text("tr[data-plot='1980:Å-1']")  # nothing changed


def test_adviser_edits_a_profile_runs_the_match_sees_the_map_and_downloads_the_dossier(person, server) -> None:
    bo = person()
    bo.login("bo")
    assert bo.page.url == f"{server.url}/match"
    bo.page.select_option("select[name=profile]", label="Regional distribution centre")
    bo.page.click("form[action='/match'][method=get] button")
    bo.page.wait_for_load_state()
    assert bo.page.input_value("input[name=name]") == "Regional distribution centre"
    bo.page.fill("input[name=name]", "Browser lead")
    bo.page.fill("input[name='req.min_area_ha']", "12")
    bo.page.fill("input[name='pref.distance_to_motorway_junction_m.weight']", "4")
    bo.shot("match-form")
    bo.page.click("#run-match")
    bo.page.wait_for_url(re.compile(r".*/matches/[0-9a-f]{16}$"), timeout=60_000)
    counts = bo.page.inner_text("#counts")
    assert re.search(r"\d+ of \d+ sites meet every requirement", counts)
    ranked = bo.page.locator("#ranked tr")
    assert ranked.count() > 2 and "Distance to motorway junction" in ranked.nth(1).inner_text()
    the_map = bo.page.frame_locator("#match-map")
    the_map.locator(".leaflet-control-layers").wait_for(timeout=20_000)
    badges = the_map.locator(".leaflet-marker-pane .sm-rank")
    assert badges.count() >= 1 and badges.first.inner_text() == "1"
    assert "Browser lead" in the_map.locator(".sm-requirements").inner_text()
    assert "Area at least 12 ha" in the_map.locator(".sm-requirements").inner_text()
    bo.shot("match-result")
    with bo.page.expect_download() as download:
        bo.page.click("#dossier-download")
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith("-dossier.html")
    assert "Browser lead" in saved and "Area at least 12 ha" in saved


def test_planner_brownfield_admin_accounts_and_tokens_pages(person, server) -> None:
    pia = person()
    pia.login("pia")
    assert pia.page.url == f"{server.url}/brownfield"
    rows = pia.page.locator("#brownfield tr")
    assert rows.count() > 1 and "Battery-recycling plant" in pia.page.inner_text("#brownfield")
    pia.shot("brownfield")
    pia.page.goto(f"{server.url}/match")
    assert "Not allowed" in pia.page.inner_text("h1")  # a planner runs no matches
    pia.page.goto(f"{server.url}/tokens")
    pia.page.click("form[action='/tokens'] button")
    token = pia.page.inner_text("#new-token code")
    assert token.startswith("smt_")
    pia.shot("tokens")
    root = person()
    root.login("root")
    root.page.goto(f"{server.url}/accounts")
    root.page.fill("form[action='/accounts'] input[name=username]", "lena")
    root.page.fill("form[action='/accounts'] input[name=role]", "municipality:1984")
    root.page.fill("form[action='/accounts'] input[name=password]", "a long password")
    root.page.click("form[action='/accounts'] button")
    root.page.wait_for_load_state()
    assert "municipality:1984" in root.page.inner_text("#accounts")
    root.shot("accounts")
