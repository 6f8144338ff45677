"""Run the ``ogctests`` suite (OGC API Features Part 1 Core, and its Part 2 CRS check) against a server.

``python tests/_ogctests.py URL TOKEN REPORT.xml``: the suite's own tests, with an HTTP client that
sends the API token (the service answers nobody without one), and a JUnit report to read.

One adaptation, for a bug in how the suite reads a feature, not in the service: it gives GDAL a
feature's GeoJSON text as a ``str``, which GDAL (3.12) takes for a file name and cuts at the
first ``;`` — and the region's plots say where they come from in a sentence with a semicolon.
The same text given as bytes is read whole; nothing the suite asserts changes.
"""

from __future__ import annotations

import sys

import geopandas
import httpx

_read_file = geopandas.read_file


def _read_text_as_bytes(data, *args, **kwargs):  # type: ignore[no-untyped-def]
    if isinstance(data, str) and data.lstrip().startswith("{"):
        data = data.encode("utf-8")
    kwargs.pop("driver", None)
    return _read_file(data, *args, **kwargs)


def main(url: str, token: str, report: str, scope: str = "features/core") -> int:
    from ogctests.main import run_ogctests

    geopandas.read_file = _read_text_as_bytes
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    flags = ["-p", "no:cacheprovider", "-q", "-rA", "-W", "ignore", f"--junitxml={report}"]
    return run_ogctests(scope, instance_url=url, flags=flags, test_client=client)


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
