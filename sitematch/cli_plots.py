"""``sitematch plots``: municipalities upload and look after their available plots.

The store is a GeoPackage file by default (``plots.gpkg``, or ``$SITEMATCH_STORE``), or a
``postgresql://`` URL for a shared server.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from sitematch import schema as s

out = Console(width=None if Console().is_terminal else 120)
err = Console(stderr=True)

store_option = click.option(
    "--store",
    default=lambda: os.environ.get("SITEMATCH_STORE", "plots.gpkg"),
    show_default="plots.gpkg or $SITEMATCH_STORE",
    help="Plot store: a .gpkg file or a postgresql:// URL.",
)


def _uploader() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.group("plots")
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
    return click.argument("file", type=click.Path(path_type=Path))(f)


@plots.command("check")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_cmd(
    file: Path, municipality: str, crs: str | None, mapping: Path | None, repair: bool, as_json: bool
) -> None:
    """Dry run: validate FILE and print every problem by row and field; write nothing.

    Exits 1 when the file has problems.
    """
    from sitematch.upload import check_file

    report = check_file(file, municipality_code=municipality, crs=crs, mapping=mapping, repair=repair)
    click.echo(report.to_json() if as_json else report.to_text())
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
) -> None:
    """Validate FILE whole and store its plots: all rows or none (unless --accept-valid).

    Re-uploading a plot (same municipality and reference) updates it and keeps the old version.
    """
    from sitematch.errors import UploadError
    from sitematch.store import open_store
    from sitematch.upload import upload_file

    target = open_store(store)
    try:
        summary = upload_file(
            target,
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
        raise
    out.print(f"stored in {store}: {summary.describe()}", highlight=False)


@plots.command("list")
@store_option
@click.option("--municipality", "-m", default=None, help="Only this kommunkod.")
@click.option("--status", type=click.Choice(["active", "withdrawn", "all"]), default="active", show_default=True)
def list_cmd(store: str, municipality: str | None, status: str) -> None:
    """List the plots in the store."""
    from sitematch.store import open_store

    gdf = open_store(store, create=False).plots(status=status, municipality_code=municipality)  # type: ignore[arg-type]
    t = Table(title=f"{store}: {len(gdf)} plots", title_justify="left")
    for col in ("plot_id", "name", "area_ha", "zoning", "plan_status", "owner", "status"):
        t.add_column(col, justify="right" if col == "area_ha" else "left")
    for _, r in gdf.iterrows():
        t.add_row(
            r[s.PLOT_ID],
            str(r[s.NAME] or ""),
            f"{r[s.AREA_HA]:g}",
            r[s.ZONING],
            r[s.PLAN_STATUS],
            r[s.OWNER],
            str(r.get("status", "active")),
        )
    out.print(t)


@plots.command("history")
@store_option
@click.argument("plot_id")
def history_cmd(store: str, plot_id: str) -> None:
    """Show every version of PLOT_ID (e.g. 1980:P01), oldest first."""
    from sitematch.store import open_store

    h = open_store(store, create=False).history(plot_id)
    t = Table(title=f"{plot_id}: {len(h)} versions", title_justify="left")
    shown = ("version", "status", "uploaded_at", "uploader", "area_ha", "zoning", "plan_status", "valid_to")
    for col in shown:
        t.add_column(col)
    for _, r in h.iterrows():
        t.add_row(*["" if pd.isna(r[c]) else str(r[c]) for c in shown])
    out.print(t)


@plots.command("withdraw")
@store_option
@click.argument("plot_id")
@click.option("--reason", default="", help="Why (sold, reserved, …).")
@click.option("--uploader", default=_uploader, show_default="your user name")
def withdraw_cmd(store: str, plot_id: str, reason: str, uploader: str) -> None:
    """Mark PLOT_ID withdrawn; it stays in the store and its history."""
    from sitematch.store import open_store

    open_store(store, create=False).withdraw(plot_id, uploader=uploader, reason=reason)
    out.print(f"{plot_id} withdrawn", highlight=False)


@plots.command("export")
@store_option
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--municipality", "-m", default=None, help="Only this kommunkod.")
def export_cmd(store: str, target: Path, municipality: str | None) -> None:
    """Export the active plots to TARGET: .gpkg (EPSG:3006), .geojson (EPSG:4326) or .csv (WKT, EPSG:3006)."""
    from sitematch.store import export_plots, open_store

    gdf = open_store(store, create=False).plots(municipality_code=municipality)
    export_plots(gdf, target)
    out.print(f"wrote {len(gdf)} plots to {target}", highlight=False)
