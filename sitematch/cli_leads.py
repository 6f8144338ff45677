"""``sitematch leads``: the lead log from the command line (list, show, and the yearly figures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.table import Table

from sitematch import settings
from sitematch._terminal import plain

if TYPE_CHECKING:  # imported where used: `sitematch --help` does not load the lead log
    from sitematch.leads import LeadBook


def _book(data: Path | None) -> LeadBook:
    from sitematch.leads import LeadBook, sqlite_connect

    folder = Path(data or settings.service_data_dir)
    path = folder / "service.sqlite"
    if not path.exists():
        raise click.ClickException(
            f"{folder}: no service database here (service.sqlite); name the service's data folder with --data"
        )
    return LeadBook(sqlite_connect(str(path)))


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: write YYYY-MM-DD", param_hint=name) from None


_data = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    show_default="$SITEMATCH_DATA or sitematch-data",
    help="The service's data folder.",
)


@click.group("leads")
def leads() -> None:
    """The lead log: leads, their status, requests to municipalities and the figures.

    \b
    Example:
      sitematch leads list --data /srv/sitematch-data
      sitematch leads export --from 2026-01-01 --to 2026-12-31 --out kpi/ --excel
    """


@leads.command("list")
@_data
def list_cmd(data: Path | None) -> None:
    """Every lead, newest first: id, reference, sector, source, status (no company or contact)."""
    from sitematch._terminal import console as _out

    t = Table(title="Leads", box=box.SIMPLE_HEAD)
    for c in ("id", "reference", "sector", "source", "status"):
        t.add_column(c, overflow="fold", no_wrap=c in ("id", "reference", "status"))
    for lead in _book(data).leads():
        t.add_row(lead.id, plain(lead.reference), plain(lead.sector), lead.source, lead.status)
    _out().print(t)


@leads.command("show")
@click.argument("lead_id")
@_data
def show(lead_id: str, data: Path | None) -> None:
    """One lead: its status history, profile versions, matches and requests."""
    from sitematch._terminal import console as _out

    book = _book(data)
    from sitematch.leads import LeadError

    try:
        lead = book.lead(lead_id)
    except LeadError as exc:
        raise click.ClickException(str(exc)) from None
    out = _out()
    out.print(f"{plain(lead.reference)} ({plain(lead.sector)}, {lead.source}): {lead.status}", markup=False)
    t = Table(title="Status history")
    for c in ("at", "status", "by", "reason"):
        t.add_column(c, overflow="fold")
    for step in lead.history:
        t.add_row(step.at, step.status, plain(step.by), plain(step.reason))
    out.print(t)
    versions = book.profiles(lead.id)
    out.print(f"Profile versions: {len(versions)}; matches: {len(book.matches(lead.id))}", markup=False)
    r = Table(title="Requests")
    for c in ("municipality", "sent", "reply by", "answered", "sites", "answers"):
        r.add_column(c, overflow="fold")
    for req in book.requests(lead_id=lead.id):
        sent = [a["answer"] for a in req.answers.values() if a["state"] == "sent"]
        name = plain(req.body.get("municipality_name", ""))
        r.add_row(
            f"{req.municipality_code} {name}".strip(),
            req.created_at[:10],
            req.reply_by,
            (req.answered_at or "—")[:10],
            str(len(req.plot_ids)),
            ", ".join(sent) or "—",
        )
    out.print(r)


@leads.command("export")
@click.option("--from", "start", default=None, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", default=None, help="Last day of the period (YYYY-MM-DD).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder for the CSV files.")
@click.option("--excel", is_flag=True, help="CSV for Excel with Swedish settings (BOM, ';', decimal comma).")
@_data
def export(start: str | None, end: str | None, out_dir: Path, excel: bool, data: Path | None) -> None:
    """The partnership's figures for a period as CSV: per municipality, sector, source and lead."""
    from sitematch.leads.kpi import write_report

    start, end = _date(start, "--from"), _date(end, "--to")
    if start and end and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}", param_hint="--from")
    for path in write_report(_book(data), out_dir, start=start, end=end, dialect="excel" if excel else "plain"):
        click.echo(f"wrote {path}")
