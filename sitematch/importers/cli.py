"""``sitematch layers import <source> FILE…``: a thin shell over :func:`sitematch.importers.import_files`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sitematch._terminal import plain

console = Console(stderr=True, emoji=False)
out = Console(width=None if Console().is_terminal else 120, emoji=False)


class _ImportCommand(click.Command):
    """The import command, whose help lists the sources from the importer registry (read at help time)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        from sitematch.importers import describe_importers

        with formatter.section("Sources"):
            formatter.write_dl([(name, f"{title} → {writes}") for name, title, writes in describe_importers()])


def _source(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A registered importer's name or a dotted path; anything else is a usage error (exit 2)."""
    from sitematch.importers import importer_class
    from sitematch.importers._base import SourceError

    try:
        importer_class(value)
    except SourceError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command("import", cls=_ImportCommand)
@click.argument("source", callback=_source)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Region folder: layer files are written there and its layers.yaml created or updated.",
)
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False), help="YAML mapping laid over the default.")
@click.option("--crs", default=None, help="CRS of files that declare none, e.g. EPSG:3011 or 3021.")
def import_cmd(source: str, files: tuple[Path, ...], out_dir: Path, mapping: Path | None, crs: str | None) -> None:
    """Import a national source or an OpenStreetMap extract into a region folder.

    SOURCE is a registered importer (below; see docs/importers.md) or the dotted path of one
    outside sitematch (mypackage.myimporter).

    \b
    Example:
      sitematch layers import osm sweden-latest.osm.pbf --out region
      sitematch layers import ebh ebh_vastmanland.geojson --out region
      sitematch layers import capacity kapacitet.csv --out region --mapping ellevio.yaml
      sitematch match lead.yaml --layers region
    """
    from sitematch.importers import import_files

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} objects"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(f"importing {source}", total=None)

        def progress(what: str, done: int, total: int | None) -> None:
            bar.update(task, description=plain(what), completed=done, total=total)

        report = import_files(source, list(files), out_dir, mapping=mapping, crs=crs, progress=progress)
    for line in report.lines():
        out.print(plain(line), highlight=False, soft_wrap=True)
