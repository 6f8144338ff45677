"""The match queue against a real ``sitematch serve`` on loopback: bounded, responsive, and cancelling.

40 matches posted at once by one adviser: a few are admitted (the workers' and the queue's room),
the rest are refused at once with 503 and ``Retry-After``; meanwhile another client polls
``/healthz`` and ``/api/me``, which keep answering (their latencies are printed; the assertion is
only a generous hang guard). A match whose client goes away is stopped — waiting or running —
which is asserted by counting: the server logs the cancellation, and no result, folder or record
of it is left.

The server matches a synthetic region of 20,000 plots, so that a match takes seconds (about 2 s warm
on 2 cores), not the bundled region's third of a second: a client that hangs up after 0.4 s then
leaves a match that is running, and a third match posted while two run is one that waits.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
import pytest

from sitematch.bench.synthetic import synthetic_layers
from tests._service import QUICK_PROFILE, auth, serve

pytestmark = pytest.mark.slow

BURST = 40
#: What the server admits of one account at most: its workers (2) and its queue room per account (4).
ADMITTED_AT_MOST = 2 + 4
#: A hang guard for a probe, far above what it takes (well under 1 s on a quiet machine).
PROBE_GUARD_S = 15.0
#: Plots of the synthetic region the server matches.
SITES = 20_000


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A region whose match takes seconds: every layer of a synthetic one, plots included, in one GeoPackage."""
    layers = synthetic_layers(SITES, seed=1)
    path = tmp_path_factory.mktemp("region") / "region.gpkg"
    for kind in layers.kinds:
        layers[kind].to_file(path, layer=kind, driver="GPKG")
    return str(path)


async def _burst(url: str, adviser: str, prober: str) -> tuple[list[httpx.Response], list[tuple[str, int, float]]]:
    probes: list[tuple[str, int, float]] = []
    stop = asyncio.Event()

    async def poll(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            for path in ("/healthz", "/api/me"):
                started = time.perf_counter()
                r = await http.get(path)
                probes.append((path, r.status_code, time.perf_counter() - started))
            await asyncio.sleep(0.05)

    async with (
        httpx.AsyncClient(base_url=url, headers=auth(adviser), timeout=300) as http,
        httpx.AsyncClient(base_url=url, headers=auth(prober), timeout=PROBE_GUARD_S) as probe,
    ):
        poller = asyncio.create_task(poll(probe))
        await asyncio.sleep(0.3)
        answers = await asyncio.gather(
            *(http.post("/api/matches", json={"profile": QUICK_PROFILE}) for _ in range(BURST))
        )
        await asyncio.sleep(0.3)
        stop.set()
        await poller
    return list(answers), probes


def _abandon(url: str, token: str, after_s: float) -> None:
    """Post a match and hang up after ``after_s`` seconds (the client goes away)."""
    with (
        httpx.Client(base_url=url, headers=auth(token), timeout=after_s) as http,
        pytest.raises(httpx.TimeoutException),
    ):
        http.post("/api/matches", json={"profile": QUICK_PROFILE})


def _wait_for(predicate, guard_s: float = 120.0) -> None:
    end = time.monotonic() + guard_s
    while not predicate():
        assert time.monotonic() < end, "hang guard"
        time.sleep(0.2)


def test_forty_matches_at_once_are_bounded_and_the_service_stays_responsive(tmp_path, region) -> None:
    with serve(tmp_path, args=("--layers", region)) as server:
        with server.client("bo") as http:  # the workers are warm: one lone match first
            assert http.post("/api/matches", json={"profile": QUICK_PROFILE}).status_code == 201
        answers, probes = asyncio.run(_burst(server.url, server.tokens["bo"], server.tokens["cy"]))
        matches = server.client("bo").get("/api/matches").json()
        results = sorted((server.data_dir / "matches").glob("*/result.json"))

    statuses = [r.status_code for r in answers]
    admitted = statuses.count(201)
    refused = [r for r in answers if r.status_code == 503]
    print(f"\n{BURST} at once: {admitted} admitted and answered 201, {len(refused)} refused 503")
    assert admitted + len(refused) == BURST, statuses
    assert 1 <= admitted < BURST // 2  # bounded: most are refused at once
    assert len(refused) >= BURST - 3 * ADMITTED_AT_MOST
    for r in refused:
        body = r.json()
        assert body["error"] == "UnavailableError" and "busy" in body["message"]
        assert int(r.headers["retry-after"]) >= 1
    # every admitted match was kept, and nothing of a refused one
    assert len(matches) == len(results) == 1 + admitted

    times = {path: np.array([t for p, code, t in probes if p == path]) for path in ("/healthz", "/api/me")}
    assert all(code == 200 for _, code, _ in probes), [p for p in probes if p[1] != 200][:3]
    for path, t in times.items():
        print(
            f"{path}: {len(t)} probes during the burst, p50 {np.percentile(t, 50):.3f} s, "
            f"p95 {np.percentile(t, 95):.3f} s, max {t.max():.3f} s"
        )
        assert len(t) >= 5 and t.max() < PROBE_GUARD_S


def test_an_abandoned_match_is_stopped_waiting_or_running(tmp_path, region) -> None:
    with serve(tmp_path, args=("--layers", region)) as server:
        with server.client("bo") as http:  # the workers are warm
            assert http.post("/api/matches", json={"profile": QUICK_PROFILE}).status_code == 201
        log_text = server.log.read_text

        # running: the workers are free, so the match starts; its client hangs up mid-run
        _abandon(server.url, server.tokens["bo"], 0.4)
        _wait_for(lambda: "a running match was cancelled" in log_text())

        # waiting: two matches fill both workers, a third waits; its client hangs up
        async def two_and_one() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, headers=auth(server.tokens["cy"]), timeout=300) as h:
                busy = [asyncio.create_task(h.post("/api/matches", json={"profile": QUICK_PROFILE})) for _ in range(2)]
                await asyncio.sleep(0.2)
                await asyncio.to_thread(_abandon, server.url, server.tokens["bo"], 0.3)
                return [r.status_code for r in await asyncio.gather(*busy)]

        assert asyncio.run(two_and_one()) == [201, 201]
        _wait_for(lambda: "a waiting match was cancelled" in log_text())
        matches = server.client("root").get("/api/matches").json()
        folders = sorted(p for p in (server.data_dir / "matches").iterdir() if p.is_dir())

    text = log_text()
    assert text.count("a running match was cancelled") == 1
    assert text.count("a waiting match was cancelled") == 1
    # the three finished matches were kept; of the two abandoned, no record, folder or result
    assert len(matches) == 3
    assert len(folders) == 3 and all((f / "result.json").is_file() for f in folders)
    assert {f.name for f in folders} == {m["id"] for m in matches}
