"""The match pool itself, in this process: time spent waiting counts toward the limit; per-account bounds."""

from __future__ import annotations

import asyncio
import time

import pytest

from sitematch.service.errors import UnavailableError
from sitematch.service.pool import ClientClosedError, MatchPool
from tests._service import QUICK_PROFILE

pytestmark = pytest.mark.slow


def test_waiting_counts_toward_the_time_limit_and_one_account_has_a_few_places(tmp_path) -> None:
    pool = MatchPool(workers=2, waiting=8, waiting_per_owner=2)
    gone = False

    def job(i: int) -> dict:
        return {"profile": QUICK_PROFILE, "slug": f"m{i}", "layers": None, "store": str(tmp_path / "plots.gpkg"),
                "folder": str(tmp_path / f"m{i}")}  # fmt: skip

    async def still_there() -> bool:
        return False

    async def hung_up() -> bool:
        return gone

    async def main() -> tuple[list, BaseException, BaseException, list]:
        nonlocal gone
        later = time.monotonic() + 600
        busy = [
            asyncio.create_task(pool.run("bo", "match", job(i), deadline_at=later, gone=still_there)) for i in (1, 2)
        ]
        await asyncio.sleep(0)  # both have a worker now: whoever comes next waits
        with pytest.raises(UnavailableError) as overdue:  # its limit passes while it waits
            await pool.run("cy", "match", job(3), deadline_at=time.monotonic() + 0.3, gone=still_there)
        waiting = [
            asyncio.create_task(pool.run("cy", "match", job(i), deadline_at=later, gone=hung_up)) for i in (4, 5)
        ]
        await asyncio.sleep(0.2)
        with pytest.raises(UnavailableError) as busy_refusal:  # cy has two waiting: a third is refused
            await pool.run("cy", "match", job(6), deadline_at=later, gone=still_there)
        gone = True  # cy's waiting clients hang up
        cancelled = await asyncio.gather(*waiting, return_exceptions=True)
        return await asyncio.gather(*busy), overdue.value, busy_refusal.value, cancelled

    try:
        done, overdue, refusal, cancelled = asyncio.run(main())
    finally:
        pool.close()
    assert [d["counts"]["sites"] > 0 for d in done] == [True, True]
    assert "longer than the service's limit" in str(overdue)
    assert "you already have 2 matches waiting" in str(refusal) and int(refusal.headers["Retry-After"]) >= 1
    assert all(isinstance(c, ClientClosedError) for c in cancelled)
    assert pool.stats["completed"] == 2 and pool.stats["timed_out"] == 1 and pool.stats["refused"] == 1
    assert pool.stats["cancelled_waiting"] == 2 and pool.stats["cancelled_running"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1", "m2"]  # nothing of the others
