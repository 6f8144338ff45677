"""The dossier printed to PDF by Debian's Chromium, read back with poppler (pdftotext, pdftoppm)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sitematch.export import write_all
from sitematch.export.browser import CHROMIUM
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
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


def _svg_labels(html: str) -> list[tuple[float, float, int, str, float, float]]:
    """Every text label of every map in the dossier: (x, y, font size, text, frame width, frame height)."""
    out = []
    for svg in re.findall(r"<svg .*?</svg>", html, flags=re.S):
        w, h = (float(v) for v in re.search(r'width="(\d+)" height="(\d+)"', svg).groups())
        for x, y, size, text in re.findall(r'<text x="([\d.-]+)" y="([\d.-]+)" font-size="(\d+)"[^>]*>([^<]*)<', svg):
            out.append((float(x), float(y), int(size), text, w, h))
    return out


def test_the_dossier_reads_in_words_with_a_named_overview_and_no_near_empty_page(tmp_path: Path) -> None:
    layers = LayerSet.from_path(ROOT / "layers")
    result = match(load_profile(ROOT / "scenarios" / "battery_plant.yaml"), layers)
    written = write_all(result, layers, tmp_path, ["dossier", "pdf"])
    text = subprocess.run(["pdftotext", str(written["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    # codes as words: the lead requires zoning J and plan status laga_kraft or antagen
    assert "industri / industry (J)" in flat and "laga kraft (in force)" in flat
    assert "antagen (adopted, not yet in force)" in flat and "kommun (municipality)" in flat
    for code in ("laga_kraft", "Zoning J ", "pagaende", "ingen_plan"):
        assert code not in flat, code
    assert re.search(r"\b(kommun|privat)\b(?! \((municipality|private)\))", flat) is None  # owners in words
    pages = text.split("\f")[:-1]
    # the overview map on page 1: towns by name, a legend, the ten shortlisted sites numbered
    first = " ".join(pages[0].split())
    assert all(town in first for town in ("Stockholm", "Uppsala", "Västerås", "Gävle")), first[-600:]
    assert "Legend" in first and "shortlisted site" in first and "member municipality" in first
    # every site's table lists the lead's own criteria (grid, junction, rail, port, labour, owner, area, zoning…)
    for label in ("Grid capacity available", "Distance to port (meeting the depth)", "Labour pool"):
        assert flat.count(label) >= 10, label
    # headers repeat where a table continues on the next page: more headers than shortlisted sites
    assert flat.count("The lead's criteria") > 10
    # no near-empty page: every page but the last carries at least 20 lines of text
    lines = [len([ln for ln in p.splitlines() if ln.strip()]) for p in pages]
    assert min(lines[:-1]) >= 20, lines
    # every map label lies inside its frame (at a lower bound of its width: half an em per character)
    html = written["dossier"].read_text(encoding="utf-8")
    labels = _svg_labels(html)
    assert len(labels) > 50
    outside = [lb for lb in labels if lb[0] < 0 or lb[0] + 0.5 * lb[2] * len(lb[3]) > lb[4] or lb[1] > lb[5]]
    assert outside == []
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", str(written["pdf"]), str(tmp_path / "p")])
    assert len(list(tmp_path.glob("p*.png"))) == 2
