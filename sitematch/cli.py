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

from sitematch.errors import SitematchError

console = Console(stderr=True)
#: Terminal output; at least 120 columns wide when piped, so tables stay readable in logs.
out = Console(width=None if Console().is_terminal else 120)

DEFAULT_LAYERS = Path("layers")


class _Group(click.Group):
    """A click group that turns every SitematchError into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitematchError as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (to stderr).")
@click.version_option(package_name="sitematch")
def main(verbose: bool) -> None:
    """Match investor requirement profiles against establishment land.

    \b
    Example:
      sitematch match scenarios/battery_plant.yaml --out out
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


#: Short column headers for the terminal table.
SHORT_LABELS = {
    "grid_capacity_mw": "grid",
    "distance_to_motorway_junction_m": "→ junction",
    "distance_to_motorway_m": "→ motorway",
    "distance_to_rail_m": "→ rail",
    "distance_to_freight_terminal_m": "→ terminal",
    "distance_to_port_m": "→ port",
    "distance_to_airport_m": "→ airport",
    "distance_to_substation_m": "→ substation",
    "labour_pool_population": "labour pool",
    "price_sek_m2": "SEK/m²",
}


def _top_table(result: Any, top: int) -> Table:
    from sitematch import schema as s
    from sitematch.criteria import CRITERIA, format_value

    p = result.profile
    ranked = result.ranked.head(top)
    title = f"{p.name}: {len(result.ranked)} of {len(result.sites)} sites meet every requirement"
    t = Table(title=title, title_justify="left")
    t.add_column("rank", justify="right")
    t.add_column("score", justify="right")
    t.add_column("plot", no_wrap=True)
    t.add_column("municipality", no_wrap=True)
    t.add_column("area", justify="right", no_wrap=True)
    shown = [pr.criterion for pr in p.preferences if pr.criterion in SHORT_LABELS][:4]
    for c in shown:
        t.add_column(SHORT_LABELS[c], justify="right", no_wrap=True)
    names = _municipality_names(result)
    for _, row in ranked.iterrows():
        t.add_row(
            str(row["rank"]),
            f"{row['score']:.1f}",
            str(row[s.PLOT_ID]),
            names.get(str(row[s.MUNICIPALITY_CODE]), str(row[s.MUNICIPALITY_CODE])),
            format_value(CRITERIA[s.AREA_HA], row[s.AREA_HA]),
            *[format_value(CRITERIA[c], row[c]) for c in shown],
        )
    return t


def _municipality_names(result: Any) -> dict[str, str]:
    return result.meta.get("municipality_names", {})


@main.command("match")
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--layers",
    "layers_path",
    default=DEFAULT_LAYERS,
    show_default=True,
    type=click.Path(path_type=Path),
    help="Layer GeoPackage or folder (default: the bundled region).",
)
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
    """Rank every candidate site for one or more requirement profiles.

    \b
    Example:
      sitematch match scenarios/battery_plant.yaml --top 5
      sitematch match scenarios/*.yaml --out out
    """
    from sitematch.export import dossier, tables
    from sitematch.match import match
    from sitematch.profile import load_profile

    loaded = [load_profile(p) for p in profiles]  # validate every profile before any work
    layers = _load_layers(layers_path, store)
    munis = layers.get("municipalities")
    names = (
        dict(zip(munis["municipality_code"].astype(str), munis["municipality_name"].astype(str), strict=True))
        if munis is not None
        else {}
    )
    exporters: list[tuple[str, Callable[[Any, Path], Any]]] = [
        ("ranking.csv", lambda r, d: tables.write_csv(r, d / "ranking.csv")),
        ("ranking.gpkg", lambda r, d: tables.write_gpkg(r, d / "ranking.gpkg")),
    ]
    if not no_map:
        from sitematch.export.map import write_map

        exporters.append(("map.html", lambda r, d: write_map(r, layers, d / "map.html")))
    exporters.append(("dossier.html", lambda r, d: dossier.write_dossier(r, d / "dossier.html")))
    steps_per_profile = 12 + len(exporters)
    with _progress() as bar:
        task = bar.add_task("matching", total=len(loaded) * steps_per_profile)
        results = []
        for profile in loaded:

            def step(name: str, profile: Any = profile) -> None:
                bar.update(task, description=f"{profile.slug}: {name}", advance=1)

            if scheduler or workers:
                from sitematch.distributed import match_distributed

                step("dask")
                result = match_distributed(profile, layers, scheduler_address=scheduler, n_workers=workers)
            else:
                result = match(profile, layers, progress=step)
            result.meta["municipality_names"] = names
            target = out_dir / profile.slug
            target.mkdir(parents=True, exist_ok=True)
            for fname, export in exporters:
                step(f"writing {fname}")
                export(result, target)
            bar.update(task, completed=(len(results) + 1) * steps_per_profile)
            results.append((result, target))
    for result, target in results:
        out.print(_top_table(result, top))
        nm = len(result.near_misses)
        out.print(
            f"  {len(result.excluded)} excluded ({nm} near misses), {result.outside_region} outside the region; "
            f"written to {target}/",
            highlight=False,
        )


@main.group("layers")
def layers_group() -> None:
    """Inspect and build the spatial layers."""


@layers_group.command("build-demo")
@click.option(
    "--out", "out_path", default=DEFAULT_LAYERS / "region.gpkg", show_default=True, type=click.Path(path_type=Path)
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
    out.print(f"wrote {path}")


@layers_group.command("list")
@click.option("--layers", "layers_path", default=DEFAULT_LAYERS, show_default=True, type=click.Path(path_type=Path))
def list_layers_cmd(layers_path: Path) -> None:
    """List the layers, their row counts and where every row comes from."""
    from sitematch.layers.layerset import LayerSet

    layers = LayerSet.from_path(layers_path)
    t = Table(title=str(layers.origin), title_justify="left")
    for c in ("layer", "rows", "source", "licence"):
        t.add_column(c, overflow="fold")
    for _, row in layers.provenance().iterrows():
        t.add_row(row["layer"], str(row["rows"]), str(row["source"]), str(row["licence"]))
    out.print(t)


def _register_groups() -> None:
    """Add the command groups that live in their own modules."""
    from sitematch.bench.cli import bench
    from sitematch.cli_plots import plots

    main.add_command(plots)
    main.add_command(bench)


_register_groups()

if __name__ == "__main__":
    main()
