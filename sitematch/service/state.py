"""What one running service holds: where its region, plot store and data are, and its database.

Built once by :func:`sitematch.service.app.create_app` and reached by routes through the
:func:`service` dependency.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fastapi import Request

from sitematch import settings
from sitematch.criteria import Registry
from sitematch.layers.layerset import LayerSet
from sitematch.layers.region import open_region
from sitematch.leads import LeadBook
from sitematch.service.accounts import Accounts
from sitematch.service.db import Database
from sitematch.service.logins import LoginGate
from sitematch.service.records import Records

log = logging.getLogger(__name__)


@dataclass
class ServiceConfig:
    """Where the service's things are.

    Attributes
    ----------
    layers : str or pathlib.Path or None
        The region (default :func:`sitematch.settings.layers_path`).
    store : str
        The plot store: a ``.gpkg`` path or a ``postgresql://`` URL (default: ``$SITEMATCH_STORE``,
        the ``SITEMATCH_STORE_FILE`` secret, the config file, or ``plots.gpkg``).
    data_dir : pathlib.Path
        Accounts, audit log and stored matches (default ``settings.service_data_dir``).
    profiles_dir : pathlib.Path or None
        Profiles offered to every adviser (default ``settings.service_profiles_dir``).
    """

    layers: str | Path | None = None
    store: str = field(default_factory=lambda: settings.secret("store") or settings.store_path())
    data_dir: Path = field(default_factory=lambda: Path(settings.service_data_dir))
    profiles_dir: Path | None = field(
        default_factory=lambda: Path(settings.service_profiles_dir) if settings.service_profiles_dir else None
    )


class Service:
    """The running service's state: config, database, accounts, stored profiles and matches."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.db = Database(Path(config.data_dir) / "service.sqlite")
        self.accounts = Accounts(self.db)
        self.logins = LoginGate(self.accounts)
        self.records = Records(self.db)
        self.matches_dir = Path(config.data_dir) / "matches"
        self.uploads_dir = Path(config.data_dir) / "uploads"

    @cached_property
    def region(self) -> LayerSet:
        """The region's layers without the store's plots (read once: for criteria and map bases)."""
        return open_region(self.config.layers)

    @property
    def registry(self) -> Registry:
        """The criteria of the region (its catalogue's, else the built-in ones)."""
        return self.region.registry

    @cached_property
    def leads(self) -> LeadBook:
        """The lead log (its tables and outbox live in the service database)."""
        return LeadBook(self.db.connect, self.db.read)

    def start_outbox(self) -> threading.Event:
        """The lead process's background work in one thread: send the outbox's due messages (when an
        SMTP server is configured; otherwise they wait in the outbox and show in the pages) and, once
        a day, remind municipalities of requests due soon. The returned event stops it."""
        from sitematch.leads import OutboxSender

        sender = None
        if settings.service_smtp_host:
            sender = OutboxSender(
                self.db.connect, settings.service_smtp_host, settings.service_smtp_port, settings.service_mail_from
            )
        stop = threading.Event()

        def work() -> None:
            reminded = ""
            while not stop.is_set():
                try:
                    today = dt.date.today().isoformat()
                    if today != reminded:
                        self.leads.remind(today)
                        reminded = today
                    if sender is not None:
                        sender.send_due()
                except sqlite3.Error as exc:  # a busy database: try again at the next poll
                    log.warning("lead notifications: database not available (%s)", type(exc).__name__)
                stop.wait(settings.service_outbox_poll_s)

        threading.Thread(target=work, name="lead-notifications", daemon=True).start()
        return stop

    def start(self) -> None:
        """Prepare folders, remove the upload folders a stopped server left, and read the profiles folder."""
        self.leads  # noqa: B018 (creates the lead log's tables)
        self.matches_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        removed = clean_uploads(self.uploads_dir)
        if removed:
            log.info("removed %d upload folder(s) left by a server that stopped", removed)
        if self.config.profiles_dir is not None:
            self.records.load_folder(self.config.profiles_dir, self.registry)


def upload_prefix() -> str:
    """How this process's temporary upload folders begin: its process id (see :func:`clean_uploads`)."""
    return f"{os.getpid()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_uploads(folder: Path) -> int:
    """Remove the temporary upload folders of server processes that are no longer running.

    Each upload is kept in a folder named after the process that reads it (``<pid>-…``); one whose
    process is gone was left by a server that was killed mid-upload. Folders of running processes
    (other workers of the same service) are kept.

    Returns
    -------
    int
        How many folders were removed.
    """
    removed = 0
    for entry in folder.iterdir() if folder.is_dir() else ():
        pid, sep, _ = entry.name.partition("-")
        if sep and pid.isdigit() and _running(int(pid)):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def service(request: Request) -> Service:
    """The dependency that gives a route the running service."""
    return request.app.state.service
