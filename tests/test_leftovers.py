"""A killed test run leaves no server behind: uvicorn and PostgreSQL stop with it.

A child pytest starts both servers (the real fixtures of tests/_service.py and tests/_postgis.py)
and waits; this test kills it — SIGKILL, when nothing of it runs any more, and SIGINT, Ctrl-C —
and checks that no process of either server's group is left. And a server noted by a run that is
gone is killed by the next one (:func:`tests._leftovers.reap`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import _leftovers
from tests._postgis import _bin_dir
from tests._service import ROOT

pytestmark = pytest.mark.slow

CHILD = """
import os
import time
from pathlib import Path

from tests._postgis import postgis_url  # noqa: F401 - the fixture
from tests._service import serve


def test_hold(postgis_url, tmp_path):
    with serve(tmp_path, store=postgis_url):
        Path(os.environ["READY_FILE"]).write_text("ready")
        time.sleep(900)
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.postgis
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_killed_test_run_leaves_no_server(tmp_path: Path, sig: signal.Signals) -> None:
    if _bin_dir() is None:
        pytest.skip("PostgreSQL/PostGIS not installed (apt-get install postgresql postgis; make test does it)")
    (tmp_path / "test_child.py").write_text(CHILD, encoding="utf-8")
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "READY_FILE": str(ready)}
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-o", "addopts=", str(tmp_path / "test_child.py")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        end = time.monotonic() + 600  # a hang guard
        while not ready.exists():
            assert child.poll() is None, child.stdout.read().decode(errors="replace")[-3000:]
            assert time.monotonic() < end, "the child run did not start its servers"
            time.sleep(0.5)
        notes = [json.loads(p.read_text()) for p in _leftovers.REGISTRY.glob("*.json")]
        servers = {n["kind"]: n["pid"] for n in notes if n["owner"] == child.pid}
        assert set(servers) == {"uvicorn", "postgres"}, notes
        assert all(_group_alive(pid) for pid in servers.values())
        child.send_signal(sig)
        child.wait(timeout=300)
        end = time.monotonic() + 120  # a hang guard: it takes a moment for a server to stop
        while any(_group_alive(pid) for pid in servers.values()) and time.monotonic() < end:
            time.sleep(0.2)
        left = {kind: pid for kind, pid in servers.items() if _group_alive(pid)}
        assert left == {}, f"left running after {sig.name}: {left}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_server_noted_by_a_run_that_is_gone_is_killed_by_the_next(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a test run that has ended
    orphan = subprocess.Popen(["sleep", "900"], start_new_session=True)
    folder = tmp_path / "server-folder"
    folder.mkdir()
    _leftovers.REGISTRY.mkdir(parents=True, exist_ok=True)
    note = _leftovers.REGISTRY / f"test-{orphan.pid}.json"
    note.write_text(json.dumps({"kind": "test", "pid": orphan.pid, "started": _leftovers.start_time(orphan.pid),
                                "owner": gone.pid, "owner_started": "0", "folder": str(folder)}))  # fmt: skip
    mine = subprocess.Popen(["sleep", "900"], start_new_session=True)  # a server of this (living) run
    own_note = _leftovers.record("test", mine.pid)
    try:
        killed = _leftovers.reap()
        assert orphan.pid in killed and mine.pid not in killed
        assert orphan.wait(timeout=60) == -signal.SIGKILL
        assert not note.exists() and not folder.exists()
        assert mine.poll() is None and own_note.exists()
    finally:
        for p in (orphan, mine):
            if p.poll() is None:
                p.kill()
                p.wait()
        _leftovers.forget(own_note)
