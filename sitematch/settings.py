"""Process-level settings: every knob in one place, read at call time.

Change a setting by assigning to it (``sitematch.settings.staged_above = 20_000``); modules read
``settings.<name>`` when they run, never a copy taken at import. Environment variables override
the defaults named below when the process starts.

Engine
------
staged_above : int
    Above this many sites, :func:`sitematch.match.score_sites` evaluates in stages with early exit
    (the same results for ranked sites and near misses; see :mod:`sitematch.evaluate`). Default 5000.
radius_chunk : int
    Sites per chunk in within-radius queries, which can return many pairs per site. Default 100 000.
logistic_steepness : float
    Steepness of the logistic value function between its breakpoints. Default 10.

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
default_store : str
    The plot store used when none is given: ``$SITEMATCH_STORE`` or ``plots.gpkg``.

Layers
------
default_layers : str
    The region used when none is given: ``$SITEMATCH_LAYERS`` or ``layers`` (the bundled region's
    folder, relative to the working directory).

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

staged_above: int = int(os.environ.get("SITEMATCH_STAGED_ABOVE", "5000"))
radius_chunk: int = 100_000
logistic_steepness: float = 10.0

boundary_tolerance_m: float = 2000.0
lock_timeout_s: float = 120.0
upload_max_bytes: int = 200_000_000
upload_max_unpacked_bytes: int = 1_000_000_000
upload_max_text_chars: int = 1000
upload_read_timeout_s: float = 120.0
default_store: str = os.environ.get("SITEMATCH_STORE", "plots.gpkg")

default_layers: str = os.environ.get("SITEMATCH_LAYERS", "layers")

map_max_polygons: int = 500
map_max_points: int = 20_000
map_max_labels: int = 50
