"""A writer process for the store tests: stores validated plots through the library.

Run as ``python -m tests._writers STORE PLOTS.parquet CODE [options]``. It prints ``ready`` once
loaded, waits for ``--go FILE`` to exist (so many writers start at once), and can pause inside store
creation (``--pause-in-create``, through ``GeoPackageStore(on_create=...)``) or inside its transaction
just before the commit (``--pause-before-commit``, through ``upload(before_commit=...)``; it prints
``paused`` first, so a test can kill it there).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd

from sitematch.store import open_store
from sitematch.store.gpkg import GeoPackageStore


def _say(word: str) -> None:
    print(word, flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("plots", type=Path)
    p.add_argument("code")
    p.add_argument("--go", type=Path)
    p.add_argument("--pause-in-create", type=float, default=0.0)
    p.add_argument("--pause-before-commit", type=float, default=0.0)
    a = p.parse_args(argv)
    plots = gpd.read_parquet(a.plots)
    if a.store.endswith(".gpkg"):
        store = GeoPackageStore(a.store, on_create=lambda _: time.sleep(a.pause_in_create))
    else:
        store = open_store(a.store)
    _say("ready")
    while a.go is not None and not a.go.exists():
        time.sleep(0.01)

    def before_commit() -> None:
        if a.pause_before_commit:
            _say("paused")
            time.sleep(a.pause_before_commit)

    summary = store.upload(plots, municipality_code=a.code, uploader=f"writer {a.code}", before_commit=before_commit)
    _say(f"stored {len(summary.inserted)}")


if __name__ == "__main__":
    main()
