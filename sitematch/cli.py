"""The ``sitematch`` command: a thin shell over the library.

Exit codes: 0 success; 1 the input was refused (bad profile, layer, upload — a clear message, no
traceback); 2 the command line itself was wrong (click's usage errors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sitematch._terminal import MessagesGroup, code_word, plain
from sitematch._terminal import console as _out
from sitematch._terminal import layers_option as _layers_option

#: No ``:emoji:`` codes: data never turns into pictures, and rich's emoji table (~25 ms) is not loaded.
console = Console(stderr=True, emoji=False)


class _LazyGroup(MessagesGroup):
    """The ``sitematch`` group: the subcommands of :data:`LAZY_COMMANDS` imported when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.add_command(_lazy_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (to stderr).")
@click.version_option(package_name="sitematch")
def main(verbose: bool) -> None:
    """Match investor requirement profiles against establishment land.

    \b
    Example:
      sitematch match scenarios/battery_plant.yaml --out out
      sitematch criteria
      sitematch layers build-demo
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def terminal_criteria(profile: Any) -> list[Any]:
    r"""The lead's criteria in the order the results table keeps them: by weight, heaviest first.

    A criterion's weight is its preference's (0 when it is only required); at equal weight a
    required criterion comes before one that is only preferred, then the profile's order. So at any
    width the columns kept are the ones that weigh most: a narrower table drops the lightest.

    Examples
    --------
    >>> from sitematch.profile import parse_profile
    >>> p = parse_profile("name: x\nrequirements: {min_area_ha: 5}\npreferences:\n"
    ...     "  distance_to_rail_m: {weight: 1, full_at: 0, zero_at: 5000}\n"
    ...     "  grid_capacity_mw: {weight: 6, full_at: 50, zero_at: 0}\n")
    >>> [c.name for c in terminal_criteria(p)]
    ['grid_capacity_mw', 'distance_to_rail_m', 'area_ha']
    """
    weight: dict[str, float] = {}
    required: set[str] = set()
    order: dict[str, Any] = {}
    for r in profile.requirements:
        order.setdefault(r.criterion.name, r.criterion)
        required.add(r.criterion.name)
    for pr in profile.preferences:
        order.setdefault(pr.criterion.name, pr.criterion)
        weight[pr.criterion.name] = max(weight.get(pr.criterion.name, 0.0), float(pr.weight))
    position = {name: i for i, name in enumerate(order)}
    ranked = sorted(order, key=lambda n: (-weight.get(n, 0.0), n not in required, position[n]))
    return [order[n] for n in ranked]


def _cell(criterion: Any, format_value: Callable[[Any, Any], str]) -> Callable[[Any], str]:
    """A results-table cell: the criterion's value in a row, formatted."""
    return lambda row: plain(format_value(criterion, row[criterion.name]))


def _columns(result: Any) -> list[tuple[str, Callable[[Any], str]]]:
    """The optional columns of the results table, most important first: (header, cell).

    The lead's criteria by weight (:func:`terminal_criteria`), then the municipality.
    """
    from sitematch import schema as s
    from sitematch.criteria import format_value

    cols: list[tuple[str, Callable[[Any], str]]] = []
    for c in terminal_criteria(result.profile):
        if c.name in result.ranked.columns and c.kind == "category":  # words, not codes: J → industri
            cols.append((plain(c.short_label), _cell(c, lambda c, v: code_word(c.name, v, c))))
        elif c.name in result.ranked.columns:
            cols.append((plain(c.short_label), _cell(c, format_value)))
    cols.append(("municipality", lambda row: plain(result.run.municipality(row[s.MUNICIPALITY_CODE]))))
    return cols


def _heading(result: Any, lang: str | None = None) -> str:
    """The answer in one line (wrapped at the terminal's width, not the table's)."""
    from sitematch.i18n import gettext_for

    _ = gettext_for(lang)
    counts = {"ranked": len(result.ranked), "sites": len(result.sites)}
    return f"{plain(result.profile.name)}: " + _("%(ranked)s of %(sites)s sites meet every requirement") % counts


def _top_table(result: Any, top: int, width: int) -> Table:
    """The best sites as a table that fits ``width`` columns: never without rank and score."""
    from sitematch import schema as s

    ranked = result.ranked.head(top)
    t = Table()
    t.add_column("rank", justify="right", no_wrap=True)
    t.add_column("score", justify="right", no_wrap=True)
    t.add_column("plot", no_wrap=True, overflow="ellipsis", max_width=16)
    rows = [(str(row["rank"]), f"{row['score']:.1f}", plain(row[s.PLOT_ID])) for _, row in ranked.iterrows()]
    used = 4 + sum(max([len(h), *(len(r[i]) for r in rows)]) + 3 for i, h in enumerate(("rank", "score", "plot")))
    cells: list[list[str]] = [list(r) for r in rows]
    words = {plain(c.short_label) for c in terminal_criteria(result.profile) if c.kind == "category"}
    for header, cell in _columns(result):
        values = [cell(row) for _, row in ranked.iterrows()]
        need = min(max([len(header), *(len(v) for v in values)]), 16) + 3
        if used + need > width:  # the rest weigh less: never keep a lighter column for a heavier one
            break
        used += need
        left = header == "municipality" or header in words
        t.add_column(header, justify="left" if left else "right", no_wrap=True, overflow="ellipsis", max_width=16)
        for row_cells, value in zip(cells, values, strict=True):
            row_cells.append(value)
    for row_cells in cells:
        t.add_row(*row_cells)
    return t


def _summary(result: Any, target: Path, near_shown: int = 5, *, lang: str | None = None) -> list[tuple[int, str]]:
    """What to say under the table, as (indent, markup-safe text): counts, why few pass, the closest
    near misses, what to verify."""
    from sitematch import schema as s
    from sitematch.funnel import binding
    from sitematch.i18n import gettext_for, terminal_language

    _ = gettext_for(lang)
    lang = lang or terminal_language()
    lines = [
        (
            2,
            _("%(excluded)s excluded (%(near)s near misses), %(outside)s outside the region; written to %(target)s/")
            % {
                "excluded": len(result.excluded),
                "near": len(result.near_misses),
                "outside": result.outside_region,
                "target": plain(target),
            },
        )
    ]
    ranked_exactly = int(result.ranked["rank"].notna().sum()) if len(result.ranked) else 0
    if ranked_exactly < len(result.ranked):  # a staged run past its exact top
        lines.append(
            (
                2,
                _(
                    "The best %(exact)s have exact scores and ranks; the other %(others)s meet every requirement "
                    "and score below them (their score intervals are in ranking.csv)"
                )
                % {"exact": ranked_exactly, "others": len(result.ranked) - ranked_exactly},
            )
        )
    why = binding(result)
    if why is not None:
        lines.append((2, _("Why:") + f" {plain(why.sentence(lang))}"))
    near = result.closest(near_shown)  # never a dead end: the closest excluded sites when none is near
    if len(near):
        n_near = int(near["near_miss"].sum())
        if n_near == len(near):
            head = _("Closest near misses")
        elif n_near:
            head = _("Near misses, then the closest other excluded sites")
        else:
            head = _("No near miss; the closest excluded sites")
        lines.append((2, head + " " + _("(total shortfall = the sum over what each misses):")))
    for _i, row in near.iterrows():
        where = result.run.municipality(row[s.MUNICIPALITY_CODE])
        total = _("%(percent)s %% short in all") % {"percent": f"{float(row['shortfall']) * 100:.0f}"}
        lines.append(
            (4, f"{plain(row[s.PLOT_ID])} ({plain(where)}, {total}): {plain('; '.join(result.misses(row, lang)))}")
        )
    verify = int((result.ranked["to_verify"].fillna("") != "").sum()) if len(result.ranked) else 0
    if verify:
        lines.append((2, _("%(n)s ranked site(s) have values to verify (listed in the dossier)") % {"n": verify}))
    return lines


@main.command("match")
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path))
@_layers_option
@click.option("--store", default=None, help="Add the plots of a plot store (a .gpkg path or postgresql://…).")
@click.option(
    "--plots",
    "plots_mode",
    default="all",
    show_default=True,
    metavar="all|store-only|FOLDER",
    help="With --store: the region's plots and the store's (the store's win on the same plot_id), or the "
    "store's. Or a partitioned plots folder (sitematch plots partition) to match instead of the region's plots.",
)
@click.option(
    "--out",
    "out_dir",
    default=Path("out"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Write out/<lead>/map.html, ranking.csv, funnel.csv, ranking.gpkg, dossier.html here.",
)
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Sites to show on the terminal.")
@click.option("--no-map", is_flag=True, help="Skip the map (tables only).")
@click.option("--no-pdf", is_flag=True, help="Skip the PDF dossier (dossier.html is still written).")
@click.option(
    "--exact",
    "exact",
    type=click.Choice(["top", "all"]),
    default="top",
    show_default=True,
    help="top: the best sites and the near misses exact, the rest of a large run bounded (fast). "
    "all: every site's every value, score and rank exact (for region-wide tables of all plots).",
)
@click.option(
    "--excel", is_flag=True, help="Write the CSV files for Excel with Swedish settings (BOM, ';', decimal comma)."
)
@click.option(
    "--lang",
    type=click.Choice(["sv", "en"]),
    default=None,
    help="Language of the dossier (default: the lead's `lead: {language: sv}`, else English), of the terminal "
    "(default $SITEMATCH_LANG, else English) and, with --excel, of the CSV headers.",
)
@click.option(
    "--dask",
    "scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on a Dask cluster (tcp://host:8786). Its workers read the layers and the --plots folder "
    "themselves: both must be at the same absolute paths on every worker (one machine or a shared filesystem).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Run on a local Dask cluster of N worker processes (one thread each). Without a --plots folder "
    "the region's plots are partitioned to a temporary folder first.",
)
def match_cmd(
    profiles: tuple[Path, ...],
    layers_path: Path | None,
    store: str | None,
    plots_mode: str,
    out_dir: Path,
    top: int,
    no_map: bool,
    no_pdf: bool,
    excel: bool,
    lang: str | None,
    exact: str,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Rank every candidate site for one or more requirement profiles (YAML or JSON).

    \b
    Example:
      sitematch match scenarios/battery_plant.yaml --top 5
      sitematch match lead.yaml --store plots.gpkg --excel
      sitematch match lead.yaml --plots plots.parquet/ --workers 2
      sitematch match lead.yaml --exact all --no-map --no-pdf
      sitematch match lead.yaml --excel --lang sv
    """
    from sitematch.dispatch import match_layers, run_match
    from sitematch.export import ExportOptions, default_formats, folder_name, write_all
    from sitematch.profile import load_profile

    distributed = bool(scheduler or workers)
    layers = match_layers(layers_path, store=store, plots=plots_mode, distributed=distributed)
    loaded = [load_profile(p, registry=layers.registry) for p in profiles]  # every profile valid before any work
    for profile in loaded:
        for warning in profile.warnings:
            console.print(f"[yellow]warning:[/] {plain(warning)}", highlight=False, soft_wrap=True)
    formats = [f for f in default_formats() if not (no_map and f == "map") and not (no_pdf and f == "pdf")]
    if "pdf" not in formats and not no_pdf:
        console.print(
            "[yellow]note:[/] no dossier.pdf: printing it needs Debian's chromium (apt-get install chromium) "
            "and Playwright (pip install 'sitematch[pdf]'); dossier.html is written.",
            highlight=False,
        )
    options = ExportOptions(csv_dialect="excel" if excel else "plain", language=lang)
    steps_per_profile = 3 + len(loaded[0].requirements) + len(loaded[0].preferences) + len(formats)
    with _progress() as bar:
        task = bar.add_task("matching", total=len(loaded) * steps_per_profile)
        results: list[tuple[Any, Path]] = []
        for profile in loaded:

            def step(name: str, profile: Any = profile) -> None:
                bar.update(task, description=plain(f"{folder_name(profile)}: {name}"), advance=1)

            def writing(name: str, step: Callable[[str], None] = step) -> None:
                step(f"writing {name}")

            result = run_match(
                profile,
                layers,
                layers_path=layers_path,
                plots=plots_mode,
                scheduler=scheduler,
                workers=workers,
                exact=exact,
                progress=step,
            )
            target = out_dir / folder_name(profile)
            write_all(
                result,
                layers,
                target,
                formats,
                options=options,
                progress=writing,
            )
            bar.update(task, completed=(len(results) + 1) * steps_per_profile)
            results.append((result, target))
    screen = _out()
    for result, target in results:
        screen.print(_heading(result, lang), highlight=False)
        if len(result.ranked):
            screen.print(_top_table(result, top, screen.width))
        for indent, line in _summary(result, target, lang=lang):
            screen.print(Padding(line, (0, 0, 0, indent), expand=False), highlight=False)


@main.group("profile")
def profile_group() -> None:
    """Check profiles and publish their JSON Schema."""


@profile_group.command("check")
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path))
@_layers_option
def profile_check_cmd(profiles: tuple[Path, ...], layers_path: Path) -> None:
    """Validate profiles against the region's criteria; print what each requires and prefers.

    \b
    Example:
      sitematch profile check scenarios/*.yaml
    """
    from sitematch.layers.catalogue import region_registry
    from sitematch.profile import load_profile

    registry = region_registry(layers_path)
    for path in profiles:
        p = load_profile(path, registry=registry)
        _out().print(f"{plain(path)}: valid — {plain(p.name)}", highlight=False)
        for r in p.requirements:
            _out().print(f"  requires {plain(r.describe())}", highlight=False)
        for pr in p.preferences:
            _out().print(f"  prefers  {plain(pr.describe())}", highlight=False)


@profile_group.command("schema")
@_layers_option
def profile_schema_cmd(layers_path: Path) -> None:
    """Print the profile's JSON Schema (for editors: yaml-language-server, VS Code, web forms).

    \b
    Example:
      sitematch profile schema > profile.schema.json
    """
    import json

    from sitematch.layers.catalogue import region_registry
    from sitematch.profile import profile_schema

    click.echo(json.dumps(profile_schema(region_registry(layers_path)), indent=2, ensure_ascii=False))


@main.command("criteria")
@_layers_option
def criteria_cmd(layers_path: Path) -> None:
    """List the criteria a profile can use on a region: name, kind, unit, how it is measured.

    \b
    Example:
      sitematch criteria --layers layers
    """
    from sitematch.layers.catalogue import region_registry

    registry = region_registry(layers_path)
    t = Table(title=f"criteria ({len(registry)})", title_justify="left")
    for header in ("criterion", "kind", "unit", "measured as"):
        t.add_column(header, overflow="fold")
    for c in registry:
        values = f" ({', '.join(c.values)})" if c.values else ""
        t.add_row(plain(c.name), c.kind, plain(c.unit), plain(c.measure.describe() + values))
    _out().print(t)
    params = ", ".join(f"{p.name} = {p.default:g}" for p in registry.parameters.values())
    _out().print(f"parameters (defaults): {plain(params)}", highlight=False)


@main.group("layers")
def layers_group() -> None:
    """Inspect and build the spatial layers."""


@layers_group.command("build-demo")
@click.option(
    "--out", "out_path", default=Path("layers/region.gpkg"), show_default=True, type=click.Path(path_type=Path)
)
@click.option("--year", default=2025, show_default=True, help="Membership year for the members table.")
def build_demo_cmd(out_path: Path, year: int) -> None:
    """Build the bundled Stockholm–Mälardalen region from the curated tables and data packages.

    \b
    Example:
      sitematch layers build-demo --out layers/region.gpkg
    """
    from sitematch.layers.build_demo import build_demo

    with console.status("building the demo region"):
        path = build_demo(out_path, year=year, progress=lambda msg: console.log(msg))
    _out().print(f"wrote {plain(path)}", highlight=False)


@layers_group.command("list")
@_layers_option
@click.option("--columns", "show_columns", is_flag=True, help="Also list each layer kind's columns.")
def list_layers_cmd(layers_path: Path, show_columns: bool) -> None:
    """List the layers, their row counts and where every row comes from.

    \b
    Example:
      sitematch layers list --columns --layers region
    """
    from sitematch.layers.region import open_region

    layers = open_region(layers_path)
    t = Table(title=plain(layers.origin), title_justify="left")
    for c in ("layer", "rows", "source", "licence", "date"):
        t.add_column(c, overflow="fold")
    for _, row in layers.provenance().iterrows():
        t.add_row(*(plain(row[c]) for c in ("layer", "rows", "source", "licence", "date")))
    _out().print(t)
    if show_columns:
        _print_columns(layers)


def _print_columns(layers: Any) -> None:
    """Each layer kind's columns (from the built-in kinds, the importers' and the region's catalogue)."""
    kinds = list(dict.fromkeys([*layers.catalogue.layers, *layers.kinds]))
    t = Table(title="columns (* required; every layer also has source* and licence*)", title_justify="left")
    for c in ("layer", "column", "type", "what it holds"):
        t.add_column(c, overflow="fold")
    for kind in kinds:
        schema = layers.schema(kind)
        if schema is None:
            continue
        if not schema.columns:
            t.add_row(plain(kind), "", plain(schema.geometry_type.lower()), plain(schema.description))
        for i, col in enumerate(schema.columns):
            name = f"{col.name}{'*' if col.required else ''}"
            t.add_row(plain(kind) if i == 0 else "", plain(name), col.dtype, plain(col.description))
    _out().print(t)


#: Commands that live in their own modules: name → (module, attribute), imported when run (or
#: listed by --help), so ``sitematch match`` does not load the service, the planner or the bench.
LAZY_COMMANDS = {
    "plots": ("sitematch.cli_plots", "plots"),
    "leads": ("sitematch.cli_leads", "leads"),
    "bench": ("sitematch.bench.cli", "bench"),
    "serve": ("sitematch.service.cli", "serve"),
    "users": ("sitematch.service.cli", "users"),
    "fit": ("sitematch.cli_planner", "fit_cmd"),
    "gaps": ("sitematch.cli_planner", "gaps_cmd"),
    "robustness": ("sitematch.cli_planner", "robustness_cmd"),
}


def _lazy_command(name: str) -> click.Command:
    import importlib

    module, attribute = LAZY_COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(module), attribute)
    return command


def _register_groups() -> None:
    """Add the command groups that live in their own modules (the others: :class:`_LazyGroup`)."""
    from sitematch.importers import cli as importers_cli  # small: the importers load their parts when run

    layers_group.add_command(importers_cli.import_cmd)


_register_groups()

if __name__ == "__main__":
    main()
