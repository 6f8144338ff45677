"""The dossier as PDF, printed by Debian's Chromium (headless, offline) — what an adviser attaches.

Every page carries the lead's reference and page numbers in its margin, and "CONFIDENTIAL" for a
confidential lead. Chromium is driven through Playwright (``pip install 'sitematch[pdf]'``) and is
never downloaded: ``apt-get install chromium``.
"""

from __future__ import annotations

import html
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sitematch._io import atomic_target
from sitematch.errors import SitematchError
from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS
from sitematch.profile import Profile

log = logging.getLogger(__name__)


def pdf_available() -> bool:
    """Whether PDFs can be printed here: Debian's Chromium and Playwright for Python are installed."""
    if shutil.which(CHROMIUM) is None:
        return False
    import importlib.util

    return importlib.util.find_spec("playwright") is not None  # found, not imported: a match without PDF stays quick


def _margin_text(profile: Profile, lang: str = "en") -> str:
    from sitematch.i18n import gettext_for

    _ = gettext_for(lang)
    lead = profile.lead
    words = _("CONFIDENTIAL") + " — " if lead.confidential else ""
    words += _("lead") + f" {lead.reference} — " if lead.reference else ""
    return html.escape(words + profile.name)


def print_pdf(page_html: str, path: Path, profile: Profile, *, lang: str = "en") -> Path:
    """Print an HTML page (the dossier) to an A4 PDF at ``path`` (atomically).

    Parameters
    ----------
    page_html : str
        A self-contained page (no network is used: every request is refused).
    path : pathlib.Path
        The ``.pdf`` to write.
    profile : Profile
        The lead: its reference and confidentiality go into every page's margin.
    lang : {"sv", "en"}
        The language of the margins (the dossier's).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    SitematchError
        When Chromium or Playwright is not installed.
    """
    if not pdf_available():
        raise SitematchError(
            "printing the dossier to PDF needs Debian's chromium and Playwright for Python",
            hint="Install them (apt-get install chromium; pip install 'sitematch[pdf]'), or keep the HTML dossier.",
        )
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    confidential = profile.lead.confidential
    colour = "#9b2c2c" if confidential else "#4a5568"
    header = (
        f'<div style="font:bold 8px sans-serif;color:{colour};width:100%;text-align:center;letter-spacing:.05em">'
        f"{_margin_text(profile, lang)}</div>"
    )
    from sitematch.i18n import gettext_for

    _ = gettext_for(lang)
    footer = (
        '<div style="font:8px sans-serif;color:#4a5568;width:100%;text-align:center">'
        + html.escape(_("sitematch dossier · page %(page)s of %(pages)s"))
        % {"page": '<span class="pageNumber"></span>', "pages": '<span class="totalPages"></span>'}
        + "</div>"
    )
    path = Path(path)
    try:
        _print(page_html, path, header, footer, sync_playwright)
    except PlaywrightError as exc:
        raise SitematchError(
            f"{path}: Chromium could not print the dossier ({str(exc).splitlines()[0][:160]})",
            where=str(path),
            hint="The HTML dossier is written; check that Debian's chromium starts (chromium --headless --version).",
        ) from None
    log.info("printed %s", path)
    return path


def _print(page_html: str, path: Path, header: str, footer: str, sync_playwright: Any) -> None:
    with tempfile.TemporaryDirectory() as folder, atomic_target(path) as target:
        source = Path(folder) / "dossier.html"
        source.write_text(page_html, encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.route(
                    "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                )
                page.goto(source.as_uri())
                page.pdf(
                    path=str(target),
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template=header,
                    footer_template=footer,
                    margin={"top": "16mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                )
            finally:
                browser.close()
