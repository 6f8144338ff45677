"""Every page on a phone (390×844) and a small laptop (1024×768), in Debian's Chromium.

Each role logs in and visits every page its menu reaches, plus the detail pages (a plot's history,
a lead, a request, a match result, tokens, accounts, an upload's report, the figures, a shared link,
the OGC API pages, an error page, a confirmation page). On each: the page does not scroll sideways
(``scrollWidth <= innerWidth``), no element sticks out of the viewport, and every destructive or
answering button is on screen horizontally. On a phone the menu folds behind a button that opens it.
Then the confirmations: with JavaScript the browser asks (dismissed: nothing happens; accepted: done),
without JavaScript the server's page asks (cancel: nothing happens; confirm: done, the reason kept).
Only loopback is reachable; any JavaScript error fails. With ``SITEMATCH_SCREENSHOTS=docs/service``
a few screenshots are kept (:data:`KEPT`; all of them with
``SITEMATCH_SCREENSHOTS_ALL=1``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from sitematch.export.browser import CHROMIUM
from tests._service import EXAMPLE_CSV, PASSWORD, ROOT, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1024, "height": 768}}
PROFILE = {
    "name": "Cell-component plant",
    "requirements": {"min_area_ha": 5},
    "preferences": {"area_ha": {"weight": 1, "full_at": 30, "zero_at": 5}},
}
#: The screenshots kept for the documentation (the others are for looking at after a run).
KEPT = {"phone-anna-municipality", "phone-root-menu", "phone-root-accounts", "phone-nojs-confirm"}
#: Buttons that destroy or answer: each must be on screen (horizontally) wherever it is shown.
ACTIONS = (
    "form[data-confirm] button[type=submit], button.withdraw, #confirm-yes, #send-answers, "
    "form[action$='/answers'] button[type=submit], form[action='/logout'] button"
)
#: Elements sticking out of the viewport (left or right), as "tag#id.class text" (at most 8). Content of
#: a box that scrolls or clips (overflow not visible) stays inside that box, so it does not count.
OUTSIDE = """() => {
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') { return true; } } return false; };
  return [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5) && !clipped(e);
  }).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 30)).slice(0, 8);
}"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phone-shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            if png.stem in KEPT or os.environ.get("SITEMATCH_SCREENSHOTS_ALL"):
                shutil.copy(png, Path(keep) / png.name)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server with plots, a lead matched and asked about, a shared link, a refused upload file."""
    tmp = tmp_path_factory.mktemp("phone")
    with serve(tmp, profiles=ROOT / "scenarios") as server:
        anna, bo = server.client("anna"), server.client("bo")
        assert anna.post("/api/plots", files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}).status_code == 201
        lead = bo.post("/api/leads", json={"reference": "BS-2026-410", "sector": "battery", "source": "fair",
                                            "company": "Nordic Cells AB", "profile": PROFILE}).json()  # fmt: skip
        match = bo.post(f"/api/leads/{lead['id']}/matches").json()
        ranked = [r["plot_id"] for r in bo.get(f"/api/matches/{match['id']}").json()["result"]["ranked"]]
        assert bo.post(f"/api/leads/{lead['id']}/requests", json={"reply_by": "2027-01-15"}).status_code == 201
        share = bo.post(f"/api/leads/{lead['id']}/shares",
                        json={"match_id": match["id"], "plot_ids": ranked[:3], "days": 7}).json()  # fmt: skip
        requests = anna.get("/api/requests").json()
        assert requests, "the lead's match asks Västerås (its plots are ranked)"
        bad = tmp / "fel.csv"
        bad.write_text("Objekt_ID,Användning,Planstatus,Areal_ha,lon,lat\nX-1,Q,laga_kraft,-3,16.50,59.62\n")
        yield {
            "server": server,
            "lead": lead["id"],
            "match": match["id"],
            "share": share["link"],
            "share_id": share["id"],
            "request": requests[0]["id"],
            "ranked": ranked,
            "bad_csv": bad,
        }


class Person:
    """One person's browser context at one viewport: loopback only, every JavaScript error kept."""

    def __init__(self, browser, server, viewport: dict[str, int], *, javascript: bool = True) -> None:
        self.server = server
        self.context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.context.on(
            "weberror", lambda e: self.errors.append(f"weberror: {e.error} (on {e.page.url if e.page else '?'})")
        )
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e} (on {self.page.url})"))
        self.page.on("console", self._console)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith((self.server.url, "data:", "about:")):
            route.continue_()
        elif "tile.openstreetmap.org" in url:
            route.abort()
        else:
            self.errors.append(f"blocked {url}")
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def login(self, user: str) -> None:
        self.page.goto(f"{self.server.url}/login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


def fits(page, where: str, *, actions: bool = True) -> None:
    """No sideways scroll, nothing outside the viewport, every action button on screen (``actions``)."""
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (where, scroll, width, page.evaluate(OUTSIDE))
    assert page.evaluate(OUTSIDE) == [], where
    if not actions:
        return
    for i, box in enumerate(b.bounding_box() for b in page.locator(ACTIONS).all() if b.is_visible()):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (where, i, box)


def pages_of(world) -> dict[str, list[str]]:
    """Each role's pages beyond its menu: detail pages and pages reached from other pages."""
    history = "/plots/1980:%C3%85-1/history"
    lead, match, request = f"/leads/{world['lead']}", f"/matches/{world['match']}", f"/requests/{world['request']}"
    ogc = [
        "/ogc/?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/plots/items?f=html",
        "/ogc/collections/plots/items/1980:%C3%85-1?f=html",
        f"/ogc/collections/match-{world['match']}/items?f=html",
    ]
    return {
        "root": [lead, match, history, "/municipality?code=1980", "/tokens", "/accounts", "/leads/nosuch", *ogc],
        "bo": [lead, match, history, "/tokens", "/kpi", *ogc],
        "anna": [request, history, "/tokens", "/requests"],
        "pia": ["/tokens", "/kpi"],
    }


def visit(person: Person, path: str, name: str, shots: Path) -> None:
    response = person.page.goto(person.server.url + path)
    assert response is not None and response.status < 500, (path, response and response.status)
    person.page.wait_for_load_state("load")
    fits(person.page, f"{name} {path}")
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:40] or "start"
    person.page.screenshot(path=str(shots / f"{name}-{slug}.png"))


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("user", ["root", "bo", "anna", "pia"])
def test_every_page_of_every_role_fits_the_screen(browser, world, shots, user: str, size: str) -> None:
    server = world["server"]
    person = Person(browser, server, VIEWPORTS[size])
    person.login(user)
    page = person.page
    name = f"{size}-{user}"
    fits(page, f"{name} start")
    menu = page.locator("header.top nav a")
    if size == "phone":  # the menu folds behind its button; opened, every entry is on screen
        assert not menu.first.is_visible()
        toggle = page.locator("header.top .menu-toggle")
        assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert all(a.is_visible() for a in menu.all()) and page.locator("form[action='/logout'] button").is_visible()
        fits(page, f"{name} menu open")
        page.screenshot(path=str(shots / f"{name}-menu.png"))
    else:
        assert all(a.is_visible() for a in menu.all())
    links = [a.get_attribute("href") for a in menu.all()]
    assert "/tokens" in links and len(links) >= 2, links
    for path in dict.fromkeys([*links, *pages_of(world)[user]]):
        visit(person, path, name, shots)
    if user == "anna":  # a refused upload: the report's table, and what was typed kept
        page.goto(f"{server.url}/municipality")
        page.set_input_files("input[name=file]", str(world["bad_csv"]))
        page.fill("input[name=crs]", "EPSG:4326")
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-result")
        page.screenshot(path=str(shots / f"{name}-refused-upload.png"))
        assert "refused" in page.inner_text("#upload-result") and page.locator("#report table").count() >= 1
        assert page.input_value("input[name=crs]") == "EPSG:4326"
        assert page.locator("header.top nav a[href='/municipality']").count() == 1
        fits(page, f"{name} refused upload")
        page.screenshot(path=str(shots / f"{name}-refused-upload.png"))
    if user == "root":  # a refused account form keeps what was typed, and the menu
        page.goto(f"{server.url}/accounts")
        page.fill("form[action='/accounts'] input[name=username]", "kim")
        page.fill("form[action='/accounts'] input[name=role]", "wizard")
        page.fill("form[action='/accounts'] input[name=password]", "a long password")
        page.click("form[action='/accounts'] button")
        page.wait_for_selector("#account-error")
        assert page.input_value("form[action='/accounts'] input[name=username]") == "kim"
        assert page.input_value("form[action='/accounts'] input[name=role]") == "wizard"
        assert page.input_value("form[action='/accounts'] input[name=password]") == ""
        assert page.locator("header.top nav a[href='/accounts']").count() == 1
        fits(page, f"{name} refused account")
        page.screenshot(path=str(shots / f"{name}-refused-account.png"))
    person.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_pages_without_a_login_fit_the_screen(browser, world, shots, size: str) -> None:
    person = Person(browser, world["server"], VIEWPORTS[size])
    for path in ("/login", world["share"]):
        visit(person, path, f"{size}-anonymous", shots)
    assert person.page.locator("header.top .menu-toggle").count() == 0  # no menu to fold
    person.close()


def test_with_javascript_the_browser_asks_before_deleting_revoking_withdrawing(browser, world, shots) -> None:
    server = world["server"]
    root = Person(browser, server, VIEWPORTS["phone"])
    root.login("root")
    page = root.page
    page.goto(f"{server.url}/accounts")
    page.fill("form[action='/accounts'] input[name=username]", "eve")
    page.fill("form[action='/accounts'] input[name=role]", "adviser")
    page.fill("form[action='/accounts'] input[name=password]", "a long password")
    page.click("form[action='/accounts'] button")
    page.wait_for_load_state()
    delete = page.locator("form[action='/accounts/eve/delete'] button")
    asked: list[str] = []

    def answer(accept: bool):
        def handle(dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    delete.click()
    page.wait_for_timeout(300)
    assert asked == ["Delete the account eve?"] and page.url.endswith("/accounts")
    assert "eve" in page.inner_text("#accounts")  # dismissed: nothing happened
    page.once("dialog", answer(True))
    with page.expect_navigation():
        delete.click()
    assert page.url.endswith("/accounts") and "eve" not in page.inner_text("#accounts")
    assert len(asked) == 2
    root.close()

    bo = Person(browser, server, VIEWPORTS["laptop"])
    bo.login("bo")
    bo.page.goto(f"{server.url}/leads/{world['lead']}")
    revoke = bo.page.locator(f"form[action$='/shares/{world['share_id']}/revoke'] button")
    bo.page.once("dialog", answer(True))
    with bo.page.expect_navigation():
        revoke.click()
    assert asked[-1].startswith("Withdraw the shared link ")
    assert "withdrawn" in bo.page.inner_text("#shares")
    assert bo.page.goto(server.url + world["share"]).status == 404
    bo.close()


def test_without_javascript_the_server_asks_and_keeps_the_reason(browser, world, shots) -> None:
    server = world["server"]
    anna = Person(browser, server, VIEWPORTS["phone"], javascript=False)
    anna.login("anna")
    page = anna.page
    fits(page, "no-js municipality", actions=False)  # without JavaScript the menu wraps, wide tables scroll inside
    assert page.locator("header.top nav a[href='/requests']").is_visible()
    row = page.locator("tr[data-plot='1980:Å-1']")
    row.locator("button.withdraw").scroll_into_view_if_needed()  # reachable: the table scrolls to it
    box = row.locator("button.withdraw").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS["phone"]["width"]
    row.locator("input[name=reason]").fill("sold to Nordic Cells")
    with page.expect_navigation():
        row.locator("button.withdraw").click()
    assert page.inner_text("h1") == "Withdraw plot 1980:Å-1?"
    assert "sold to Nordic Cells" in page.inner_text("#confirm")
    fits(page, "no-js confirm")
    page.screenshot(path=str(shots / "phone-nojs-confirm.png"))
    with page.expect_navigation():
        page.click("#confirm-no")  # cancel: back, nothing changed
    assert page.url.endswith("/municipality") and "active" in page.inner_text("tr[data-plot='1980:Å-1']")
    row.locator("input[name=reason]").fill("sold to Nordic Cells")
    row.locator("button.withdraw").scroll_into_view_if_needed()
    with page.expect_navigation():
        row.locator("button.withdraw").click()
    assert page.locator("#confirm-yes").count() == 1, page.inner_text("main")[:500]
    page.click("#confirm-yes")
    page.wait_for_load_state()
    assert page.url.endswith("/municipality") and "withdrawn" in page.inner_text("tr[data-plot='1980:Å-1']")
    history = server.client("anna").get("/api/plots/1980:Å-1/history").json()
    assert "sold to Nordic Cells" in str(history)
    anna.close()

    pia = Person(browser, server, VIEWPORTS["phone"], javascript=False)
    pia.login("pia")
    pia.page.goto(f"{server.url}/tokens")
    before = pia.page.locator("form[action$='/revoke']").count()
    pia.page.locator("form[action$='/revoke'] button").first.click()
    pia.page.wait_for_load_state()
    assert pia.page.inner_text("h1") == "Revoke the API token tests?"
    pia.page.click("#confirm-yes")
    pia.page.wait_for_load_state()
    assert pia.page.url.endswith("/tokens") and pia.page.locator("form[action$='/revoke']").count() == before - 1
    pia.close()

    chosen = world["ranked"][3:5]
    body = {"match_id": world["match"], "plot_ids": chosen, "days": 7}
    share = server.client("bo").post(f"/api/leads/{world['lead']}/shares", json=body).json()
    bo = Person(browser, server, VIEWPORTS["laptop"], javascript=False)
    bo.login("bo")
    bo.page.goto(f"{server.url}/leads/{world['lead']}")
    bo.page.click(f"form[action$='/shares/{share['id']}/revoke'] button")
    bo.page.wait_for_load_state()
    assert bo.page.inner_text("h1") == f"Withdraw the shared link {', '.join(chosen)}?"
    assert httpx.get(server.url + share["link"]).status_code == 200  # asked, not yet withdrawn
    bo.page.click("#confirm-yes")
    bo.page.wait_for_load_state()
    assert f"/leads/{world['lead']}" in bo.page.url
    assert bo.page.goto(server.url + share["link"]).status == 404
    bo.close()
