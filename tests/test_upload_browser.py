"""The upload page in Debian's Chromium: a Swedish GeoPackage without a mapping, then an unknown value
mapped in the page and the mapping saved for next time; at 1024×768 and 390×844 (screenshots kept
with ``SITEMATCH_SCREENSHOTS=<folder>``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from tests._service import PASSWORD, serve
from tests.test_upload_swedish import swedish_export

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test does)"),
]


@pytest.mark.parametrize("viewport", [(1024, 768), (390, 844)])
def test_the_upload_page_reads_a_swedish_export_and_maps_in_the_page(tmp_path: Path, viewport) -> None:
    from playwright.sync_api import sync_playwright

    gpkg, odd = tmp_path / "tomter.gpkg", tmp_path / "tomter2.gpkg"
    swedish_export().to_file(gpkg, driver="GPKG")
    table = swedish_export()
    table.loc[1, "Markägare"] = "Sveaskog"
    table.to_file(odd, driver="GPKG")
    shots = Path(os.environ.get("SITEMATCH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    size = f"{viewport[0]}x{viewport[1]}"
    with serve(tmp_path) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        errors: list[str] = []
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "anna")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        page.set_input_files("input[name=file]", str(gpkg))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-result")
        assert "1980: 3 new" in page.inner_text("#upload-result")
        assert "Kontaktperson, Elanslutning (kW), Anmärkning" in page.inner_text("#report-extras")
        translated = page.locator("#report-translated tr").all_inner_texts()
        assert any("Västerås stad" in r and "kommun" in r for r in translated)
        page.locator("#report").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"upload-report-{size}.png"))

        page.set_input_files("input[name=file]", str(odd))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#map-unmatched select[name='value:owner:1']")
        assert "refused" in page.inner_text("#upload-result")
        page.locator("#map-unmatched").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"upload-map-values-{size}.png"))
        page.select_option("select[name='value:owner:1']", "statlig")
        page.check("input[name=save_mapping]")
        page.set_input_files("input[name=file]", str(odd))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#mapping-saved")
        assert "1 updated" in page.inner_text("#upload-result")

        page.goto(f"{server.url}/municipality")
        assert "saved by anna" in page.inner_text("#mapping summary")
        assert "Sveaskog: statlig" in page.input_value("textarea[name=mapping_text]")
        page.screenshot(path=str(shots / f"upload-saved-mapping-{size}.png"))
        context.close()
        browser.close()
    assert errors == []
