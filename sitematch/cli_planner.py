"""``sitematch fit``, ``sitematch gaps`` and ``sitematch robustness``: the planner's commands.

Thin over :mod:`sitematch.planner`: read the region and the profiles, call the library, print a
table that fits 80 columns, write the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console, JustifyMethod
from rich.table import Table

from sitematch._terminal import layers_option as _layers_option
from sitematch._terminal import plain

console = Console(stderr=True, emoji=False)
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")


def _out() -> Console:
    """Terminal output: the terminal's width; when piped, $COLUMNS or 120 (as ``sitematch match``)."""
    import os

    piped = not Console().is_terminal
    return Console(width=int(os.environ.get("COLUMNS") or 120) if piped else None, emoji=False)


def bundled_scenarios() -> Path:
    """The sector archetypes shipped inside the package (a copy of the repository's ``scenarios/``)."""
    from importlib.resources import files

    return Path(str(files("sitematch") / "_scenarios"))


def profile_paths(given: tuple[Path, ...]) -> list[Path]:
    """Profile files from files and folders; none given: ``./scenarios`` if there is one, else the bundled."""
    from sitematch.errors import SitematchError

    if not given:
        here = Path("scenarios")
        folder = here if here.is_dir() and any(here.glob("*.yaml")) else bundled_scenarios()
        console.print(f"[dim]profiles: {plain(folder)}/ (give --profiles to choose)[/]", highlight=False)
        given = (folder,)
    paths: list[Path] = []
    for p in given:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in PROFILE_SUFFIXES)
            if not found:
                raise SitematchError(f"{p}: no profiles (.yaml, .yml, .json) in this folder", option="profiles")
            paths += found
        elif p.is_file():
            paths.append(p)
        else:
            raise SitematchError(f"{p}: no such profile file or folder", option="profiles")
    return paths


def _load(layers_path: Path | None, profiles: tuple[Path, ...]) -> tuple[Any, list[Any]]:
    from sitematch.layers.region import open_region
    from sitematch.profile import load_profile

    paths = profile_paths(profiles)
    layers = open_region(layers_path)
    loaded = [load_profile(p, registry=layers.registry) for p in paths]
    names = [p.name for p in loaded]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        from sitematch.errors import SitematchError

        raise SitematchError(
            f"two profiles share the name {dupes[0]!r}: give each a name of its own", option="profiles"
        )
    return layers, loaded


def _evaluate(layers: Any, profiles: list[Any]) -> list[Any]:
    from sitematch.planner import evaluate_profiles

    with console.status("evaluating") as status:
        return evaluate_profiles(profiles, layers, progress=lambda name: status.update(f"evaluating {plain(name)}"))


def _short(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


@click.command("fit")
@click.argument("plot_ids", nargs=-1)
@click.option("--municipality", "municipalities", multiple=True, metavar="CODE", help="Every site of a municipality.")
@click.option("--brownfield", is_flag=True, help="Every brownfield site.")
@click.option("--all", "all_sites", is_flag=True, help="Every site of the region.")
@click.option(
    "--profiles",
    "profiles",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Profile files or folders (repeatable); default ./scenarios, else the bundled sector archetypes.",
)
@_layers_option
@click.option("--out", "out_dir", default=Path("out/fit"), show_default=True, type=click.Path(path_type=Path))
@click.option("--excel", is_flag=True, help="Write the CSV files for Excel with Swedish settings.")
@click.option("--no-map", is_flag=True, help="Skip fit_map.html.")
@click.option("--shown", default=10, show_default=True, type=click.IntRange(min=1), help="Sites shown on the terminal.")
def fit_cmd(
    plot_ids: tuple[str, ...],
    municipalities: tuple[str, ...],
    brownfield: bool,
    all_sites: bool,
    profiles: tuple[Path, ...],
    layers_path: Path | None,
    out_dir: Path,
    excel: bool,
    no_map: bool,
    shown: int,
) -> None:
    """Which leads (profiles) each site fits, and what it lacks for the others.

    One evaluation per profile over the whole region: scores and ranks are among all its sites.
    Writes fit.csv, fit_gaps.csv, opportunity_matrix.csv/.png/.svg and fit_map.html.

    \b
    Example:
      sitematch fit 0181:BF-1
      sitematch fit --municipality 1980 --profiles scenarios/
      sitematch fit --brownfield --excel
    """
    from sitematch import schema as s
    from sitematch.errors import SitematchError
    from sitematch.planner import fit
    from sitematch.planner.figures import figures_available
    from sitematch.planner.write import write_fit

    if not (plot_ids or municipalities or brownfield or all_sites):
        raise SitematchError("which sites? give plot ids, --municipality CODE, --brownfield or --all", option="all")
    layers, loaded = _load(layers_path, profiles)
    plots = layers["plots"]
    wanted = set(plot_ids)
    if municipalities:
        wanted |= set(plots.loc[plots[s.MUNICIPALITY_CODE].astype(str).isin(municipalities), s.PLOT_ID].astype(str))
    if brownfield:
        wanted |= set(plots.loc[plots[s.BROWNFIELD].fillna(False).astype(bool), s.PLOT_ID].astype(str))
    if all_sites:
        wanted |= set(plots[s.PLOT_ID].astype(str))
    if not wanted:
        raise SitematchError("no sites match the selection", option="municipality")
    results = _evaluate(layers, loaded)
    found = fit(results, sorted(wanted))
    pictures = figures_available()
    if not pictures:
        console.print("[yellow]note:[/] no pictures: pip install 'sitematch[planner]' (matplotlib)", highlight=False)
    with console.status("writing"):
        write_fit(
            found,
            results,
            layers,
            out_dir,
            dialect="excel" if excel else "plain",
            pictures=pictures,
            with_map=not no_map,
        )
    _print_fit(found, layers, shown)
    _out().print(f"written to {plain(out_dir)}/ (fit.csv, opportunity_matrix.*, fit_map.html)", highlight=False)


def _print_fit(found: Any, layers: Any, shown: int) -> None:
    from sitematch import schema as s

    screen = _out()
    names = layers.municipality_names
    plots = layers["plots"].set_index(s.PLOT_ID)
    ids = list(dict.fromkeys(found.table[s.PLOT_ID]))
    for pid in ids[:shown]:
        rows = found.for_site(pid)
        name = plots[s.NAME].get(pid, "") if s.NAME in plots else ""
        muni = names.get(rows[s.MUNICIPALITY_CODE].iloc[0], rows[s.MUNICIPALITY_CODE].iloc[0])
        n_fit = int(rows["passed"].sum())
        screen.print(
            f"[bold]{plain(pid)}[/] {plain(name)} · {plain(muni)} · {rows[s.AREA_HA].iloc[0]:.1f} ha — "
            f"fits {n_fit} of {len(rows)}",
            highlight=False,
        )
        t = Table(show_edge=False, pad_edge=False)
        t.add_column("profile", max_width=24, overflow="fold")
        t.add_column("fits", no_wrap=True)
        t.add_column("score", justify="right", no_wrap=True)
        t.add_column("rank", justify="right", no_wrap=True)
        t.add_column("what it lacks", overflow="fold", ratio=1)
        for r in rows.itertuples():
            rank = f"#{int(r.rank)}/{int(r.ranked_of)}" if r.passed else f"({int(r.rank)})"
            t.add_row(plain(r.profile), "yes" if r.passed else "no", f"{r.score:.0f}", rank, plain(r.lacks))
        screen.print(t)
    if len(ids) > shown:
        screen.print(f"… and {len(ids) - shown} more sites (all in fit.csv)", highlight=False)
    screen.print(
        "score and (rank) of a site that does not fit: what it would score, and where it would rank, if it did",
        style="dim",
        highlight=False,
    )


@click.command("gaps")
@click.argument("profiles", nargs=-1, type=click.Path(path_type=Path))
@_layers_option
@click.option("--out", "out_dir", default=Path("out/gaps"), show_default=True, type=click.Path(path_type=Path))
@click.option("--excel", is_flag=True, help="Write the CSV files for Excel with Swedish settings.")
@click.option("--no-map", is_flag=True, help="Skip kartbild.html.")
@click.option("--no-sheets", is_flag=True, help="Skip the municipality sheets.")
@click.option("--pdf", is_flag=True, help="Print each municipality sheet to PDF too (needs Chromium).")
@click.option("--shown", default=8, show_default=True, type=click.IntRange(min=1), help="Changes shown.")
def gaps_cmd(
    profiles: tuple[Path, ...],
    layers_path: Path | None,
    out_dir: Path,
    excel: bool,
    no_map: bool,
    no_sheets: bool,
    pdf: bool,
    shown: int,
) -> None:
    """What holds the region back: per requirement, the land it excludes alone and as the only miss.

    Names the binding requirement per profile and per municipality, and the smallest changes that
    would open most land. Writes gaps.csv, binding.csv, changes.csv, municipalities.csv, gaps.png,
    kartbild.html and sheets/<kommunkod>.html (.pdf with --pdf).

    \b
    Example:
      sitematch gaps scenarios/*.yaml --out gaps
      sitematch gaps --excel --pdf
    """
    from sitematch.planner.figures import figures_available
    from sitematch.planner.write import write_gaps

    layers, loaded = _load(layers_path, profiles)
    results = _evaluate(layers, loaded)
    pictures = figures_available()
    if pdf:
        from sitematch.export.pdf import pdf_available

        if not pdf_available():
            console.print("[yellow]note:[/] no PDF sheets: needs Debian's chromium and Playwright", highlight=False)
            pdf = False
    with console.status("writing") as status:
        summary, changes, _ = write_gaps(
            results,
            layers,
            out_dir,
            dialect="excel" if excel else "plain",
            pictures=pictures,
            with_map=not no_map,
            sheets=not no_sheets,
            pdf=pdf,
            step=lambda n: status.update(f"writing {n}"),
        )
    _print_gaps(summary, changes, layers, loaded, shown)
    _out().print(
        f"written to {plain(out_dir)}/ (gaps.csv, binding.csv, changes.csv, kartbild.html, sheets/)", highlight=False
    )


def _print_gaps(summary: Any, changes: Any, layers: Any, profiles: list[Any], shown: int) -> None:
    screen = _out()
    b = summary.binding
    region = b[b["scope"] == "region"].set_index("profile")
    t = Table(title="Binding requirement per profile (the region)", title_justify="left", show_edge=False)
    t.add_column("profile", max_width=26, overflow="fold")
    t.add_column("binding requirement", overflow="fold", ratio=1)
    t.add_column("only miss", justify="right", no_wrap=True)
    t.add_column("excludes", justify="right", no_wrap=True)
    for p in profiles:
        if p.name not in region.index:
            t.add_row(plain(p.name), "— (nothing excludes)", "", "")
            continue
        r = region.loc[p.name]
        t.add_row(
            plain(p.name),
            plain(r["requirement_words"]),
            f"{r['only_miss_ha']:.0f} ha ({int(r['only_miss'])})",
            f"{r['excluded_ha']:.0f} ha",
        )
    screen.print(t)
    # per municipality: the binding requirement's short label per profile, one column each
    registry = layers.registry
    by_key = {p.name: {q.key: q for q in p.requirements} for p in profiles}
    per = b[b["scope"] == "municipality"]
    m = Table(title="Binding requirement per municipality", title_justify="left", show_edge=False)
    m.add_column("municipality", max_width=14, no_wrap=True, overflow="ellipsis")
    heads = [f"P{i + 1}" for i in range(len(profiles))]
    for h in heads:
        m.add_column(
            h, no_wrap=True, overflow="ellipsis", max_width=max(6, (screen.width - 20) // max(len(heads), 1) - 3)
        )
    for code in sorted(per["code"].unique()):
        rows = per[per["code"] == code].set_index("profile")
        cells = []
        for p in profiles:
            if p.name not in rows.index:
                cells.append("–")
                continue
            req = by_key[p.name].get(rows.loc[p.name, "requirement"])
            label = req.criterion.short_label if req is not None else rows.loc[p.name, "requirement"]
            cells.append(plain(label) + ("" if rows.loc[p.name, "only_miss"] else "*"))
        m.add_row(plain(layers.municipality_names.get(code, code)), *cells)
    screen.print(m)
    legend = "; ".join(f"P{i + 1} = {plain(p.name)}" for i, p in enumerate(profiles))
    screen.print(f"  {legend}. *: no site misses only that one (it excludes the most land).", highlight=False)
    del registry
    if len(changes):
        from sitematch.planner.changes import headline_changes

        screen.print("[bold]Smallest changes that would open most land[/] (all in changes.csv)", highlight=False)
        for r in headline_changes(changes, shown).itertuples():
            screen.print(f"  • {plain(r.change)} ({r.ha:.0f} ha)", highlight=False)


@click.command("robustness")
@click.argument("profile", type=click.Path(path_type=Path))
@_layers_option
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--change", default=25.0, show_default=True, type=click.FloatRange(0, 100), help="Weight change, %.")
@click.option("--samples", default=500, show_default=True, type=click.IntRange(min=0), help="Joint samples.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--pareto",
    nargs=2,
    default=None,
    metavar="X Y",
    help="Pareto front of two criteria, e.g. area_ha grid_capacity_mw.",
)
def robustness_cmd(
    profile: Path,
    layers_path: Path | None,
    top: int,
    change: float,
    samples: int,
    seed: int,
    pareto: tuple[str, str] | None,
) -> None:
    """How robust a shortlist is: each top site's rank range when each weight moves ±25 %.

    \b
    Example:
      sitematch robustness scenarios/battery_plant.yaml
      sitematch robustness lead.yaml --pareto area_ha grid_capacity_mw
    """
    from sitematch import schema as s
    from sitematch.matching import match
    from sitematch.planner import pareto_front, sensitivity

    layers, (loaded,) = _load(layers_path, (profile,))
    result = match(loaded, layers, staged=False)
    ranges = sensitivity(result, top=top, change=change / 100, samples=samples, seed=seed)
    screen = _out()
    names = layers.municipality_names
    sites = result.sites.set_index(s.PLOT_ID)
    t = Table(
        title=f"{plain(loaded.name)}: rank ranges with weights ±{change:g} %", title_justify="left", show_edge=False
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("rank", "right"),
        ("site", "left"),
        ("municipality", "left"),
        ("score", "right"),
        ("one at a time", "right"),
        ("jointly", "right"),
    )
    for c, j in columns:
        t.add_column(c, justify=j, no_wrap=c != "site", overflow="fold", max_width=18 if c == "site" else None)
    for r in ranges:
        row = sites.loc[r.plot_id]
        t.add_row(
            str(r.rank),
            plain(r.plot_id),
            plain(names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]))[:14],
            f"{row['score']:.1f}",
            f"{r.best_one}–{r.worst_one}",
            f"{r.best_joint}–{r.worst_joint}",
        )
    screen.print(t)
    stable = sum(r.stable for r in ranges)
    screen.print(
        f"  {stable} of {len(ranges)} keep their rank under every change tried ({samples} joint samples, seed {seed})",
        highlight=False,
    )
    if pareto:
        front = pareto_front(result, *pareto)
        screen.print(
            f"[bold]Pareto front on {plain(pareto[0])} and {plain(pareto[1])}[/] ({len(front)} sites)", highlight=False
        )
        for point in front.itertuples(index=False):
            screen.print(f"  {plain(point[0])}: {point[1]:g}, {point[2]:g}", highlight=False)
