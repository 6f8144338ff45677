"""Write the sites' layers of ``ranking.gpkg`` from an Arrow file, in a process of its own.

GDAL holds Python's lock while it inserts rows, so in the exporting process the GeoPackage and
the CSV would take turns; in a child process the GeoPackage's inserts run beside the CSV on the
other core (:func:`sitematch.export.tables.write_tables`). Run as
``python .../_gpkg_child.py TABLE.arrow OUT.gpkg N_RANKED [CRS]`` (as a file: it imports only
Arrow and pyogrio, not sitematch).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

GEOMETRY = "geometry"


def write_site_layers(table: Any, path: Path, n_ranked: int, crs: str | None) -> None:
    """Layers ``ranked`` (the first ``n_ranked`` rows) and ``excluded`` (the rest) of ``table`` into ``path``.

    The file is new (a temporary one, renamed into place by the caller once whole): SQLite's
    journal and syncs are off — neither protects anything there, both cost time.
    """
    import pyogrio

    keys = ("OGR_SQLITE_JOURNAL", "OGR_SQLITE_SYNCHRONOUS")
    before = {k: pyogrio.get_gdal_config_option(k) for k in keys}
    pyogrio.set_gdal_config_options(dict.fromkeys(keys, "OFF"))
    try:
        for layer, part in (("ranked", table.slice(0, n_ranked)), ("excluded", table.slice(n_ranked))):
            pyogrio.write_arrow(
                part,
                path,
                layer=layer,
                driver="GPKG",
                geometry_name=GEOMETRY,
                geometry_type="MultiPolygon" if part.column(GEOMETRY).null_count < part.num_rows else "Unknown",
                crs=crs,
            )
    finally:
        pyogrio.set_gdal_config_options(before)


def main(argv: list[str]) -> int:
    """Entry point: ``TABLE.arrow OUT.gpkg N_RANKED [CRS]``; exit 0 when written."""
    import pyarrow as pa

    source, out, n_ranked = argv[0], Path(argv[1]), int(argv[2])
    crs = argv[3] if len(argv) > 3 and argv[3] else None
    with pa.memory_map(source) as mapped:  # no copy: GDAL reads the columns from the mapped file
        table = pa.ipc.open_file(mapped).read_all()
        write_site_layers(table, out, n_ranked, crs)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by write_tables in a child process
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder's modules (tables, map, pdf…) must not stand in for top-level ones
    sys.exit(main(sys.argv[1:]))
