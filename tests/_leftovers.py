"""Servers started by tests never outlive the test run, however it ends.

Two guards, for the uvicorn servers of :mod:`tests._service` and the PostgreSQL of :mod:`tests._postgis`:

1. **They die with the test process.** Each is started through ``setpriv --pdeathsig``: the
   kernel sends it a signal the moment the test process dies — killed with SIGKILL included,
   when no ``finally`` runs. (A Ctrl-C, SIGINT, runs the fixtures' own stops.)
2. **The next run cleans up.** Each server is recorded in :data:`REGISTRY` (its pid and start
   time, the test process's pid and start time, and its temporary folder); :func:`reap`, called
   before every server starts, kills the process group of every recorded server whose test process
   is gone and removes its folder. A pid reused by another process is never touched: the start
   time must match too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

#: One JSON file per running test server.
REGISTRY = Path(tempfile.gettempdir()) / "sitematch-test-servers"


def die_with_parent(signame: str = "TERM") -> list[str]:
    """The command prefix that makes a server get ``SIG<signame>`` when the test process dies."""
    if shutil.which("setpriv") is None:  # util-linux; the registry still cleans up at the next start
        return []
    return ["setpriv", f"--pdeathsig={signame}", "--"]


def start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, from /proc), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: starttime


def _alive(pid: int, started: str | None) -> bool:
    return started is not None and start_time(pid) == started


def record(kind: str, pid: int, folder: Path | None = None) -> Path:
    """Note a server just started (``kind``: what it is); the note's path, for :func:`forget`."""
    REGISTRY.mkdir(parents=True, exist_ok=True)
    note = {
        "kind": kind,
        "pid": pid,
        "started": start_time(pid),
        "owner": os.getpid(),
        "owner_started": start_time(os.getpid()),
        "folder": str(folder) if folder else None,
    }
    path = REGISTRY / f"{kind}-{pid}.json"
    path.write_text(json.dumps(note), encoding="utf-8")
    return path


def forget(path: Path) -> None:
    """The server was stopped: its note goes."""
    path.unlink(missing_ok=True)


def reap() -> list[int]:
    """Kill every recorded server whose test process is gone (its process group), remove its folder.

    Returns
    -------
    list of int
        The pids of the servers that were still running and were killed.
    """
    killed: list[int] = []
    if not REGISTRY.is_dir():
        return killed
    for path in sorted(REGISTRY.glob("*.json")):
        try:
            note = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if _alive(note["owner"], note["owner_started"]):
            continue  # its test run is still going (another pytest, maybe)
        if _alive(note["pid"], note["started"]):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(note["pid"], signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(note["pid"], signal.SIGKILL)
            killed.append(note["pid"])
        if note.get("folder"):
            shutil.rmtree(note["folder"], ignore_errors=True)
        path.unlink(missing_ok=True)
    return killed
