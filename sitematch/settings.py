"""Process-level settings: every knob in one place, read at call time.

Change a setting by assigning to it (``sitematch.settings.staged_above = 20_000``); modules read
``settings.<name>`` when they run, never a copy taken at import. Environment variables override
the defaults named below when the process starts.

Engine
------
staged_above : int
    Above this many sites, :func:`sitematch.matching.score_sites` evaluates in stages with early exit
    (the same results for ranked sites and near misses; see :mod:`sitematch.evaluate`). Default 5000.
radius_chunk : int
    Sites per chunk in within-radius queries, which can return many pairs per site. Default 100 000.
kernel_min_sites : int
    Queries of at least this many sites go through KD-tree candidates and the NumPy kernel
    (:mod:`sitematch.kernel`); smaller ones through the STRtree (GEOS), which needs no SciPy.
    Both give the same distances (to 1e-6 m). Default 2000.
layers_cache_dir : str or None
    A folder where a region read from files is kept, validated, between processes, keyed by
    the files' paths, sizes and modification times and the catalogue (:mod:`sitematch.layers.disk_cache`):
    ``$SITEMATCH_LAYERS_CACHE``; default ``$XDG_CACHE_HOME/sitematch/layers`` (``~/.cache``);
    ``off`` turns it off.
logistic_steepness : float
    Steepness of the logistic value function between its breakpoints. Default 10.
exact_top : int
    In staged evaluation, how many of the best ranked sites are exact in every value (score,
    rank, every criterion); further ranked sites have exact ranks only where their scores are
    proven, and are labelled (``exact`` False, score and values as intervals). At least
    ``map_max_polygons``. ``$SITEMATCH_EXACT_TOP``; default 1000.
screen_cell_m : float
    Cell size of the screening rasters that bound every site's distances and radius aggregates
    (:mod:`sitematch.screen`); smaller cells give tighter bounds and take longer to build.
    Default 250.
screen_radius_cap_m : float
    Sites whose bounding box reaches further than this from its centre get no aggregate bounds
    (they are measured exactly). Default 1000.
screen_cache_dir : str or None
    A folder to keep screening rasters in between processes (memory-mapped when read, so Dask
    workers on one machine share them): ``$SITEMATCH_SCREEN_CACHE``; default none (in memory).

Uploads and stores
------------------
boundary_tolerance_m : float
    How far outside its municipality's boundary an uploaded plot may reach. The bundled SCB
    boundaries are simplified (edges ~5 km, off by ~1 km), so the check needs this slack. Default 2000.
lock_timeout_s : float
    Seconds a store writer waits for another writer's transaction before giving up. Default 120.
upload_max_bytes : int
    Largest upload file read, in bytes. Default 200 MB.
upload_max_unpacked_bytes : int
    Most bytes the members of a zipped upload may unpack to, as their zip directory declares
    (checked before anything is unpacked). Default 1 GB.
upload_max_text_chars : int
    Longest text a plot field (reference, name…) may hold. Default 1000.
upload_read_timeout_s : float
    Seconds reading one upload may take before it is stopped and refused. Default 120.
default_store : str or None
    The plot store used when none is given: ``$SITEMATCH_STORE``; else ``store`` in a config file;
    else ``plots.gpkg``. See :func:`store_path`.

Layers
------
default_layers : str or None
    The region used when none is given: ``$SITEMATCH_LAYERS``; else ``layers`` in a config file;
    else the bundled Stockholm–Mälardalen region that ships inside the package, so the command
    works from any folder. See :func:`layers_path`.

Web service
-----------
service_data_dir : str
    Where ``sitematch serve`` keeps its accounts, audit log and stored matches (an SQLite file and
    one folder per match): ``$SITEMATCH_DATA``, default ``sitematch-data``.
service_profiles_dir : str or None
    A folder of profiles (YAML/JSON) the service offers as stored profiles: ``$SITEMATCH_PROFILES``.
service_match_timeout_s : float
    Seconds one match (with its exports) may run before it is stopped and refused. Default 120.
service_match_workers : int
    Matches run at the same time, each in its own worker process; further ones queue. Default 2.
service_match_waiting : int
    Matches that may wait for a worker, in all; one more is refused (503 with ``Retry-After``).
    Default 8.
service_match_waiting_per_user : int
    Matches one account may have waiting; one more is refused (503 with ``Retry-After``). Default 4.
service_upload_threads : int
    Uploads read, validated and written at the same time; further ones wait their turn. Default 2.
service_upload_nice : int
    How much lower than the rest of the service uploads run on the processors (a ``nice`` increment
    for their threads and reader processes, 0–19): an adviser's match, which costs seconds of
    processor time, is not slowed by many municipalities uploading at once, whose uploads cost a
    fraction of a second each. 0 turns it off. Default 15.
service_session_hours : float
    How long a login lasts. Default 12.
service_cookie_secure : bool
    Send the session cookie over HTTPS only (``$SITEMATCH_COOKIE_SECURE=0`` turns it off, for a
    server reached over plain HTTP other than localhost). Default True.
service_smtp_host : str or None
    The SMTP server the lead process's notifications are sent through (``$SITEMATCH_SMTP_HOST``);
    none: notifications are only shown in the pages, and the outbox keeps the messages.
service_smtp_port : int
    Its port (``$SITEMATCH_SMTP_PORT``). Default 25.
service_mail_from : str
    The From address of notifications (``$SITEMATCH_MAIL_FROM``). Default ``sitematch@localhost``.
service_outbox_poll_s : float
    Seconds between the outbox sender's looks for due messages (``$SITEMATCH_OUTBOX_POLL_S``). Default 5.
service_share_days : int
    How long a shortlist link shared with an investor works, by default. Default 30.
service_items_limit, service_items_max_limit : int
    OGC API Features: items per page when the client asks for none, and the most it may ask for.
    Defaults 10 and 1000.
service_public_url : str or None
    The service's public base URL (``https://sitematch.example.se``), from which OGC API links are
    built: ``$SITEMATCH_PUBLIC_URL``. Unset, links name the address the server listens on (never
    the request's ``Host`` header).
service_trusted_proxies : tuple of str
    Addresses of reverse proxies whose ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` headers are
    believed when no public URL is set: ``$SITEMATCH_TRUSTED_PROXIES`` (comma-separated). Default none.
service_login_free_failures : int
    Wrong passwords an account may have in a row before each further one locks it for a while
    (1 s, then doubling). Default 5.
service_login_lockout_s : float
    The longest an account (or an address) stays locked after failed logins: the back-off's cap.
    An admin lifts an account's lock (``sitematch users unlock``, or the accounts page). Default 900.
service_login_address_free_failures : int
    Failed logins from one address (any account names) before that address backs off the same
    way (in memory, per process). Default 20.
service_login_verify_slots : int
    Password verifications (argon2, CPU-heavy) run at the same time; a login beyond them is
    answered 503 within a quarter of a second, with ``Retry-After``, and counts against its address.
    Default 1 (one argon2 check already uses several cores' worth of work on a small server).
service_login_refusal_delay_s : float
    A refused login (wrong password, 429, 503) is answered after this long — waited on the event
    loop, costing no thread and no CPU — so a flood of guesses slows to the pace of its answers.
    Default 1.
service_token_days : float
    Lifetime of a new API token, in days (``$SITEMATCH_TOKEN_DAYS``). Default 90.
service_allowed_origins : tuple of str
    Origins (``https://host``) besides the service's own that may post the login form, for a
    proxy that rewrites the Host header (``$SITEMATCH_ALLOWED_ORIGINS``, comma-separated).

Secrets (a PostgreSQL URL with a password, an account's first password) are read by
:func:`secret`: from ``$SITEMATCH_<NAME>``, or from the file ``$SITEMATCH_<NAME>_FILE`` names
(Docker and systemd credentials) — never from the repository.

Config file
-----------
``sitematch.toml`` in the working directory, else ``$XDG_CONFIG_HOME/sitematch/config.toml``
(``~/.config/sitematch/config.toml``), may set ``layers`` and ``store``; relative paths are
relative to the file::

    layers = "/srv/sitematch/region"
    store = "postgresql://sitematch@db/sitematch"

Maps
----
map_max_polygons : int
    Ranked sites drawn as polygons; further ranked sites are drawn as clustered points, and at most
    this many excluded sites are drawn per layer. Default 500.
map_max_points : int
    Most ranked sites drawn as clustered points beyond the polygons. Default 20 000.
map_max_labels : int
    Ranked sites that get a rank badge. Default 50.
"""

from __future__ import annotations

import os
import sys
import tomllib
from importlib.resources import files
from pathlib import Path


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number from the environment; a value that is not one is reported and the default used.

    Settings are read when sitematch is imported, before any command can print a message: a
    mistyped variable must not stop every command with a traceback.

    Examples
    --------
    >>> os.environ["SITEMATCH_EXAMPLE_N"] = "12 000"
    >>> env_int("SITEMATCH_EXAMPLE_N", 5)  # doctest: +SKIP
    sitematch: SITEMATCH_EXAMPLE_N='12 000' is not a whole number of at least 0; using 5
    5
    >>> os.environ["SITEMATCH_EXAMPLE_N"] = "12_000"
    >>> env_int("SITEMATCH_EXAMPLE_N", 5)
    12000
    >>> del os.environ["SITEMATCH_EXAMPLE_N"]
    """
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        print(
            f"sitematch: {name}={shown!r} is not a whole number of at least {minimum}; using {default}",
            file=sys.stderr,
        )
        return default
    return value


staged_above: int = env_int("SITEMATCH_STAGED_ABOVE", 5000)
radius_chunk: int = 100_000
kernel_min_sites: int = 2000
logistic_steepness: float = 10.0
exact_top: int = env_int("SITEMATCH_EXACT_TOP", 1000, minimum=1)
screen_cell_m: float = 250.0
screen_radius_cap_m: float = 1000.0
screen_cache_dir: str | None = os.environ.get("SITEMATCH_SCREEN_CACHE")
layers_cache_dir: str | None = os.environ.get("SITEMATCH_LAYERS_CACHE")

boundary_tolerance_m: float = 2000.0
lock_timeout_s: float = 120.0
upload_max_bytes: int = 200_000_000
upload_max_unpacked_bytes: int = 1_000_000_000
upload_max_text_chars: int = 1000
upload_read_timeout_s: float = 120.0
default_store: str | None = os.environ.get("SITEMATCH_STORE")

default_layers: str | None = os.environ.get("SITEMATCH_LAYERS")

service_data_dir: str = os.environ.get("SITEMATCH_DATA", "sitematch-data")
service_profiles_dir: str | None = os.environ.get("SITEMATCH_PROFILES")
service_match_timeout_s: float = 120.0
service_match_workers: int = 2
service_match_waiting: int = 8
service_match_waiting_per_user: int = 4
service_upload_threads: int = 2
service_upload_nice: int = 15
service_session_hours: float = 12.0
service_cookie_secure: bool = os.environ.get("SITEMATCH_COOKIE_SECURE", "1") != "0"
service_smtp_host: str | None = os.environ.get("SITEMATCH_SMTP_HOST")
service_smtp_port: int = env_int("SITEMATCH_SMTP_PORT", 25, minimum=1)
service_mail_from: str = os.environ.get("SITEMATCH_MAIL_FROM", "sitematch@localhost")
service_outbox_poll_s: float = env_int("SITEMATCH_OUTBOX_POLL_S", 5, minimum=1)
service_share_days: int = 30
service_items_limit: int = 10
service_items_max_limit: int = 1000
service_public_url: str | None = os.environ.get("SITEMATCH_PUBLIC_URL") or None
service_trusted_proxies: tuple[str, ...] = tuple(
    a.strip() for a in os.environ.get("SITEMATCH_TRUSTED_PROXIES", "").split(",") if a.strip()
)
service_login_free_failures: int = 5
service_login_lockout_s: float = 900.0
service_login_address_free_failures: int = 20
service_login_verify_slots: int = 1
service_login_refusal_delay_s: float = 1.0
service_token_days: float = float(os.environ.get("SITEMATCH_TOKEN_DAYS") or 90)
service_allowed_origins: tuple[str, ...] = tuple(
    o.strip().rstrip("/") for o in os.environ.get("SITEMATCH_ALLOWED_ORIGINS", "").split(",") if o.strip()
)

map_max_polygons: int = 500
map_max_points: int = 20_000
map_max_labels: int = 50


def config_file() -> Path | None:
    """The config file in use: ``./sitematch.toml``, else the user's, else None."""
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for candidate in (Path("sitematch.toml"), home / "sitematch" / "config.toml"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _configured(key: str) -> str | None:
    path = config_file()
    if path is None:
        return None
    from sitematch.errors import SitematchError

    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get(key)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SitematchError(f"{path}: not a readable TOML config file: {exc}", where=str(path)) from None
    if value is None:
        return None
    if "://" in str(value) or Path(str(value)).is_absolute():
        return str(value)
    return str(path.parent / str(value))


def bundled_region() -> Path:
    """The folder of the bundled Stockholm–Mälardalen region, inside the installed package."""
    return Path(str(files("sitematch") / "_region"))


def layers_path() -> Path:
    """The region to use when none is given: $SITEMATCH_LAYERS, the config file, or the bundled one.

    Examples
    --------
    >>> (layers_path() / "layers.yaml").is_file()
    True
    """
    chosen = default_layers or _configured("layers")
    return Path(chosen) if chosen else bundled_region()


def store_path() -> str:
    """The plot store to use when none is given: $SITEMATCH_STORE, the config file, or ``plots.gpkg``."""
    return default_store or _configured("store") or "plots.gpkg"


def secret(name: str) -> str | None:
    """A secret from ``$SITEMATCH_<NAME>``, else from the file ``$SITEMATCH_<NAME>_FILE`` names; else None.

    A file's trailing newline is dropped.

    Examples
    --------
    >>> import os, tempfile
    >>> path = tempfile.mkstemp()[1]
    >>> _ = open(path, "w").write("s3cret\\n")
    >>> os.environ["SITEMATCH_EXAMPLE_FILE"] = path
    >>> secret("example")
    's3cret'
    >>> del os.environ["SITEMATCH_EXAMPLE_FILE"]
    """
    key = f"SITEMATCH_{name.upper()}"
    if os.environ.get(key):
        return os.environ[key]
    path = os.environ.get(f"{key}_FILE")
    if not path:
        return None
    from sitematch.errors import SitematchError

    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SitematchError(f"{key}_FILE={path}: cannot read the secret: {exc}", where=path) from None
