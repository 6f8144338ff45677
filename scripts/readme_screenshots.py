"""Retake the README's screenshots from today's code, in Debian's Chromium (no network).

- ``docs/map.png``: the map of ``scenarios/battery_plant.yaml`` on the bundled region, at 1024×768;
- ``docs/dossier.png``: the first page of that match's PDF dossier (``pdftoppm``);
- ``docs/service/*.png``: the service's pages, taken by the browser tests
  (``tests/test_service_browser.py``, ``tests/test_leads_browser.py``,
  ``tests/test_service_phone_browser.py``) with ``SITEMATCH_SCREENSHOTS=docs/service``.

Run from the repository: ``python scripts/readme_screenshots.py`` (``--no-service`` for the first two
only). Then look at every image before committing it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1024, "height": 768}


def match_outputs(work: Path) -> Path:
    """Run the demo lead; the folder of its map and dossier."""
    cmd = [sys.executable, "-m", "sitematch.cli", "match", str(ROOT / "scenarios" / "battery_plant.yaml"),
           "--out", str(work)]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "COLUMNS": "100"})
    return next(p.parent for p in work.glob("*/map.html"))


def map_shot(map_html: Path, target: Path) -> None:
    """The map at 1024×768, as a person first sees it (its zoom settled); nothing from the network."""
    from playwright.sync_api import sync_playwright

    from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        page.goto(map_html.as_uri())
        page.wait_for_selector(".leaflet-marker-pane .sm-rank", timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(target))
        browser.close()


def dossier_shot(pdf: Path, target: Path) -> None:
    """The dossier's first page as a PNG, 124 dpi (1027 px wide for A4)."""
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "124", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True)  # fmt: skip


def service_shots() -> None:
    """The browser tests, keeping their screenshots in docs/service."""
    tests = ["tests/test_service_browser.py", "tests/test_leads_browser.py", "tests/test_service_phone_browser.py"]
    env = {**os.environ, "SITEMATCH_SCREENSHOTS": str(ROOT / "docs" / "service"), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], check=True, cwd=ROOT,
                   env=env)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-service", action="store_true", help="only the map and the dossier")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = match_outputs(Path(tmp))
        map_shot(folder / "map.html", ROOT / "docs" / "map.png")
        dossier_shot(folder / "dossier.pdf", ROOT / "docs" / "dossier.png")
    if not args.no_service:
        service_shots()
    print("retaken: docs/map.png, docs/dossier.png" + ("" if args.no_service else ", docs/service/*.png"))


if __name__ == "__main__":
    main()
