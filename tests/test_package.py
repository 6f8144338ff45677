"""The package imports lazily: the CLI starts without geopandas, and the public API stays the API."""

from __future__ import annotations

import os
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
    # the function's module is sitematch.matching: no module is named like the function it would hide
    out = _run(
        "import sitematch.matching, sitematch\n"
        "from sitematch import match, LayerSet, load_profile\n"
        "print(callable(match), match.__module__, sitematch.match is match, LayerSet.__name__)"
    )
    assert out == "True sitematch.matching True LayerSet"


def test_a_mistyped_setting_in_the_environment_is_a_message_not_a_traceback() -> None:
    env = {**os.environ, "SITEMATCH_STAGED_ABOVE": "5k", "SITEMATCH_EXACT_TOP": "-3"}
    done = subprocess.run(
        [sys.executable, "-c", "import sitematch.settings as s; print(s.staged_above, s.exact_top)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "5000 1000"
    assert "SITEMATCH_STAGED_ABOVE='5k' is not a whole number" in done.stderr
    assert "SITEMATCH_EXACT_TOP='-3'" in done.stderr and "Traceback" not in done.stderr
