"""A throwaway PostgreSQL + PostGIS server on loopback for the tests that need a real one.

Started once per test session in a temporary folder, on a free port, and stopped at the end. The
tests that use it are skipped only when Debian's postgresql/postgis packages are absent, and the
skip says so (``make test`` installs them).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


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
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [*run_as, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sitematch"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/sitematch"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)
