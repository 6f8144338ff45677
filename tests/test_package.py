"""The package imports lazily: the CLI starts without geopandas, and the public API stays the API."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip()


def test_the_cli_loads_without_geopandas() -> None:
    out = _run(
        "import sys, sitematch.cli; print(sorted(m for m in ('geopandas', 'pandas', 'shapely') if m in sys.modules))"
    )
    assert out == "[]"


def test_match_is_the_function_after_its_module_is_imported() -> None:
    out = _run(
        "import sitematch.match, sitematch\n"
        "from sitematch import match, LayerSet, load_profile\n"
        "print(callable(match), match.__module__, sitematch.match is match, LayerSet.__name__)"
    )
    assert out == "True sitematch.match True LayerSet"
