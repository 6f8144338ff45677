"""Make the README's planner pictures from the bundled region and the six archetypes in ``scenarios/``.

- ``docs/planner_matrix.png``: the opportunity matrix of the brownfield sites (as ``sitematch fit --brownfield``).
- ``docs/kartbild.png``: the kartbild (as ``sitematch gaps``), drawn by Debian's Chromium at 1024×768, offline.

Run from the repository: ``python scripts/planner_pictures.py``. Look at both pictures afterwards.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from playwright.sync_api import sync_playwright

    from sitematch import LayerSet, load_profile
    from sitematch import schema as s
    from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
    from sitematch.planner import evaluate_profiles, fit
    from sitematch.planner.write import write_fit, write_gaps

    layers = LayerSet.from_path(ROOT / "layers")
    profiles = [load_profile(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    results = evaluate_profiles(profiles, layers)
    plots = layers["plots"]
    brownfield = plots.loc[plots[s.BROWNFIELD].fillna(False).astype(bool), s.PLOT_ID].astype(str).tolist()
    with tempfile.TemporaryDirectory(prefix="sitematch-pictures-") as tmp:
        out = Path(tmp)
        write_fit(fit(results, brownfield), results, layers, out / "fit", with_map=False)
        shutil.copy(out / "fit" / "opportunity_matrix.png", ROOT / "docs" / "planner_matrix.png")
        write_gaps(results, layers, out / "gaps", pictures=False, sheets=False)
        errors: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto((out / "gaps" / "kartbild.html").as_uri())
            page.wait_for_selector("path.leaflet-interactive[stroke='#2d3748']", timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ROOT / "docs" / "kartbild.png"))
            browser.close()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print("wrote docs/planner_matrix.png and docs/kartbild.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
