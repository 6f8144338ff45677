"""``sitematch plots``: municipalities upload and look after their available plots.

The store is a GeoPackage file by default (``plots.gpkg``, or ``$SITEMATCH_STORE``), or a
``postgresql://`` URL for a shared server. This module parses arguments and presents results; every
decision is the library's (:mod:`sitematch.upload`, :mod:`sitematch.store`). Text from data (plot
names, references, uploaders, file names) is printed as plain text — never read as Rich markup —
with control characters (terminal escape sequences) removed.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sitematch import schema as s
from sitematch import settings
from sitematch._terminal import MessagesGroup, clean, code_word, flag

out = Console(width=None if Console().is_terminal else 120, emoji=False)
err = Console(stderr=True, emoji=False)

store_option = click.option(
    "--store",
    default=lambda: settings.store_path(),
    show_default="plots.gpkg or $SITEMATCH_STORE",
    help="Plot store: a .gpkg file or a postgresql:// URL.",
)


def _uploader() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _table(title: str, columns: Iterable[str], rows: Iterable[Iterable[object]], right: tuple[str, ...] = ()) -> Table:
    """A table of data: every cell plain text."""
    t = Table(title=Text(clean(title)), title_justify="left")
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left")
    for row in rows:
        t.add_row(*(Text(clean(v)) for v in row))
    return t


def _say(message: str) -> None:
    out.print(Text(clean(message)), highlight=False)


@click.group("plots", cls=MessagesGroup)
def plots() -> None:
    """Upload, check, list, export and withdraw municipalities' available plots.

    \b
    Example:
      sitematch plots check --municipality 1980 tomter.zip
      sitematch plots upload --municipality 1980 tomter.zip
      sitematch plots list --municipality 1980
    """


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--repair", is_flag=True, help="Repair invalid polygons with make_valid (and say so).")(f)
    f = click.option(
        "--mapping", type=click.Path(path_type=Path), help="YAML file mapping your columns to sitematch's."
    )(f)
    f = click.option("--crs", default=None, help="CRS of a file that declares none, e.g. EPSG:3006 or 3011.")(f)
    f = click.option("--municipality", "-m", required=True, help="Your kommunkod (4 digits), e.g. 1980.")(f)
    f = click.option(
        "--lang",
        type=click.Choice(["sv", "en"], case_sensitive=False),
        default=None,
        help="Language of the report (default: $SITEMATCH_LANG, else English).",
    )(f)
    return click.argument("file", type=click.Path(path_type=Path))(f)


@plots.command("check")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(
    file: Path,
    municipality: str,
    crs: str | None,
    mapping: Path | None,
    repair: bool,
    as_json: bool,
    lang: str | None = None,
) -> None:
    """Dry run: validate FILE and print every problem by row and field; write nothing.

    Exits 1 when the file has problems: exactly those an upload would be refused for.
    """
    from sitematch.i18n import terminal_language
    from sitematch.upload import check_file
    from sitematch.upload.words import report_text

    report = check_file(file, municipality_code=municipality, crs=crs, mapping=mapping, repair=repair)
    said = report_text(report, (lang or terminal_language()).lower(), option=flag)
    click.echo(clean(report.to_json() if as_json else said))
    sys.exit(0 if report.ok else 1)


@plots.command("upload")
@_common
@store_option
@click.option("--accept-valid", is_flag=True, help="Write the valid rows even if other rows have problems.")
@click.option("--uploader", default=_uploader, show_default="your user name", help="Who uploads (kept in the history).")
@click.option("--licence", default="supplied by the municipality", show_default=True, help="Licence of your data.")
@click.option("--report-json", type=click.Path(path_type=Path), help="Also write the validation report here as JSON.")
def upload_cmd(
    file: Path,
    municipality: str,
    crs: str | None,
    mapping: Path | None,
    repair: bool,
    store: str,
    accept_valid: bool,
    uploader: str,
    licence: str,
    report_json: Path | None,
    lang: str | None = None,
) -> None:
    """Validate FILE whole and store its plots: all rows or none (unless --accept-valid).

    Re-uploading a plot (same municipality and reference) updates it and keeps the old version.
    A refused upload writes nothing (and creates no store).
    """
    from sitematch.errors import UploadError
    from sitematch.i18n import terminal_language, translations
    from sitematch.store import open_store
    from sitematch.upload import upload_file
    from sitematch.upload.words import refusal_text, summary_text

    lang = (lang or terminal_language()).lower()

    try:
        summary = upload_file(
            open_store(store),
            file,
            municipality_code=municipality,
            uploader=uploader,
            crs=crs,
            mapping=mapping,
            accept_valid=accept_valid,
            repair=repair,
            licence=licence,
        )
    except UploadError as exc:
        if report_json is not None and exc.report is not None:
            report_json.write_text(exc.report.to_json(), encoding="utf-8")
        if exc.report is not None and lang != "en":  # the refusal and its report in the reader's language
            raise UploadError(  # the report is in the message: none attached (it would be printed in English)
                refusal_text(file.name, exc.report, lang), where=exc.where, option=exc.option
            ) from None
        raise
    stored = translations(lang).gettext("stored in %(store)s: %(summary)s")
    _say(stored % {"store": store, "summary": summary_text(summary, lang)})


@plots.command("list")
@store_option
@click.option("--municipality", "-m", default=None, help="Only this kommunkod.")
@click.option("--status", type=click.Choice(["active", "withdrawn", "all"]), default="active", show_default=True)
def list_cmd(store: str, municipality: str | None, status: Literal["active", "withdrawn", "all"]) -> None:
    """List the plots in the store."""
    from sitematch.store import open_store

    gdf = open_store(store, create=False).plots(status=status, municipality_code=municipality)
    shown = (s.PLOT_ID, s.NAME, s.AREA_HA, s.ZONING, s.PLAN_STATUS, s.OWNER, "status")
    rows = (
        (
            r[s.PLOT_ID],
            r[s.NAME],
            f"{r[s.AREA_HA]:g}",
            code_word(s.ZONING, r[s.ZONING]),  # words, not codes (J → industri)
            code_word(s.PLAN_STATUS, r[s.PLAN_STATUS]),
            code_word(s.OWNER, r[s.OWNER]),
            r.get("status", "active"),
        )
        for _, r in gdf.iterrows()
    )
    out.print(_table(f"{store}: {len(gdf)} plots", shown, rows, right=(s.AREA_HA,)))


@plots.command("history")
@store_option
@click.argument("plot_id")
def history_cmd(store: str, plot_id: str) -> None:
    """Show every version of PLOT_ID (e.g. 1980:P01), oldest first."""
    from sitematch.store import open_store

    h = open_store(store, create=False).history(plot_id)
    shown = ("version", "status", "uploaded_at", "uploader", "name", "area_ha", "zoning", "plan_status", "valid_to")
    rows = ([code_word(c, r[c]) if c in (s.ZONING, s.PLAN_STATUS) else r[c] for c in shown] for _, r in h.iterrows())
    out.print(_table(f"{plot_id}: {len(h)} versions", shown, rows))


@plots.command("withdraw")
@store_option
@click.argument("plot_id")
@click.option("--reason", default="", help="Why (sold, reserved, …).")
@click.option("--uploader", default=_uploader, show_default="your user name")
def withdraw_cmd(store: str, plot_id: str, reason: str, uploader: str) -> None:
    """Mark PLOT_ID withdrawn; it stays in the store and its history."""
    from sitematch.store import open_store

    open_store(store, create=False).withdraw(plot_id, uploader=uploader, reason=reason)
    _say(f"{plot_id} withdrawn")


@plots.command("export")
@store_option
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--municipality", "-m", default=None, help="Only this kommunkod.")
def export_cmd(store: str, target: Path, municipality: str | None) -> None:
    """Export the active plots to TARGET: .gpkg (EPSG:3006), .geojson (EPSG:4326) or .csv (WKT, EPSG:3006)."""
    from sitematch.store import export_plots, open_store

    gdf = open_store(store, create=False).plots(municipality_code=municipality)
    export_plots(gdf, target)
    _say(f"wrote {len(gdf)} plots to {target}")


@plots.command("partition")
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--layers",
    "layers_path",
    default=None,
    type=click.Path(path_type=Path),
    show_default="$SITEMATCH_LAYERS, the config file, or the bundled region",
    help="Region whose plots to write.",
)
@click.option("--store", default=None, help="Add the active plots of this plot store (a .gpkg path or postgresql://…).")
@click.option(
    "--plots",
    "plots_mode",
    type=click.Choice(["all", "store-only"]),
    default="all",
    show_default=True,
    help="With --store: the region's plots and the store's, or the store's alone.",
)
@click.option("--partitions", default=None, type=click.IntRange(min=1), help="Files to write (default: by size).")
@click.option("--overwrite", is_flag=True, help="Replace TARGET if it is a partitioned plots folder.")
def partition_cmd(
    target: Path, layers_path: Path | None, store: str | None, plots_mode: str, partitions: int | None, overwrite: bool
) -> None:
    """Write the plots as spatially sorted GeoParquet partitions to the folder TARGET (for Dask workers).

    The folder is written whole or not at all. Put it where every worker reads it at the same
    absolute path (this machine, or a shared filesystem).

    \b
    Example:
      sitematch plots partition plots.parquet/ --store plots.gpkg --partitions 8
      sitematch match lead.yaml --plots plots.parquet/ --workers 2
    """
    from sitematch.partition import read_manifest, write_partitioned
    from sitematch.store.region import open_region

    layers = open_region(layers_path, store=store, plots=plots_mode)
    folder = write_partitioned(layers["plots"], target, partitions, overwrite=overwrite)
    manifest = read_manifest(folder)
    _say(f"wrote {manifest.rows} plots in {len(manifest.parts)} partitions to {folder}/")
