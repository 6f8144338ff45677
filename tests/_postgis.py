"""A throwaway PostgreSQL + PostGIS server on loopback for the tests that need a real one.

Started once per test session in a temporary folder, on a free port, and stopped at the end. The
tests that use it are skipped only when Debian's postgresql/postgis packages are absent, and the
skip says so (``make test`` installs them).

The server runs in the foreground of its own process group (not daemonised by ``pg_ctl``), so it
stops with the test run however that ends: SIGQUIT (immediate shutdown) from the kernel when the
test process dies, and a check at the next start for any left behind (:mod:`tests._leftovers`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import _leftovers


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or not glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
        return None
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """A ``postgresql://`` URL of a fresh database with PostGIS available."""
    bindir = _bin_dir()
    if bindir is None:
        pytest.skip("PostgreSQL/PostGIS not installed (apt-get install postgresql postgis; make test does it)")
    as_root = os.geteuid() == 0
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="sitematch-pg-"))
    if as_root:  # initdb refuses to run as root: run the server as the postgres user
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = _free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    _leftovers.reap()  # servers a killed test run left behind
    server_as = (
        ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"] if as_root else []
    )  # setpriv execs in place (no parent in between), so the death signal reaches the server itself
    if shutil.which("setpriv") is None:
        server_as = run_as
    command = [*server_as, *_leftovers.die_with_parent("QUIT"), str(bindir / "postgres"), "-D", str(data),
               "-p", str(port), "-k", str(folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]  # fmt: skip
    with (folder / "log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    note = _leftovers.record("postgres", server.pid, folder)
    try:
        _wait_ready(bindir, port, server, folder)
        subprocess.run(
            [*run_as, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sitematch"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/sitematch"
    finally:
        _stop(server)
        _leftovers.forget(note)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(bindir: Path, port: int, server: subprocess.Popen, folder: Path, timeout_s: float = 120) -> None:
    end = time.monotonic() + timeout_s  # a hang guard, far above the second it takes
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL stopped: {(folder / 'log').read_text(errors='replace')[-2000:]}")
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"], capture_output=True
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not start in {timeout_s} s")


def _stop(server: subprocess.Popen) -> None:
    """Immediate shutdown (SIGQUIT), as ``pg_ctl -m immediate``; SIGKILL to the group if it hangs."""
    try:
        os.killpg(server.pid, signal.SIGQUIT)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
