"""Uploads give way to matches: their threads and reader processes run at a lowered priority.

What is asserted is the mechanism, read back from the operating system (``/proc`` and
``getpriority``), not a timing: the load test (``tests/test_service_load.py``) reports what it
does to a match's latency under load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from sitematch import settings
from sitematch.service.priority import lower_this_thread
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


def test_a_reader_process_runs_lowered_when_asked(tmp_path: Path) -> None:
    """In a fresh process (its fork server not yet started), as the service uses it: lowered once, by the increment
    from the process's priority, also when the reader is started from a thread already lowered."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import os, threading\n"
        "from sitematch.service.priority import lower_this_thread\n"
        "from sitematch.upload import _sandbox\n"
        "def read(out):\n"
        "    out.append(_sandbox.run_isolated(os.nice, 0, drivers=(), what='probe', timeout_s=60))\n"
        "if __name__ == '__main__':\n"
        "    plain = []\n"
        "    read(plain)\n"
        "    _sandbox.lower_priority(4)\n"
        "    lowered = []\n"
        "    t = threading.Thread(target=lambda: (lower_this_thread(10), read(lowered)))\n"
        "    t.start(); t.join()\n"
        "    print(os.nice(0), plain[0], lowered[0])\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    own, plain, lowered = (int(x) for x in out.stdout.split())
    assert plain == own  # not asked: as the process
    assert lowered == min(19, own + 4)  # asked: 4 lower than the process, not 4 + the thread's 10


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
