"""The login page and the municipality page in Debian's Chromium, as a Swedish and an English browser asks
(Accept-Language sv / en), at 1024×768 and 390×844: the words, ``<html lang>``, and a decimal comma."""

from __future__ import annotations

import shutil

import pytest

from sitematch.export.browser import CHROMIUM
from tests._service import PASSWORD, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]
PLOTS_CSV = (
    "Objekt_ID,Benämning,Användning,Planstatus,Ägare,Areal_ha,Byggklar,lon,lat\n"
    "Å-1,Finnslätten östra,J,laga_kraft,kommun,9.2,ja,16.5050,59.6290\n"
).encode()
WORDS = {
    "sv": {"login": "Logga in", "user": "Användarnamn", "h1": "Tomter i Västerås (1980)", "upload": "Ladda upp tomter",
           "area": "9,2", "zoning": "industri (J)", "plan": "laga kraft", "menu": "Våra tomter"},
    "en": {"login": "Log in", "user": "User name", "h1": "Plots of Västerås (1980)", "upload": "Upload plots",
           "area": "9.2", "zoning": "industry (J)", "plan": "in force", "menu": "Our plots"},
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("i18n-browser")) as srv:
        with srv.client("anna") as api:
            assert api.post("/api/plots", files={"file": ("t.csv", PLOTS_CSV, "text/csv")}).status_code == 201
        yield srv


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("viewport", [(1024, 768), (390, 844)])
def test_login_and_municipality_pages_in_the_browsers_language(server, browser, lang, viewport) -> None:
    w = WORDS[lang]
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, extra_http_headers={"Accept-Language": lang}
    )
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
    page = context.new_page()
    try:
        page.goto(f"{server.url}/login")
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.inner_text("h1") == w["login"] and page.inner_text("button[type=submit]") == w["login"]
        assert w["user"] in page.inner_text("form")
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/municipality")
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.inner_text("h1") == w["h1"] and w["upload"] in page.inner_text("main")
        toggle = page.locator("header.top .menu-toggle")
        if toggle.is_visible():  # on a phone the menu is folded behind its button
            toggle.click()
        assert w["menu"] in page.inner_text("header")
        row = page.inner_text("tr[data-plot='1980:Å-1']")
        assert w["area"] in row.split() and w["zoning"] in row and w["plan"] in row
        page.screenshot(path=str(server.data_dir.parent / f"municipality-{lang}-{viewport[0]}.png"), full_page=True)
    finally:
        context.close()
