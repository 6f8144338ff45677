"""The dossier printed to PDF by Debian's Chromium, read back with poppler (pdftotext, pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sitematch.export import write_all
from sitematch.export.browser import CHROMIUM
from sitematch.layers.layerset import LayerSet
from sitematch.match import match
from sitematch.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None or shutil.which("pdftotext") is None,
        reason="needs Debian's chromium and poppler-utils (make test installs them)",
    ),
]


def test_the_pdf_dossier_says_confidential_on_every_page(tmp_path: Path) -> None:
    layers = LayerSet.from_path(ROOT / "layers")
    result = match(load_profile(ROOT / "scenarios" / "battery_plant.yaml"), layers)
    pdf = write_all(result, layers, tmp_path, ["pdf"])["pdf"]
    assert pdf.name == "dossier.pdf" and pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 3
    assert "Battery-component plant" in pages[0]
    top = result.ranked.iloc[0]
    assert top["name"] in text and top["plot_id"] in text
    assert all("CONFIDENTIAL" in page for page in pages)
    assert "Why so few:" in text and "Near misses" in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    assert png.stat().st_size > 10_000


def test_a_lead_that_is_not_confidential_does_not_say_so(tmp_path: Path) -> None:
    layers = LayerSet.from_path(ROOT / "layers")
    result = match(load_profile(ROOT / "scenarios" / "logistics_warehouse.yaml"), layers)
    pdf = write_all(result, layers, tmp_path, ["pdf"])["pdf"]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "CONFIDENTIAL" not in text and "lead LOG-2026-031" in text
