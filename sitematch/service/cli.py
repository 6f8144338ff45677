"""``sitematch serve`` (the web service with uvicorn) and ``sitematch users`` (accounts and API tokens)."""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sitematch import settings
from sitematch._terminal import MessagesGroup, clean

if TYPE_CHECKING:  # imported where used: `sitematch --help` does not load the service
    from sitematch.service.accounts import Accounts
    from sitematch.service.state import ServiceConfig


def _config(layers: Path | None, store: str | None, data: Path | None, profiles: Path | None) -> ServiceConfig:
    from sitematch.service.state import ServiceConfig

    config = ServiceConfig(layers=layers)
    if store:
        config.store = store
    if data:
        config.data_dir = data
    if profiles:
        config.profiles_dir = profiles
    return config


def _data_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--data",
        type=click.Path(path_type=Path),
        default=None,
        show_default="$SITEMATCH_DATA or sitematch-data",
        help="Folder of the service's accounts, audit log and matches.",
    )(f)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (behind a reverse proxy).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--layers", "layers", type=click.Path(path_type=Path), default=None, help="Region (default: bundled).")
@click.option(
    "--store",
    default=None,
    show_default="$SITEMATCH_STORE, $SITEMATCH_STORE_FILE, or plots.gpkg",
    help="Plot store: a .gpkg file or a postgresql:// URL.",
)
@_data_option
@click.option("--profiles", type=click.Path(path_type=Path), default=None, help="Profiles offered to every adviser.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="uvicorn worker processes.")
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    help="Let uvicorn trust X-Forwarded-For/-Proto from --forwarded-allow-ips (off: a local process could forge them; "
    "links use SITEMATCH_PUBLIC_URL).",
)
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning"]),
    default="info",
    show_default=True,
    help="Log level of the service and uvicorn (logs carry ids, never a lead's name, company or contact).",
)
def serve(
    host: str,
    port: int,
    layers: Path | None,
    store: str | None,
    data: Path | None,
    profiles: Path | None,
    workers: int,
    proxy_headers: bool,
    forwarded_allow_ips: str,
    log_level: str,
) -> None:
    """Run the web service: pages, JSON API (/docs), OGC API Features (/ogc).

    \b
    Example:
      sitematch users add admin --role admin
      sitematch serve --profiles scenarios --store plots.gpkg
      sitematch serve --store postgresql://sitematch@db/sitematch --host 127.0.0.1 --port 8000
    """
    import uvicorn

    from sitematch.service.app import create_app

    config = _config(layers, store, data, profiles)
    level = getattr(logging, log_level.upper())
    logging.getLogger().setLevel(level)
    logging.getLogger("sitematch").setLevel(level)
    app = create_app(config)  # a bad configuration is refused before listening
    if workers > 1:  # each worker process builds its app from the same settings, passed in the environment
        for name, value in (("LAYERS", layers), ("STORE", store), ("DATA", data), ("PROFILES", profiles)):
            if value:
                os.environ[f"SITEMATCH_{name}"] = str(value)
    uvicorn.run(
        "sitematch.service.app:create_app" if workers > 1 else app,
        host=host,
        port=port,
        workers=workers,
        factory=workers > 1,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
    )


@click.group("users", cls=MessagesGroup)
def users() -> None:
    """Create and remove the service's accounts; make API tokens.

    \b
    Example:
      sitematch users add anna --role municipality:1980
      sitematch users token anna --name qgis
      sitematch users list
    """


def _accounts(data: Path | None) -> Accounts:
    from sitematch.service.accounts import Accounts
    from sitematch.service.db import Database

    return Accounts(Database(Path(data or settings.service_data_dir) / "service.sqlite"))


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, help="adviser, planner, admin or municipality:<kommunkod>.")
@click.option(
    "--password-file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Read the password from this file (else $SITEMATCH_PASSWORD, else asked for).",
)
@_data_option
def add_cmd(username: str, role: str, password_file: Path | None, data: Path | None) -> None:
    """Create an account (its password is never an argument: it would stay in the shell's history)."""
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        password = settings.secret("password") or getpass.getpass(f"password for {username}: ")
    user = _accounts(data).add(username, role, password)
    click.echo(f"added {clean(user.username)} ({user.role})")


@users.command("remove")
@click.argument("username")
@_data_option
def remove_cmd(username: str, data: Path | None) -> None:
    """Delete an account, its tokens and sessions."""
    _accounts(data).remove(username)
    click.echo(f"removed {clean(username)}")


@users.command("list")
@_data_option
def list_cmd(data: Path | None) -> None:
    """List the accounts and their roles."""
    import time

    accounts = _accounts(data)
    locked = accounts.locked(time.time())
    for user in accounts.all():
        note = "\tlocked" if user.username in locked else ""
        click.echo(f"{clean(user.username)}\t{user.role}{note}")


@users.command("token")
@click.argument("username")
@click.option("--name", default="token", show_default=True, help="To tell the account's tokens apart.")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    show_default="$SITEMATCH_TOKEN_DAYS or 90",
    help="How long the token lasts.",
)
@click.option(
    "--rotate", "rotate", default=None, metavar="ID", help="Replace the token with this id (it stops working)."
)
@_data_option
def token_cmd(username: str, name: str, days: float | None, rotate: str | None, data: Path | None) -> None:
    """Create an API token for USERNAME and print it (once: only its hash is kept)."""
    accounts = _accounts(data)
    if rotate:
        token_id, token = accounts.rotate_token(username, rotate, days=days)
    else:
        token_id, token = accounts.create_token(username, name, days=days)
    expires = next(t["expires_at"] for t in accounts.tokens(username) if t["id"] == token_id)
    click.echo(token)
    click.echo(
        f"token {token_id} for {clean(username)}, expires {expires}; send it as: Authorization: Bearer <token>",
        err=True,
    )


@users.command("unlock")
@click.argument("username")
@_data_option
def unlock_cmd(username: str, data: Path | None) -> None:
    """Lift USERNAME's login lock after failed logins (a running service sees it at once)."""
    _accounts(data).unlock(username)
    click.echo(f"unlocked {clean(username)}")
