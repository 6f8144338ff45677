"""The dossier in the lead's language, the terminal and the Excel headers in the chosen one: written by the
CLI on a tiny region and read back (the HTML as text; the PDF with pdftotext where Chromium is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from sitematch.cli import main
from sitematch.export.browser import CHROMIUM
from tests.conftest import tiny_layer_frames

LEAD = """\
name: Språktest
lead: {{reference: SV-1{language}}}
parameters: {{grid_connection_radius_m: 3000}}
requirements: {{min_area_ha: 20}}
preferences:
  grid_capacity_mw: {{weight: 1, zero_at: 0, full_at: 50}}
"""


class _Text(HTMLParser):
    """The text a reader sees (no style, no SVG)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "svg")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "svg")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


@pytest.fixture
def region(tmp_path: Path) -> Path:
    path = tmp_path / "region.gpkg"
    for kind, gdf in tiny_layer_frames().items():
        pyogrio.write_dataframe(gdf, path, layer=kind, driver="GPKG")
    return path


def _run(tmp_path: Path, region: Path, language: str, *args: str, no_map: bool = True) -> tuple[str, Path]:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD.format(language=f", language: {language}" if language else ""), encoding="utf-8")
    out = tmp_path / "out"
    skip = ["--no-map"] if no_map else []
    res = CliRunner().invoke(
        main, ["match", str(lead), "--layers", str(region), "--out", str(out), *skip, "--no-pdf", *args]
    )
    assert res.exit_code == 0, res.output
    return res.output, out / "lead"


def test_a_lead_set_to_swedish_gets_a_swedish_dossier(tmp_path: Path, region: Path) -> None:
    output, folder = _run(tmp_path, region, "sv")
    html = (folder / "dossier.html").read_text(encoding="utf-8")
    text = _text(html)
    assert '<html lang="sv">' in html and "Språktest — tomtunderlag" in text
    for words in ("Svar", "2 av 3 tomter i regionen uppfyller alla krav", "Skallkrav (en tomt måste uppfylla alla)",
                  "Önskemål (viktade, absoluta)", "Nästan godkända", "Data och förbehåll", "Ärendets kriterier",
                  "ärende SV-1", "Avstånd är fågelvägen, från tomtens gräns."):  # fmt: skip
        assert words in text, words
    for words in ("Answer", "Hard requirements", "Near misses", "Data and caveats", "The lead's criteria"):
        assert words not in text, words
    # the scores with a decimal comma: the plain CSV keeps machine-readable numbers
    ranking = pd.read_csv(folder / "ranking.csv")
    for score in ranking.loc[ranking["passed"], "score"]:
        shown = f"{score:.1f}".removesuffix(".0").replace(".", ",")
        assert f"{shown} / 100" in text, (score, shown)
    # the terminal stays in English unless asked (the dossier is the lead's)
    assert "Språktest: 2 of 3 sites meet every requirement" in output


def test_an_investors_dossier_is_english_by_default_and_lang_overrides_the_lead(tmp_path: Path, region: Path) -> None:
    _output, folder = _run(tmp_path, region, "")
    text = _text((folder / "dossier.html").read_text(encoding="utf-8"))
    assert "Hard requirements (a site must meet all)" in text and "Data and caveats" in text
    assert "Skallkrav" not in text
    output, folder = _run(tmp_path, region, "sv", "--lang", "en")
    html = (folder / "dossier.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Data and caveats" in _text(html) and "Data och förbehåll" not in html
    output, folder = _run(tmp_path, region, "", "--lang", "sv")
    assert "Data och förbehåll" in _text((folder / "dossier.html").read_text(encoding="utf-8"))
    assert "Språktest: 2 av 3 tomter uppfyller alla krav" in output  # and the terminal speaks Swedish


def test_a_lead_with_a_language_sitematch_does_not_speak_is_refused(tmp_path: Path, region: Path) -> None:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD.format(language=", language: de"), encoding="utf-8")
    res = CliRunner().invoke(main, ["match", str(lead), "--layers", str(region), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "sv (svenska) or en (English)" in res.output and "Traceback" not in res.output


def test_excel_headers_in_swedish_while_the_plain_csv_keeps_its_column_names(tmp_path: Path, region: Path) -> None:
    _output, folder = _run(tmp_path, region, "", "--excel", "--lang", "sv")
    header = (folder / "ranking.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert header[:6] == ["rang", "tomt-id", "namn", "kommunkod", "kommun", "poäng"]
    assert "poäng: grid_capacity_mw" in header and "uppfyller: min_area_ha" in header
    funnel = (folder / "funnel.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert funnel[:2] == ["steg", "krav"] and "tomter kvar" in funnel
    _output, folder = _run(tmp_path, region, "", "--lang", "sv")  # plain CSV: the names tests and scripts use
    assert (folder / "ranking.csv").read_text(encoding="utf-8").startswith("rank,plot_id,name,municipality_code,")
    _output, folder = _run(tmp_path, region, "", "--excel")  # Excel without a language: the names too
    assert (folder / "ranking.csv").read_text(encoding="utf-8-sig").startswith("rank;plot_id;name;")


def test_the_terminal_follows_sitematch_lang(tmp_path: Path, region: Path, monkeypatch) -> None:
    monkeypatch.setenv("SITEMATCH_LANG", "sv_SE.UTF-8")
    output, folder = _run(tmp_path, region, "")
    assert "Språktest: 2 av 3 tomter uppfyller alla krav" in output and "uteslutna" in output
    assert "Data and caveats" in (folder / "dossier.html").read_text(encoding="utf-8")  # the lead's: English


def test_the_map_speaks_the_chosen_language(tmp_path: Path, region: Path) -> None:
    _output, folder = _run(tmp_path, region, "sv", "--lang", "sv", no_map=False)
    # the panels are written into the page's script as \\uXXXX escapes
    html = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m[1], 16)), (folder / "map.html").read_text(encoding="utf-8"))
    assert "Rankade tomter (2)" in html and "2 av 3 tomter uppfyller alla krav" in html
    assert "<b>Krav</b>" in html and "<b>Önskemål</b>" in html
    assert "<b>Teckenförklaring</b>" in html and "visa nästan godkända" in html and "<b>Datakällor</b>" in html
    assert "Ranked sites (2)" not in html and "<b>Requirements</b>" not in html
    _output, folder = _run(tmp_path, region, "sv", no_map=False)  # the lead's language is the dossier's only
    html = (folder / "map.html").read_text(encoding="utf-8")
    assert "Ranked sites (2)" in html and "2 of 3 sites meet every requirement" in html


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None or shutil.which("pdftotext") is None,
    reason="needs Debian's chromium and poppler-utils (make test installs them)",
)
def test_the_swedish_pdf_dossier_reads_swedish(tmp_path: Path, region: Path) -> None:
    lead = tmp_path / "lead.yaml"
    lead.write_text(LEAD.format(language=", language: sv, confidential: true"), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["match", str(lead), "--layers", str(region), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    (pdf,) = out.glob("*/dossier.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert all("KONFIDENTIELLT" in page for page in pages) and "CONFIDENTIAL" not in text
    assert "Skallkrav" in text and "Data och förbehåll" in text and "Data and caveats" not in text
