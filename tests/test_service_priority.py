"""Uploads give way to matches: their threads and reader processes run at a lowered priority.

What is asserted is the mechanism, read back from the operating system (``/proc`` and
``getpriority``), not a timing: the load test (``tests/test_service_load.py``) reports what it
does to a match's latency under load.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import httpx
import pytest

from sitematch import settings
from sitematch.service.priority import lower_this_thread
from sitematch.upload import _sandbox
from tests._service import auth, serve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities are Linux's")
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "tomter_1980.csv"


def _nice_of(pid: int, tid: int) -> int:
    fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # the 19th field of stat; the first two (pid, comm) are cut off above


def test_lowering_a_thread_leaves_the_others_alone() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen: dict[str, int] = {}

    def lowered() -> None:
        lower_this_thread(3)
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=lowered)
    t.start()
    t.join()
    assert seen["thread"] == min(19, before + 3)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # the caller's own is unchanged


def test_a_reader_process_runs_lowered_when_asked() -> None:
    own = os.nice(0)
    try:
        _sandbox.lower_priority(4)
        in_child = _sandbox.run_isolated(os.nice, 0, drivers=(), what="probe", timeout_s=60)
    finally:
        _sandbox.lower_priority(0)
    assert in_child == min(19, own + 4)
    assert _sandbox.run_isolated(os.nice, 0, drivers=(), what="probe", timeout_s=60) == own


@pytest.mark.slow
def test_the_service_uploads_on_lowered_threads(tmp_path: Path) -> None:
    with serve(tmp_path) as server:
        pid = server.process.pid
        base = _nice_of(pid, pid)
        with httpx.Client(base_url=server.url, headers=auth(server.tokens["anna"]), timeout=120) as http:
            r = http.post("/api/plots", files={"file": ("tomter.csv", EXAMPLE.read_bytes(), "text/csv")})
            assert r.status_code == 201, r.text[:300]
            assert http.get("/healthz").status_code == 200
        tasks = {
            int(t): Path(f"/proc/{pid}/task/{t}/comm").read_text().strip() for t in os.listdir(f"/proc/{pid}/task")
        }
        uploaders = [t for t, name in tasks.items() if name.startswith("sitematch-uplo")]
        assert uploaders, tasks
        assert {_nice_of(pid, t) for t in uploaders} == {min(19, base + settings.service_upload_nice)}
        others = [t for t, name in tasks.items() if not name.startswith("sitematch-uplo")]
        assert _nice_of(pid, pid) == base and {_nice_of(pid, t) for t in others} == {base}
