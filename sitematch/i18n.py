"""Swedish and English: the gettext catalogues, choosing a language, Stockholm time and Swedish numbers.

The words live in standard gettext catalogues, ``sitematch/locale/<lang>/LC_MESSAGES/sitematch.po``,
compiled to ``.mo`` beside them (``make messages`` extracts, updates and compiles; the compiled
files are committed, so a fresh clone and a wheel work without a build step, and a test checks
they are up to date). Message ids are the English text; the English catalogue is empty-ish on
purpose (an untranslated id *is* English).

Language of a page: the account's own choice, else the browser's ``Accept-Language`` (q-values
honoured), else Swedish for municipality and planner accounts and English for everyone else.
The dossier's language is the lead's (``language:`` in the profile, English by default, for an
investor); the terminal's is ``--lang`` or ``$SITEMATCH_LANG`` (English by default).

This module is at the bottom of the import graph: standard library and Babel only.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import gettext as _gettext
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

#: The languages sitematch speaks, Swedish first.
LANGUAGES = ("sv", "en")
#: Words for the language chooser (each in its own language).
LANGUAGE_NAMES = {"sv": "svenska", "en": "English"}
DOMAIN = "sitematch"
LOCALE_DIR = Path(__file__).parent / "locale"
#: Times shown to people are Swedish local time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*")


def check_language(lang: str | None) -> str | None:
    """``lang`` lower-cased if sitematch speaks it (None stays None); else ValueError naming both.

    Examples
    --------
    >>> check_language("SV"), check_language(None)
    ('sv', None)
    """
    if lang is None:
        return None
    code = str(lang).strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"{lang!r} is not a language sitematch speaks: sv (svenska) or en (English)")
    return code


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (``sv`` or ``en``); English falls back to the ids themselves.

    Examples
    --------
    >>> translations("sv").gettext("Log in")
    'Logga in'
    >>> translations("en").gettext("Log in")
    'Log in'
    """
    code = check_language(lang) or "en"
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code], fallback=code == "en")


def gettext_for(lang: str | None) -> Callable[[str], str]:
    """A ``_`` for one language (None: the terminal's language, :func:`terminal_language`)."""
    return translations(lang or terminal_language()).gettext


#: The language of what is being written now (a map, a table), set by :func:`language`; None: the terminal's.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("sitematch_language", default=None)


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[None]:
    """Write in ``lang`` inside the block (:func:`gettext` follows it); None: the terminal's language.

    Examples
    --------
    >>> with language("sv"):
    ...     gettext("Log in")
    'Logga in'
    """
    token = _current.set(check_language(lang))
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    """The language :func:`gettext` speaks here: the block's (:func:`language`), else the terminal's."""
    return _current.get() or terminal_language()


def gettext(message: str) -> str:
    """``message`` in the current language (:func:`current_language`)."""
    return translations(current_language()).gettext(message)


def terminal_language() -> str:
    """The terminal's language: ``$SITEMATCH_LANG`` (``sv`` or ``en``; ``sv_SE.UTF-8`` counts as sv), else English."""
    raw = os.environ.get("SITEMATCH_LANG", "")
    code = raw.split("_", 1)[0].split("-", 1)[0].split(".", 1)[0].strip().lower()
    return code if code in LANGUAGES else "en"


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The language tags of an ``Accept-Language`` header with their q-values, most wanted first.

    Tags with q=0 ("not this one") and malformed parts are dropped; equal q-values keep the
    header's order.

    Examples
    --------
    >>> parse_accept_language("en-GB;q=0.8, sv, de;q=0.9, fr;q=0")
    [('sv', 1.0), ('de', 0.9), ('en-gb', 0.8)]
    >>> parse_accept_language("sv;q=abc, en")
    [('en', 1.0)]
    """
    found: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        tag, *params = (p.strip() for p in part.split(";"))
        if not tag or not _TAG.fullmatch(tag):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0 < q <= 1 and math.isfinite(q):
            found.append((tag.lower(), q))
    return sorted(found, key=lambda item: -item[1])  # sorted() is stable: ties keep the header's order


def negotiate(header: str | None) -> str | None:
    """The language of :data:`LANGUAGES` an ``Accept-Language`` header wants most, or None.

    ``sv-SE`` and ``sv-FI`` mean Swedish; ``*`` means whatever we have first is fine (Swedish).

    Examples
    --------
    >>> negotiate("en-US,en;q=0.9,sv;q=0.8"), negotiate("de, sv;q=0.5"), negotiate("de, fr"), negotiate(None)
    ('en', 'sv', None, None)
    """
    for tag, _q in parse_accept_language(header):
        if tag == "*":
            return LANGUAGES[0]
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return None


def choose_language(account: str | None, accept_language: str | None, *, municipal: bool) -> str:
    """A page's language: the account's choice, else the browser's, else Swedish for municipal staff.

    Parameters
    ----------
    account : str or None
        The language the account chose on its page (None: not chosen).
    accept_language : str or None
        The request's ``Accept-Language`` header.
    municipal : bool
        Whether the account belongs to a municipality or is a planner (they read Swedish by default).

    Examples
    --------
    >>> choose_language(None, None, municipal=True), choose_language(None, None, municipal=False)
    ('sv', 'en')
    >>> choose_language("en", "sv", municipal=True), choose_language(None, "sv-SE", municipal=False)
    ('en', 'sv')
    """
    return check_language(account) or negotiate(accept_language) or ("sv" if municipal else "en")


def format_number(value: float | int | None, lang: str, *, decimals: int = 1) -> str:
    """A number for people: at most ``decimals`` decimals, no float noise, Swedish ``9,2`` in Swedish.

    Examples
    --------
    >>> format_number(9.200000000000001, "sv"), format_number(9.200000000000001, "en")
    ('9,2', '9.2')
    >>> format_number(12345.0, "sv") == "12\\xa0345", format_number(None, "sv")
    (True, '')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "" if value is None else str(value)
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    if round(value, decimals) == 0:
        value = 0  # never "-0"
    return format_decimal(value, format=pattern, locale=check_language(lang) or "en")


def local_time(value: str | dt.datetime | None) -> dt.datetime | None:
    """A UTC time (ISO 8601 text or an aware datetime; naive means UTC) in Europe/Stockholm."""
    if value is None or value == "":
        return None
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(STOCKHOLM)


def format_time(value: str | dt.datetime | None, *, seconds: bool = False) -> str:
    """A time as people in Sweden read it: Stockholm local time, ``2026-07-15 14:00`` (ISO order).

    Examples
    --------
    >>> format_time("2026-01-15T12:00:00+00:00"), format_time("2026-07-15T12:00:00+00:00")
    ('2026-01-15 13:00', '2026-07-15 14:00')
    >>> format_time(None), format_time("not a time")
    ('', 'not a time')
    """
    try:
        when = local_time(value)
    except (TypeError, ValueError):
        return str(value)
    if when is None:
        return ""
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@functools.cache
def _sentence_patterns(sentences: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each sentence as a regular expression that finds its parts (longest sentences first)."""
    out = []
    for sentence in sorted(sentences, key=len, reverse=True):
        parts = _PLACEHOLDER.split(sentence.replace("%%", "%"))  # text, name, text, name, …, text
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        out.append((re.compile(pattern, re.DOTALL), sentence))
    return tuple(out)


def reword(text: str, sentences: tuple[str, ...], lang: str) -> str:
    """``text``, written by the library in English as one of ``sentences``, in ``lang``; as it is otherwise.

    For messages made where the reader's language is not known (a profile's or an upload's checks):
    the place that shows them finds which English sentence (a catalogue msgid with ``%(name)s``
    parts) a message is and writes it again in the reader's language, with the same parts.

    Examples
    --------
    >>> reword("must not be negative, got -3.0", ("must not be negative, got %(value)s",), "sv")
    'får inte vara negativt, fick -3.0'
    >>> reword("something else", ("must not be negative, got %(value)s",), "sv")
    'something else'
    """
    if lang == "en" or not text:
        return text
    _ = translations(lang).gettext
    for pattern, sentence in _sentence_patterns(sentences):
        found = pattern.fullmatch(text)
        if found:
            return _(sentence) % found.groupdict()
    return text


def N_(message: str) -> str:  # noqa: N802 (the gettext name for "mark for extraction, translate later")
    """Mark ``message`` for the catalogues without translating it here (it is translated where shown)."""
    return message
