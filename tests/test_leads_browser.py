"""The lead process in Debian's Chromium: the adviser's lead page, the municipality's request page, and
the shortlist link an investor opens without an account — showing only the chosen sites, and
refused once it expires or is withdrawn; each opening logged. Only loopback is reachable; any
JavaScript error fails. With ``SITEMATCH_SCREENSHOTS=docs/service`` the screenshots are kept.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from tests._service import PASSWORD, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
PROFILE = {
    "name": "Cell-component plant",
    "requirements": {"min_area_ha": 5},
    "preferences": {"area_ha": {"weight": 1, "full_at": 30, "zero_at": 5}},
}
VIEWPORTS = {"desktop": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    yield folder
    keep = os.environ.get("SITEMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)


def _context(browser, server, viewport, errors: list[str]):
    context = browser.new_context(viewport=viewport)

    def route(r) -> None:
        if r.request.url.startswith((server.url, "data:", "about:")):
            r.continue_()
        else:
            errors.append(f"blocked {r.request.url}")
            r.abort()

    context.route("**/*", route)
    context.on("weberror", lambda e: errors.append(f"weberror: {e.error}"))
    return context


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_shared_shortlist_and_the_lead_pages_in_chromium(tmp_path, shots) -> None:
    from playwright.sync_api import sync_playwright

    with serve(tmp_path) as server, sync_playwright() as pw:
        bo = server.client("bo")
        lead = bo.post("/api/leads", json={"reference": "BS-2026-410", "sector": "battery", "source": "fair",
                                            "company": "Hemligbolaget Nordic AB", "confidential": True,
                                            "profile": PROFILE}).json()  # fmt: skip
        match = bo.post(f"/api/leads/{lead['id']}/matches").json()
        ranked = [r["plot_id"] for r in bo.get(f"/api/matches/{match['id']}").json()["result"]["ranked"]]
        chosen = [ranked[2], ranked[0]]  # the adviser's order, not the rank's
        assert bo.post(f"/api/leads/{lead['id']}/requests", json={"reply_by": "2027-01-15"}).status_code == 201
        share = bo.post(f"/api/leads/{lead['id']}/shares",
                        json={"match_id": match["id"], "plot_ids": chosen, "days": 7}).json()  # fmt: skip
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        errors: list[str] = []
        for name, viewport in VIEWPORTS.items():
            context = _context(browser, server, viewport, errors)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.goto(server.url + share["link"])  # no login
            rows = page.locator("#shared-sites tr td:nth-child(2)").all_inner_texts()
            assert [r.split(" · ")[0] for r in rows] == chosen
            text = page.content()
            assert "Hemligbolaget" not in text and "near" not in text.lower()
            assert all(p not in text for p in ranked if p not in chosen)
            page.frame_locator("#shared-map").locator(".leaflet-container").wait_for()
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
                "window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"
            )
            assert _no_sideways_scroll(page), (name, wide)
            page.wait_for_timeout(600)
            page.screenshot(path=str(shots / f"shared-{name}.png"))
            context.close()
        opened = bo.get(f"/api/leads/{lead['id']}").json()["shares"][0]["opened"]
        assert opened == len(VIEWPORTS)  # each opening logged (the map inside does not count again)

        # The adviser's lead page and the municipality's request page, as their users see them.
        for user, path, shot in (("bo", f"/leads/{lead['id']}", "lead"), ("anna", "/requests", "requests")):
            context = _context(browser, server, VIEWPORTS["desktop"], errors)
            page = context.new_page()
            page.goto(f"{server.url}/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(server.url + path)
            if user == "anna":
                assert "Hemligbolaget" not in page.content()
                page.click("#requests a")
                page.wait_for_load_state()
                shot = "request"
            page.screenshot(path=str(shots / f"{shot}.png"), full_page=False)
            context.close()

        # The adviser tries other weights in the map's what-if and keeps them as the lead's next profile version.
        context = _context(browser, server, VIEWPORTS["desktop"], errors)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "bo")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{server.url}/matches/{match['id']}")
        assert page.locator("#save-weights").is_hidden()
        frame = page.frame_locator("#match-map")
        frame.locator(".sm-whatif summary").click()
        frame.locator("#sm-whatif-w0").fill("3")
        page.locator("#save-weights").wait_for(state="visible")
        page.click("#save-weights button")
        page.wait_for_url(f"**/leads/{lead['id']}")
        versions = bo.get(f"/api/leads/{lead['id']}").json()["profile_versions"]
        assert len(versions) == 2 and versions[-1]["data"]["preferences"]["area_ha"]["weight"] == 3
        context.close()

        # Withdrawn: refused. Expired: refused.
        assert bo.delete(f"/api/leads/{lead['id']}/shares/{share['id']}").status_code == 204
        context = _context(browser, server, VIEWPORTS["desktop"], errors)
        page = context.new_page()
        response = page.goto(server.url + share["link"])
        assert response.status == 404 and "Hemligbolaget" not in page.content()
        second = bo.post(f"/api/leads/{lead['id']}/shares",
                         json={"match_id": match["id"], "plot_ids": chosen[:1], "days": 1}).json()  # fmt: skip
        assert page.goto(server.url + second["link"]).status == 200
        with sqlite3.connect(server.data_dir / "service.sqlite") as con:  # a day later
            con.execute("UPDATE shares SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (second["id"],))
        assert page.goto(server.url + second["link"]).status == 404
        context.close()
        browser.close()
    assert [e for e in errors if "tile.openstreetmap.org" not in e] == []
