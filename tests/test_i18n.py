"""Swedish and English: the catalogues are complete and compiled; language choice, Stockholm time, Swedish numbers."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from sitematch import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "sitematch" / "locale"


def _extracted() -> set[str]:
    """Every msgid in the code and templates now, extracted as `make messages` does (babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _po(lang: str):
    with (LOCALE / lang / "LC_MESSAGES" / "sitematch.po").open("rb") as f:
        return read_po(f, locale=lang, domain="sitematch")


def test_every_message_in_the_code_has_a_swedish_translation() -> None:
    extracted = _extracted()
    assert "Log in" in extracted and "Plots of %(name)s" in extracted  # the extraction sees templates
    assert "Our plots" in extracted  # ... and N_() in Python
    sv = _po("sv")
    missing = sorted(m for m in extracted if not (sv.get(m) and sv.get(m).string))
    assert missing == [], f"not in the Swedish catalogue (run `make messages`, then translate): {missing}"
    fuzzy = sorted(m.id for m in sv if m.id and m.fuzzy)
    assert fuzzy == []
    with (LOCALE / "sitematch.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert pot == extracted, "sitematch.pot is out of date: run `make messages`"
    for m in sv:  # the placeholders survive translation
        if m.id and "%(" in m.id:
            assert sorted(part.split(")")[0] for part in m.id.split("%(")[1:]) == sorted(
                part.split(")")[0] for part in m.string.split("%(")[1:]
            ), m.id


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_compiled_catalogues_are_those_of_the_po_files(lang: str) -> None:
    po = {m.id: m.string for m in _po(lang) if m.id and m.string}
    with (LOCALE / lang / "LC_MESSAGES" / "sitematch.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    compiled = {k: v for k, v in mo._catalog.items() if k}  # the header ("") aside
    assert compiled == po, f"sitematch/locale/{lang}/LC_MESSAGES/sitematch.mo is stale: run `make messages`"


def test_words_come_from_the_catalogues() -> None:
    assert i18n.translations("sv").gettext("Log in") == "Logga in"
    assert i18n.translations("en").gettext("Log in") == "Log in"
    assert i18n.translations("sv").gettext("Plots of %(name)s") % {"name": "Västerås"} == "Tomter i Västerås"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv", "sv"),
        ("en", "en"),
        ("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", "sv"),
        ("en-US,en;q=0.9,sv;q=0.8", "en"),
        ("en;q=0.5, sv;q=0.9", "sv"),  # q-values, not the order, decide
        ("sv;q=0, en;q=0.1", "en"),  # q=0 means "not Swedish"
        ("de-DE, fr;q=0.9, sv;q=0.3, en;q=0.2", "sv"),
        ("de, fr", None),
        ("*", "sv"),
        ("", None),
        ("sv;q=nonsense", None),
        (None, None),
    ],
)
def test_accept_language_is_negotiated_by_q_value(header: str | None, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_the_language_is_the_accounts_then_the_browsers_then_the_roles() -> None:
    assert i18n.choose_language("en", "sv", municipal=True) == "en"
    assert i18n.choose_language("sv", "en", municipal=False) == "sv"
    assert i18n.choose_language(None, "en", municipal=True) == "en"
    assert i18n.choose_language(None, "de", municipal=True) == "sv"
    assert i18n.choose_language(None, None, municipal=False) == "en"


def test_times_are_shown_in_stockholm_time_winter_and_summer() -> None:
    # winter: CET = UTC+1; summer: CEST = UTC+2 (2026: summer time from 29 March to 25 October)
    assert i18n.format_time("2026-01-15T12:00:00+00:00") == "2026-01-15 13:00"
    assert i18n.format_time("2026-07-15T12:00:00+00:00") == "2026-07-15 14:00"
    assert i18n.format_time("2026-12-31T23:30:00Z") == "2027-01-01 00:30"  # a new day (and year) in Stockholm
    # the night summer time starts: 00:59:59 UTC is 01:59:59 CET, 01:00 UTC is already 03:00 CEST
    assert i18n.format_time("2026-03-29T00:59:59+00:00", seconds=True) == "2026-03-29 01:59:59"
    assert i18n.format_time("2026-03-29T01:00:00+00:00") == "2026-03-29 03:00"
    assert i18n.format_time("2026-10-25T00:30:00+00:00") == "2026-10-25 02:30"  # still CEST
    assert i18n.format_time("2026-10-25T01:30:00+00:00") == "2026-10-25 02:30"  # CET again: 02:30 twice
    assert i18n.format_time("2026-07-15T12:00:00") == "2026-07-15 14:00"  # no zone: UTC, as the service writes


def test_swedish_numbers_have_a_decimal_comma_and_no_float_noise() -> None:
    assert i18n.format_number(9.200000000000001, "sv") == "9,2"
    assert i18n.format_number(9.200000000000001, "en") == "9.2"
    assert i18n.format_number(12.25, "sv", decimals=2) == "12,25"
    assert i18n.format_number(12.0, "sv", decimals=2) == "12"
    assert i18n.format_number(1234567.891, "sv") == "1\N{NO-BREAK SPACE}234\N{NO-BREAK SPACE}567,9"
    assert i18n.format_number(1234567.891, "en") == "1,234,567.9"
    assert i18n.format_number(-0.04, "sv") == "0"  # not "-0"
    assert i18n.format_number(-1.5, "sv") in ("-1,5", "\N{MINUS SIGN}1,5")


def test_a_language_sitematch_does_not_speak_is_refused() -> None:
    with pytest.raises(ValueError, match=r"sv .*or en"):
        i18n.check_language("de")


def test_no_word_to_translate_hides_inside_an_f_string() -> None:
    """Babel cannot see a call inside an f-string (Python 3.11): ``f"{_('x')}"`` would never be translated."""
    hidden = []
    for path in (ROOT / "sitematch").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""(?<!\{)\{\s*_\(\s*['"]""", line):
                hidden.append(f"{path.relative_to(ROOT)}:{n}")
    assert hidden == []


def test_the_current_language_of_a_block() -> None:
    with i18n.language("sv"):
        assert i18n.gettext("Ranked sites") == "Rankade tomter"
        with i18n.language("en"):
            assert i18n.gettext("Ranked sites") == "Ranked sites"
        assert i18n.current_language() == "sv"
