"""What one running service holds: where its region, plot store and data are, and its database.

Built once by :func:`sitematch.service.app.create_app` and reached by routes through the
:func:`service` dependency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fastapi import Request

from sitematch import settings
from sitematch.criteria import Registry
from sitematch.layers.layerset import LayerSet
from sitematch.layers.region import open_region
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

    def start(self) -> None:
        """Prepare folders and read the profiles folder, if any."""
        self.matches_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        if self.config.profiles_dir is not None:
            self.records.load_folder(self.config.profiles_dir, self.registry)


def service(request: Request) -> Service:
    """The dependency that gives a route the running service."""
    return request.app.state.service  # type: ignore[no-any-return]
