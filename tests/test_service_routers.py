"""The service's routers are leaves: no router imports another, and only the application (``app.py``)
imports routers. Functions two routers share live in a service module (``sitematch/service/*.py``).

Imports are read from the source (AST), counting those inside functions and under ``TYPE_CHECKING``,
and relative ones resolved.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sitematch

SERVICE = Path(sitematch.__file__).parent / "service"
ROUTERS = SERVICE / "routers"
PACKAGE = "sitematch.service.routers"
ROUTER_MODULES = {p.stem for p in ROUTERS.glob("*.py") if p.stem != "__init__"}


def module_name(path: Path) -> str:
    """``.../sitematch/service/routers/plots.py`` → ``sitematch.service.routers.plots``."""
    parts = path.relative_to(SERVICE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, by full dotted name: for
    ``from a import b`` both ``a`` and ``a.b`` (``b`` may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
    return names


def routers_imported(path: Path) -> set[str]:
    """The router modules the file at ``path`` imports (other than itself)."""
    module = module_name(path)
    found = imported(path.read_text(encoding="utf-8"), module, is_package=path.stem == "__init__")
    named = {".".join(n.split(".")[:4]) for n in found if n.startswith(PACKAGE + ".")}
    return {n for n in named if n.rpartition(".")[2] in ROUTER_MODULES} - {module}


def test_the_check_sees_an_import_of_a_router_written_every_way() -> None:
    # The check itself, on sources that do import a router (so the tests below can fail).
    for source in (
        "from sitematch.service.routers.plots import store_plots",
        "from sitematch.service.routers import plots",
        "import sitematch.service.routers.plots",
        "from .plots import store_plots",
        "from . import plots",
        "def f():\n    from sitematch.service.routers.plots import store_plots",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .plots import store_plots",
    ):
        found = imported(source, f"{PACKAGE}.ogc")
        assert f"{PACKAGE}.plots" in found, source
    assert not {n for n in imported("from sitematch.service.plots import store_plots", PACKAGE + ".ogc")
                if n.startswith(PACKAGE)}  # fmt: skip


def test_the_routers_are_found() -> None:
    assert {"plots", "matches", "profiles", "leads", "ogc", "pages", "lead_pages", "municipality_pages"} <= (
        ROUTER_MODULES
    )


def test_no_router_imports_another_router() -> None:
    wrong = {p.name: sorted(routers_imported(p)) for p in ROUTERS.glob("*.py")}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_only_the_application_imports_routers() -> None:
    # Service modules hold the functions the routers share; they never reach up into a router.
    wrong = {
        str(p.relative_to(SERVICE)): sorted(routers_imported(p))
        for p in SERVICE.rglob("*.py")
        if p.parent != ROUTERS and p.name != "app.py"
    }
    assert {name: found for name, found in wrong.items() if found} == {}
