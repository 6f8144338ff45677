"""Helpers for the web service's tests: a service with one account per role, and real servers on loopback.

Accounts (password ``PASSWORD`` for all): ``anna`` (municipality:1980, Västerås), ``per``
(municipality:0180, Stockholm), ``bo`` and ``cy`` (advisers), ``pia`` (planner), ``root`` (admin).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sitematch.service.accounts import Accounts
from sitematch.service.db import Database
from tests import _leftovers

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
ACCOUNTS = {
    "anna": "municipality:1980",
    "per": "municipality:0180",
    "bo": "adviser",
    "cy": "adviser",
    "pia": "planner",
    "root": "admin",
}
EXAMPLE_CSV = ROOT / "docs" / "examples" / "tomter_1980.csv"
#: A profile small enough to match quickly, which the example plots pass.
QUICK_PROFILE = {
    "name": "Quick test lead",
    "lead": {"reference": "T-1", "company": "Northwind Batteries AB"},
    "requirements": {"min_area_ha": 5},
    "preferences": {"area_ha": {"weight": 1, "full_at": 20, "zero_at": 5}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_accounts(data_dir: Path) -> dict[str, str]:
    """Create the accounts in a data folder; an API token for each, by user name."""
    accounts = Accounts(Database(data_dir / "service.sqlite"))
    tokens = {}
    for name, role in ACCOUNTS.items():
        if accounts.get(name) is None:
            accounts.add(name, role, PASSWORD)
        tokens[name] = accounts.create_token(name, "tests")[1]
    return tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_token(client: httpx.Client) -> str:
    """The login form's CSRF token, read from the login page as a browser would (its cookie is set too)."""
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def post_login(client: httpx.Client, user: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    """Log in through the login form (its page first, for the form's token)."""
    form = {"username": user, "password": password, "next": "", "csrf_token": login_token(client)}
    return client.post("/login", data=form, headers=headers)


@dataclass
class Server:
    """A ``sitematch serve`` process on loopback."""

    url: str
    process: subprocess.Popen
    tokens: dict[str, str]
    data_dir: Path
    store: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, user: str, timeout: float = 120) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(self.tokens[user]), timeout=timeout)


@contextlib.contextmanager
def serve(
    tmp: Path,
    *,
    store: str | None = None,
    profiles: Path | None = None,
    workers: int = 1,
    log_level: str | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Server]:
    """Run ``sitematch serve`` in its own process on a free loopback port until the block ends.

    The server is stopped when the block ends, when this test process dies (even by SIGKILL),
    or, failing both, by the next test run (see :mod:`tests._leftovers`).
    """
    extra_env = env or {}
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens = add_accounts(data_dir)
    store = store or str(tmp / "plots.gpkg")
    port = free_port()
    log = tmp / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SITEMATCH_COOKIE_SECURE": "0", **extra_env}
    cmd = [sys.executable, "-m", "sitematch.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--store", store, "--data", str(data_dir), "--workers", str(workers)]  # fmt: skip
    if profiles is not None:
        cmd += ["--profiles", str(profiles)]
    if log_level is not None:
        cmd += ["--log-level", log_level]
    cmd += list(args)
    _leftovers.reap()  # servers a killed test run left behind
    # its own process group (stopped whole), and SIGTERM from the kernel if this test process dies
    with log.open("wb") as out:
        process = subprocess.Popen([*_leftovers.die_with_parent("TERM"), *cmd], stdout=out,
                                   stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)  # fmt: skip
    note = _leftovers.record("uvicorn", process.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log)
        yield Server(url, process, tokens, data_dir, store, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _leftovers.forget(note)


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server did not start in {timeout} s: {log.read_text(errors='replace')[-3000:]}")


class ThreadServer:
    """The app in a uvicorn server on a thread of this process (for clients that need a real socket)."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        end = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > end:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
