"""sitematch's parts import one way: no cycle among them, and no part imports a part above it.

The test reads every module under ``sitematch/`` as source (its AST: nothing is imported) and
counts every import — at module level, inside functions, under ``TYPE_CHECKING`` — as an edge from
the top-level part it is in (``sitematch/criteria/...`` is the part ``criteria``,
``sitematch/cli.py`` the part ``cli``) to the part it names. The package root
(``sitematch/__init__.py``, the public facade) is not a part: Python loads it before any
submodule, and it only names public functions lazily.

The levels are ARCHITECTURE.md's table ("The parts, and which way they depend"), with the parts
the table does not name placed where their job puts them (see :data:`LEVELS`).
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sitematch"

#: Every top-level part's level: a part may import its own level or lower, never higher.
#: The first seven groups are ARCHITECTURE.md's table; the rest are parts it does not name.
LEVELS: dict[str, int] = {
    # 0: the ground — column names, CRS, settings, errors, file helpers
    **dict.fromkeys(("schema", "crs", "settings", "errors", "_io"), 0),
    # 0 too: small helpers of the ground (YAML with line numbers, the built-in kinds' reader,
    # plug-in discovery, SQLite helpers, "did you mean" suggestions)
    **dict.fromkeys(("_yaml", "_kinds", "_plugins", "_sqlite", "_suggest", "i18n"), 0),
    # 1: how criteria are measured; the index, screens, and the kernels and road graph they use
    **dict.fromkeys(
        ("criteria", "measures", "index", "screen", "kernel", "kernel_jit", "_kernel_numba", "roadgraph"), 1
    ),
    # 2: what a region is, as data (the Region and the catalogue reader live in layers/)
    "layers": 2,
    # 3: what users bring; partition (plots split into parts on disk) is plot data too
    **dict.fromkeys(("profile", "store", "importers", "upload", "partition"), 3),
    # 4: the one evaluation path (matching.py holds the public function sitematch.match); features measures
    # every criterion for a bench and the planner
    **dict.fromkeys(("matching", "evaluate", "scoring", "funnel", "result", "features", "assembly", "robustness"), 4),
    # 5: what uses evaluations
    **dict.fromkeys(("planner", "leads", "distributed", "export"), 5),
    # 5 too: where a match runs (this process or Dask), chosen in the library, not the CLI
    "dispatch": 5,
    # 6: shells — the CLI (its command modules and the terminal helpers), the service, the bench
    **dict.fromkeys(("cli", "cli_leads", "cli_planner", "cli_plots", "_terminal", "service", "bench"), 6),
}

#: Edges that go up a level on purpose, with why. Keep this empty unless the reason is written.
ALLOWED_UP: dict[tuple[str, str], str] = {
    # Importers are level 3 but each brings a terminal command group (``sitematch layers import``),
    # which speaks through the shell's terminal helpers: the command group is shell code living
    # beside the importer it runs.
    ("importers", "_terminal"): "importers/cli.py is the `layers import` command group (shell code)",
}


def _module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exists(dotted: str, package: Path) -> bool:
    """Whether ``sitematch.a.b`` is a module or a folder of modules in the source tree."""
    path = package.parent / Path(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path.is_dir() and any(path.glob("*.py")))


def _targets(node: ast.AST, module: str, is_package: bool, package: Path) -> list[str]:
    """The sitematch modules an import statement loads (``from a import b`` loads ``a.b`` when it is one)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".")
        keep = len(base) - node.level + (1 if is_package else 0)
        origin = ".".join(base[:keep] + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    names = [f"{origin}.{a.name}" for a in node.names]
    return [origin, *(n for n in names if _exists(n, package))]


def _part(dotted: str) -> str | None:
    """The top-level part a dotted module name is in; None for the package root or outside sitematch."""
    bits = dotted.split(".")
    if bits[0] != "sitematch" or len(bits) < 2:
        return None
    return bits[1]


def import_edges(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """Every import between two different top-level parts, with where it is written (``file:line``)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        source = _part(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # every import: module level, in functions, under TYPE_CHECKING
            for target in _targets(node, module, path.name == "__init__.py", package):
                part = _part(target)
                if part is not None and part != source and part.split(".")[0] in _parts(package):
                    where = f"{path.relative_to(package.parent)}:{node.lineno}"  # type: ignore[attr-defined]
                    edges.setdefault((source, part), []).append(where)
    return edges


def _parts(package: Path) -> set[str]:
    """The top-level parts: modules, and folders of modules (``service/`` has no ``__init__.py``)."""
    out = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    return out | {p.name for p in package.iterdir() if p.is_dir() and any(p.rglob("*.py"))}


def strongly_connected(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node (each one holds a cycle)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(edges):
        succ[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return found


def a_cycle(component: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """One cycle through a strongly connected component, as the parts in order (first repeated last)."""
    inside = set(component)
    start = component[0]
    # breadth-first from start back to start, inside the component
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for a in frontier:
            for x, b in sorted(edges):
                if x != a or b not in inside:
                    continue
                if b == start:
                    return [*paths[a], start]
                if b not in paths:
                    paths[b] = [*paths[a], b]
                    nxt.append(b)
        frontier = nxt
    return component  # not reached: a component of two or more nodes holds a cycle


# -- the finder itself, on hand-made graphs -------------------------------------------------------


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")}
    assert strongly_connected({"a", "b", "c", "d", "e"}, edges) == [["a", "b", "c"]]
    assert a_cycle(["a", "b", "c"], edges) == ["a", "b", "c", "a"]
    assert strongly_connected({"a", "b", "c"}, {("a", "b"), ("b", "c"), ("a", "c")}) == []
    assert strongly_connected({"x", "y"}, {("x", "y"), ("y", "x")}) == [["x", "y"]]


def test_edges_count_imports_in_functions_and_under_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "sitematch"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "inner.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sitematch.high import Thing\n"
    )
    (pkg / "high.py").write_text("def f():\n    from .low import inner\n    from sitematch import mid\n")
    (pkg / "mid.py").write_text("from sitematch import __version__\n")
    edges = import_edges(pkg)
    assert set(edges) == {("low", "high"), ("high", "low"), ("high", "mid")}
    assert edges[("low", "high")] == ["sitematch/low/inner.py:3"]
    assert strongly_connected({"low", "high", "mid"}, set(edges)) == [["high", "low"]]


# -- sitematch ----------------------------------------------------------------------------------


def test_no_import_cycle_among_sitematch_parts() -> None:
    edges = import_edges()
    components = strongly_connected(_parts(PACKAGE), set(edges))
    report = []
    for component in components:
        cycle = a_cycle(component, set(edges))
        steps = [f"  {a} -> {b}: {', '.join(edges[(a, b)])}" for a, b in itertools.pairwise(cycle)]
        report.append(f"cycle {' -> '.join(cycle)} (parts {', '.join(component)}):\n" + "\n".join(steps))
    assert not components, "import cycles among sitematch's parts:\n" + "\n".join(report)


def test_every_part_has_a_level() -> None:
    missing = sorted(_parts(PACKAGE) - set(LEVELS))
    assert not missing, f"give these parts a level in LEVELS (ARCHITECTURE.md's table): {missing}"


def test_no_part_imports_a_part_above_it() -> None:
    edges = import_edges()
    up = [
        f"{a} (level {LEVELS[a]}) imports {b} (level {LEVELS[b]}): {', '.join(where)}"
        for (a, b), where in sorted(edges.items())
        if LEVELS.get(a, 99) < LEVELS.get(b, -1) and (a, b) not in ALLOWED_UP
    ]
    assert not up, "lower parts import higher ones:\n" + "\n".join(up)


@pytest.mark.parametrize(("edge", "why"), sorted(ALLOWED_UP.items()))
def test_every_allowed_upward_edge_still_exists(edge: tuple[str, str], why: str) -> None:
    assert edge in import_edges(), f"{edge} no longer imports upward ({why}): remove it from ALLOWED_UP"


def test_no_module_is_named_like_a_public_name_it_would_hide() -> None:
    init = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    public = next(
        ast.literal_eval(node.value)
        for node in init.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
    )
    assert "match" in public  # the public function the old module sitematch/match.py used to hide
    clashes = sorted(name for name in public if name in _parts(PACKAGE))
    assert not clashes, f"modules named like public names of sitematch: {clashes}"
