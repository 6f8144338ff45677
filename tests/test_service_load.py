"""A bounded load test: 20 concurrent clients run matches and uploads for 30 s against ``sitematch serve``.

First, in the same run and on the same server, a lone match is timed (the median of three, with
nothing else going on); under load a match's p50 is to stay within :data:`WITHIN` times that
(reported; asserted within :data:`GUARD` times, a guard that holds on a machine loaded by other
work). What depends little on the machine's load is asserted more tightly: the CPU time a match
takes in its worker process under load stays within :data:`CPU_GUARD` times a lone one's.

On loopback only, and it stops by itself (a deadline, and a timeout on every request). Once with
the GeoPackage store, once with PostGIS (a throwaway server on loopback). A quarter of the clients
are advisers running matches, the rest the municipality of Västerås uploading: each upload renames the
two example plots and its client's own plot. Afterwards no answer may have been a 5xx, and the store
must hold exactly what the successful uploads wrote — one version of the example plot per upload, and
of each client's plot one version per upload of that client: nothing lost, nothing partial.

The matches under load and the lone ones see the same plots: each uploading client's plot is
uploaded once before the lone matches are timed, and the uploads under load only make new versions.
(Until 2026-12-08 every upload added a plot, so a match under load ranked up to 90 sites more than the
lone match it was compared with: 25 % more CPU, measured, mistaken for contention.)

The latencies (p50, p95, the lone match's) go to ``bench/service.md`` when ``SITEMATCH_WRITE_BENCH=1``
(else to the test's folder), and from there into ``bench/results.md``'s service section
(:func:`sitematch.bench.report.service_section`); they are printed too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from sitematch import settings
from sitematch.bench.report import service_section, with_service_section
from sitematch.store import open_store
from tests._postgis import postgis_url  # noqa: F401 - the fixture
from tests._service import QUICK_PROFILE, ROOT, auth, serve

pytestmark = pytest.mark.slow

CLIENTS = 20
SECONDS = 30.0
#: Clients running matches (the rest upload): a match costs seconds of CPU, an upload a fraction of one.
MATCHERS = 5
#: The target: a match's p50 under load within this many times a lone match's (reported, see below).
WITHIN = 3.0
#: What the test asserts: far above the target, so that it holds on a machine loaded by other work
#: (the lone match and the load then meet different loads), far below the 16-27x of matches sharing
#: the server's process and threads.
GUARD = 15.0
#: A match's CPU time (in its worker process) under load may be at most this many times a lone one's:
#: the work of a match does not grow with the load (no region read again, no lock or GIL to fight).
#: Not 1: CPU seconds do grow on a busy machine (shared caches, a hyper-thread sibling at work, the
#: clock lowered): 2.2 times was seen once with eight other test runs on the same two cores.
CPU_GUARD = 3.0
#: Lone matches timed before the load (their median is "a lone match").
LONE_RUNS = 3
HEADER = "Objekt_ID,Benämning,Användning,Planstatus,Ägare,Areal_ha,Byggklar,Pris_kr_kvm,lon,lat\n"
RESULTS: dict[str, dict[str, list[float]]] = {}


def _upload_file(client: int, n: int) -> bytes:
    """Upload ``n`` of ``client``: a new name for the two example plots and for the client's own plot."""
    version = client * 1000 + n  # every upload renames the plots: a new version of each
    lon = 16.40 + 0.004 * client
    lat = 59.58 + 0.002 * (n % 20)
    rows = [
        f"Å-1,Finnslätten östra {version},J,laga_kraft,kommun,12.5,ja,450,16.5050,59.6290",
        f"Å-2,Hacksta verksamhetsområde {version},Z,antagen,privat,6.0,nej,,16.4700,59.5900",
        f"L{client},Load test plot {version},J,laga_kraft,kommun,2.0,ja,100,{lon:.4f},{lat:.4f}",
    ]
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8")


async def _client(url: str, token: str, kind: str, index: int, end: float, log: list) -> None:
    async with httpx.AsyncClient(base_url=url, headers=auth(token), timeout=120) as http:
        n = 1  # upload 0 of each client was the seed
        while time.monotonic() < end:
            started = time.perf_counter()
            if kind == "match":
                r = await http.post("/api/matches", json={"profile": QUICK_PROFILE})
            else:
                files = {"file": (f"load-{index}-{n}.csv", _upload_file(index, n), "text/csv")}
                r = await http.post("/api/plots", files=files)
            log.append((kind, r.status_code, time.perf_counter() - started, index, n, r.text[:300]))
            n += 1


def _seed(url: str, token: str) -> int:
    """Upload each uploading client's plot once (its upload 0), before anything is timed; how many uploads."""
    with httpx.Client(base_url=url, headers=auth(token), timeout=120) as http:
        for client in range(MATCHERS, CLIENTS):
            files = {"file": (f"seed-{client}.csv", _upload_file(client, 0), "text/csv")}
            r = http.post("/api/plots", files=files)
            assert r.status_code == 201, r.text[:300]
    return CLIENTS - MATCHERS


async def _load(url: str, tokens: dict[str, str]) -> list:
    log: list = []
    end = time.monotonic() + SECONDS
    tasks = [
        _client(
            url, tokens["bo"] if i < MATCHERS else tokens["anna"], "match" if i < MATCHERS else "upload", i, end, log
        )
        for i in range(CLIENTS)
    ]
    await asyncio.gather(*tasks)
    return log


def _check(log: list, store: str, seeded: int) -> None:
    assert log, "no request was made"
    failures = [entry for entry in log if entry[1] >= 500]
    assert failures == [], failures[:3]
    uploads = [e for e in log if e[0] == "upload"]
    assert uploads and all(e[1] == 201 for e in uploads), [e for e in uploads if e[1] != 201][:3]
    assert all(e[1] == 201 for e in log if e[0] == "match")
    opened = open_store(store, create=False)
    ids = set(opened.plots()["plot_id"])
    own = {f"1980:L{client}" for client in range(MATCHERS, CLIENTS)}
    assert ids == {"1980:Å-1", "1980:Å-2"} | own  # every client's plot, and nothing else
    history = opened.history("1980:Å-1")
    assert len(history) == seeded + len(uploads)  # one version per upload (each renamed it): none lost
    assert list(history["version"]) == list(range(1, seeded + len(uploads) + 1))
    for client in range(MATCHERS, CLIENTS):  # the client's own plot: its seed, then one version per upload
        mine = [e for e in uploads if e[3] == client]
        versions = opened.history(f"1980:L{client}")
        assert len(versions) == 1 + len(mine), (client, len(versions), len(mine))
        names = [str(v) for v in versions.sort_values("version")["name"]]
        assert names[-1] == f"Load test plot {client * 1000 + max([e[4] for e in mine], default=0)}"


def _lone(url: str, token: str) -> float:
    """Seconds one match takes with nothing else going on (the median of :data:`LONE_RUNS`, after one to warm up)."""
    times = []
    with httpx.Client(base_url=url, headers=auth(token), timeout=120) as http:
        for i in range(LONE_RUNS + 1):
            started = time.perf_counter()
            r = http.post("/api/matches", json={"profile": QUICK_PROFILE})
            assert r.status_code == 201, r.text[:300]
            if i:
                times.append(time.perf_counter() - started)
    return float(np.median(times))


def _match_cpu(server_log: str) -> tuple[float, float]:
    """Median CPU seconds of a match in its worker: the lone ones (and the warm-up), then those under load."""
    cpu = [float(x) for x in re.findall(r"match \w+: layers .*; CPU ([0-9.]+) s", server_log)]
    lone, loaded = cpu[: LONE_RUNS + 1], cpu[LONE_RUNS + 1 :]
    assert len(lone) == LONE_RUNS + 1 and loaded, cpu
    return float(np.median(lone[1:])), float(np.median(loaded))


def _percentiles(log: list) -> dict[str, tuple[int, float, float]]:
    out = {}
    for kind in ("match", "upload"):
        times = np.array([e[2] for e in log if e[0] == kind])
        out[kind] = (len(times), float(np.percentile(times, 50)), float(np.percentile(times, 95)))
    return out


def _report(name: str, log: list, lone_s: float, cpu: tuple[float, float], tmp: Path) -> None:
    RESULTS[name] = {**_percentiles(log), "lone": lone_s, "cpu": cpu}  # type: ignore[dict-item]
    lines = [
        "# Web service under load",
        "",
        f"`tests/test_service_load.py`: {CLIENTS} concurrent clients for {SECONDS:.0f} s against one "
        f"`sitematch serve` process (uvicorn, loopback): {MATCHERS} advisers running a match of the bundled region "
        f"(with its exports: map, dossier, CSV, GeoPackage), {CLIENTS - MATCHERS} municipality clients uploading a "
        "3-row CSV (each a new version of two shared plots and of the client's own plot). "
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores (shared with other work); "
        "latency in seconds, from request to answer, queueing included. Matches run in "
        f"`settings.service_match_workers` = {settings.service_match_workers} worker processes behind a bounded queue "
        "(`docs/service.md`); the lone match is the median of three timed on the same server just before the load, "
        f"with nothing else going on. Target: match p50 within {WITHIN:g}× the lone match. Load average "
        f"(1 min) at the end of the last run: {os.getloadavg()[0]:.1f}. Match CPU: the median CPU seconds one "
        "match took in its worker process, alone / under load (the work of a match; the rest of its latency is "
        "waiting for a worker and for the cores).",
        "",
        "| store | requests | 5xx | lone match | match n | match p50 | p50 / lone | target | match p95 "
        "| match CPU | upload n | upload p50 | upload p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for store, values in RESULTS.items():
        (mn, m50, m95), (un, u50, u95) = values["match"], values["upload"]  # type: ignore[misc]
        lone = float(values["lone"])  # type: ignore[arg-type]
        lines.append(
            f"| {store} | {mn + un} | 0 | {lone:.2f} | {mn} | {m50:.2f} | {m50 / lone:.1f}× "
            f"| {'met' if m50 <= WITHIN * lone else 'missed'} | {m95:.2f} "
            f"| {values['cpu'][0]:.2f} / {values['cpu'][1]:.2f} | {un} "
            f"| {u50:.2f} | {u95:.2f} |"
        )
    lines += [
        "",
        "The lone matches and those under load rank the same plots: each uploading client's plot was uploaded "
        "once before the lone matches, and every upload under load is a new version of the client's plot and "
        "of the two shared plots. After each run the store held one version of the shared plots per upload and "
        "of each client's plot one per upload of that client: nothing lost. (Until 2026-12-08 each upload added "
        "a plot, so matches under load ranked up to 90 more sites than the lone match: 25 % more CPU, measured.)",
    ]
    write = os.environ.get("SITEMATCH_WRITE_BENCH") == "1"
    target = ROOT / "bench" / "service.md" if write else tmp / "service.md"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if write:
        results = ROOT / "bench" / "results.md"
        results.write_text(
            with_service_section(results.read_text(encoding="utf-8"), service_section(Path("bench/service.md"))),
            encoding="utf-8",
        )
    print("\n".join(lines))


@pytest.mark.parametrize("backend", ["GeoPackage", "PostGIS"])
def test_twenty_clients_for_thirty_seconds(backend, tmp_path, request) -> None:
    store = str(tmp_path / "plots.gpkg")
    if backend == "PostGIS":
        store = _fresh_database(request.getfixturevalue("postgis_url"))
    with serve(tmp_path, store=store) as server:
        seeded = _seed(server.url, server.tokens["anna"])
        lone_s = _lone(server.url, server.tokens["bo"])
        log = asyncio.run(_load(server.url, server.tokens))
    _check(log, store, seeded)
    cpu = _match_cpu(server.log.read_text(encoding="utf-8", errors="replace"))
    _report(backend, log, lone_s, cpu, tmp_path)
    assert cpu[1] <= CPU_GUARD * cpu[0], f"a match's CPU: {cpu[0]:.2f} s alone, {cpu[1]:.2f} s under load"
    match_p50 = _percentiles(log)["match"][1]
    assert match_p50 <= GUARD * lone_s, f"match p50 {match_p50:.2f} s, lone match {lone_s:.2f} s"


def _fresh_database(url: str) -> str:
    """A database of its own on the throwaway server, so that other tests' plots are not counted."""
    import psycopg

    name = f"load_{int(time.time() * 1000)}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"
