"""Reading profiles: YAML (with the line of every key) and JSON (from a web form), one validation.

Both readers hand plain data to :func:`sitematch.profile.build.build_profile`, so a profile gets the
same messages whichever way it came in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sitematch._yaml import read_yaml
from sitematch.criteria import Registry
from sitematch.errors import ProfileError
from sitematch.profile.build import build_profile
from sitematch.profile.model import Profile

#: Largest profile read, in characters.
MAX_PROFILE_CHARS = 200_000


def parse_profile(
    text: str,
    *,
    where: str = "<profile>",
    slug: str = "profile",
    path: Path | None = None,
    registry: Registry | None = None,
) -> Profile:
    """Validate a profile given as YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        The name errors give it (usually the file name).
    slug : str
        Short name used for output folders.
    path : pathlib.Path, optional
        The file it came from.
    registry : Registry, optional
        The criteria it may use (default built-in; pass ``layers.registry`` for a catalogue's).

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        Naming the line and key of the first mistake, what is wrong and how to fix it.

    Examples
    --------
    >>> p = parse_profile("name: Test\\nrequirements: {min_area_ha: 10}")
    >>> p.requirements[0].describe()
    'Area at least 10 ha'
    """
    doc = read_yaml(text, where=where, error=ProfileError, max_chars=MAX_PROFILE_CHARS)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ProfileError(
            f"{where}: a profile is a YAML mapping (key: value lines), not a {type(doc.data).__name__}", where=where
        )
    return build_profile(
        doc.data, where=where, slug=slug, path=path, registry=registry, locate=lambda keys: doc.line(*keys)
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key written twice (as the YAML reader does)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is written twice")
        out[key] = value
    return out


def parse_profile_json(text: str, **options: Any) -> Profile:
    """Validate a profile given as JSON text (e.g. from a web form); same rules and messages as YAML.

    ``options`` are those of :func:`parse_profile` (``where``, ``slug``, ``path``, ``registry``).

    Examples
    --------
    >>> parse_profile_json('{"name": "Web lead", "preferences": {"area_ha": {"weight": 1, '
    ...                    '"full_at": 20, "zero_at": 5}}}').preferences[0].full_at
    20.0
    """
    where = str(options.get("where", "<profile>"))
    if len(text) > MAX_PROFILE_CHARS:
        raise ProfileError(f"{where}: more than {MAX_PROFILE_CHARS:,} characters; is this a profile?", where=where)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; so are huge integers
        line = getattr(exc, "lineno", None)
        loc = f"{where}, line {line}" if line else where
        message = getattr(exc, "msg", None) or str(exc).splitlines()[0][:160]
        raise ProfileError(f"{loc}: not valid JSON: {message}", where=where, line=line) from None
    return build_profile(data, **options)


def load_profile(path: str | Path, *, registry: Registry | None = None) -> Profile:
    """Load and validate a profile from a ``.yaml``/``.yml`` or ``.json`` file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    registry : Registry, optional
        As for :func:`parse_profile`.

    Returns
    -------
    Profile
        With ``slug`` the file's stem (the name of its output folder).

    Raises
    ------
    ProfileError
        If the file is missing, unreadable or invalid.

    Examples
    --------
    >>> load_profile("scenarios/battery_plant.yaml").name
    'Battery-component plant'
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"{path}: no such profile file", where=str(path))
    if path.stat().st_size > 4 * MAX_PROFILE_CHARS:
        raise ProfileError(f"{path}: {path.stat().st_size:,} bytes is too large for a profile", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not a UTF-8 text file; save the profile as UTF-8 YAML", where=str(path)) from None
    if path.suffix.lower() == ".json":
        return parse_profile_json(text, where=str(path), slug=path.stem, path=path, registry=registry)
    return parse_profile(text, where=str(path), slug=path.stem, path=path, registry=registry)
