"""The ``sitematch`` command: a thin shell over the library.

Exit codes: 0 success; 1 the input was refused (bad profile, layer, upload — a clear message, no
traceback); 2 the command line itself was wrong (click's usage errors).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sitematch._terminal import plain
from sitematch.errors import SitematchError

console = Console(stderr=True)
#: Terminal output; at least 120 columns wide when piped, so tables stay readable in logs.
out = Console(width=None if Console().is_terminal else 120)


def flag(option: str) -> str:
    """The command-line flag for a library setting named in an error (``"accept_valid"`` → ``--accept-valid``)."""
    return "--" + option.replace("_", "-")


class _Group(click.Group):
    """A click group that turns every SitematchError into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitematchError as exc:
            how = f" (command line: {flag(exc.option)})" if exc.option else ""
            console.print(f"[bold red]error:[/] {plain(exc)}{how}", highlight=False, soft_wrap=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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


def _load_layers(layers_path: Path, store: str | None) -> Any:
    from sitematch.layers.layerset import LayerSet

    layers = LayerSet.from_path(layers_path)
    if store:
        from sitematch.store import open_store

        layers = layers.with_plots(open_store(store, create=False).plots(), origin=store)
    return layers


def _top_table(result: Any, top: int) -> Table:
    from sitematch import schema as s
    from sitematch.criteria import format_value

    p = result.profile
    ranked = result.ranked.head(top)
    title = f"{plain(p.name)}: {len(result.ranked)} of {len(result.sites)} sites meet every requirement"
    t = Table(title=title, title_justify="left")
    t.add_column("rank", justify="right")
    t.add_column("score", justify="right")
    t.add_column("plot", no_wrap=True)
    t.add_column("municipality", no_wrap=True)
    t.add_column("area", justify="right", no_wrap=True)
    shown = [pr.criterion for pr in p.preferences if pr.criterion.kind == "numeric" and pr.column != s.AREA_HA][:4]
    for c in shown:
        t.add_column(plain(c.short_label), justify="right", no_wrap=True)
    area = result.registry[s.AREA_HA]
    for _, row in ranked.iterrows():
        t.add_row(
            str(row["rank"]),
            f"{row['score']:.1f}",
            plain(row[s.PLOT_ID]),
            plain(result.run.municipality(row[s.MUNICIPALITY_CODE])),
            format_value(area, row[s.AREA_HA]),
            *[format_value(c, row[c.name]) for c in shown],
        )
    return t


def _layers_option(f: Callable[..., Any]) -> Callable[..., Any]:
    from sitematch import settings

    return click.option(
        "--layers",
        "layers_path",
        default=lambda: Path(settings.default_layers),
        show_default="the bundled region, or $SITEMATCH_LAYERS",
        type=click.Path(path_type=Path),
        help="Region: a folder with layers.yaml, a GeoPackage, or a folder of files by kind.",
    )(f)


@main.command("match")
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path))
@_layers_option
@click.option(
    "--store", default=None, help="Read plots from a plot store (a .gpkg path or postgresql://…) instead of the layers."
)
@click.option(
    "--out",
    "out_dir",
    default=Path("out"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Write out/<profile>/map.html, ranking.csv, ranking.gpkg, dossier.html here.",
)
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Sites to show on the terminal.")
@click.option("--no-map", is_flag=True, help="Skip the map (tables only).")
@click.option("--dask", "scheduler", default=None, metavar="ADDRESS", help="Run on a Dask cluster (tcp://host:8786).")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Run on a local Dask cluster of N workers.")
def match_cmd(
    profiles: tuple[Path, ...],
    layers_path: Path,
    store: str | None,
    out_dir: Path,
    top: int,
    no_map: bool,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Rank every candidate site for one or more requirement profiles (YAML or JSON).

    \b
    Example:
      sitematch match scenarios/battery_plant.yaml --top 5
      sitematch match scenarios/*.yaml --out out
    """
    from sitematch.export import FORMATS, write_all
    from sitematch.match import match
    from sitematch.profile import load_profile

    layers = _load_layers(layers_path, store)
    loaded = [load_profile(p, registry=layers.registry) for p in profiles]  # every profile valid before any work
    formats = [f for f in FORMATS if not (no_map and f == "map")]
    steps_per_profile = 3 + len(loaded[0].requirements) + len(loaded[0].preferences) + len(formats)
    with _progress() as bar:
        task = bar.add_task("matching", total=len(loaded) * steps_per_profile)
        results = []
        for profile in loaded:

            def step(name: str, profile: Any = profile) -> None:
                bar.update(task, description=plain(f"{profile.slug}: {name}"), advance=1)

            if scheduler or workers:
                from sitematch.distributed import match_distributed

                step("dask")
                result = match_distributed(profile, layers, scheduler_address=scheduler, n_workers=workers)
            else:
                result = match(profile, layers, progress=step)
            target = out_dir / profile.slug
            write_all(result, layers, target, formats, progress=lambda name, step=step: step(f"writing {name}"))
            bar.update(task, completed=(len(results) + 1) * steps_per_profile)
            results.append((result, target))
    for result, target in results:
        out.print(_top_table(result, top))
        nm = len(result.near_misses)
        out.print(
            f"  {len(result.excluded)} excluded ({nm} near misses), {result.outside_region} outside the region; "
            f"written to {plain(target)}/",
            highlight=False,
        )


def _registry(layers_path: Path) -> Any:
    """The criteria of a region: its catalogue's if it has one (read without loading the layers), else built-in."""
    from sitematch.criteria import BUILTIN
    from sitematch.layers.catalogue import CATALOGUE_FILE, read_catalogue

    if layers_path.name == CATALOGUE_FILE or (layers_path / CATALOGUE_FILE).is_file():
        return read_catalogue(layers_path).registry
    return BUILTIN


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
    from sitematch.profile import load_profile

    registry = _registry(layers_path)
    for path in profiles:
        p = load_profile(path, registry=registry)
        out.print(f"{plain(path)}: valid — {plain(p.name)}", highlight=False)
        for r in p.requirements:
            out.print(f"  requires {plain(r.describe())}", highlight=False)
        for pr in p.preferences:
            out.print(f"  prefers  {plain(pr.describe())}", highlight=False)


@profile_group.command("schema")
@_layers_option
def profile_schema_cmd(layers_path: Path) -> None:
    """Print the profile's JSON Schema (for editors: yaml-language-server, VS Code, web forms).

    \b
    Example:
      sitematch profile schema > profile.schema.json
    """
    import json

    from sitematch.profile import profile_schema

    click.echo(json.dumps(profile_schema(_registry(layers_path)), indent=2, ensure_ascii=False))


@main.command("criteria")
@_layers_option
def criteria_cmd(layers_path: Path) -> None:
    """List the criteria a profile can use on a region: name, kind, unit, how it is measured.

    \b
    Example:
      sitematch criteria --layers layers
    """
    registry = _registry(layers_path)
    t = Table(title=f"criteria ({len(registry)})", title_justify="left")
    for c in ("criterion", "kind", "unit", "measured as"):
        t.add_column(c, overflow="fold")
    for c in registry:
        values = f" ({', '.join(c.values)})" if c.values else ""
        t.add_row(plain(c.name), c.kind, plain(c.unit), plain(c.measure.describe() + values))
    out.print(t)
    params = ", ".join(f"{p.name} = {p.default:g}" for p in registry.parameters.values())
    out.print(f"parameters (defaults): {plain(params)}", highlight=False)


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
    out.print(f"wrote {plain(path)}", highlight=False)


@layers_group.command("list")
@_layers_option
def list_layers_cmd(layers_path: Path) -> None:
    """List the layers, their row counts and where every row comes from."""
    from sitematch.layers.layerset import LayerSet

    layers = LayerSet.from_path(layers_path)
    t = Table(title=plain(layers.origin), title_justify="left")
    for c in ("layer", "rows", "source", "licence", "date"):
        t.add_column(c, overflow="fold")
    for _, row in layers.provenance().iterrows():
        t.add_row(*(plain(row[c]) for c in ("layer", "rows", "source", "licence", "date")))
    out.print(t)


def _register_groups() -> None:
    """Add the command groups that live in their own modules."""
    from sitematch.bench.cli import bench
    from sitematch.cli_plots import plots
    from sitematch.importers import cli as importers_cli

    main.add_command(plots)
    main.add_command(bench)
    layers_group.add_command(importers_cli.import_cmd)


_register_groups()

if __name__ == "__main__":
    main()
