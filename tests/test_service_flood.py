"""A login flood on loopback, against a real ``sitematch serve``: throttled, and everyone else still answered.

40 clients fail to log in for 20 s — half at one account from 20 addresses, half at names with no
account from 2 addresses (behind the trusted proxy on loopback, ``X-Forwarded-For`` is their
address) — while an authenticated client polls ``/api/me``. Bounded: a deadline, and a timeout on
every request. The poller's p95 is measured and printed (and kept in the test's folder); the
assertion on it is only a generous bound, so the test holds on a loaded machine.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests._service import PASSWORD, serve

pytestmark = pytest.mark.slow

FLOODERS = 40
SECONDS = 20.0
#: A hang guard on the poller's p95, far above the figure measured on an idle machine.
P95_BOUND_S = 5.0


def _token(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None, text[:300]
    return found.group(1)


def _flood(url: str, name: str, address: str, end: float, statuses: list[int]) -> None:
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        token = _token(client.get("/login").text)
        while time.monotonic() < end:
            form = {"username": name, "password": "not the password", "next": "", "csrf_token": token}
            r = client.post("/login", data=form)
            statuses.append(r.status_code)
            token = _token(r.text)  # every answer is the login form with a fresh token


def _poll(url: str, token: str, end: float, latencies: list[float], statuses: list[int]) -> None:
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < end:
            started = time.perf_counter()
            r = client.get("/api/me")
            latencies.append(time.perf_counter() - started)
            statuses.append(r.status_code)
            time.sleep(0.05)


def _login(url: str, user: str, address: str, password: str = PASSWORD) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=60, headers={"X-Forwarded-For": address}) as client:
        token = _token(client.get("/login").text)
        return client.post("/login", data={"username": user, "password": password, "next": "", "csrf_token": token})


def test_a_login_flood_is_throttled_and_api_me_keeps_answering(tmp_path: Path) -> None:
    # the clients' addresses are told by X-Forwarded-For, as a reverse proxy on loopback would
    with serve(tmp_path, args=("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1")) as server:
        end = time.monotonic() + SECONDS
        flood: list[list[int]] = [[] for _ in range(FLOODERS)]
        latencies: list[float] = []
        polled: list[int] = []
        threads = [
            threading.Thread(
                target=_flood,
                args=(
                    server.url,
                    "bo" if i < FLOODERS // 2 else f"ghost{i}",
                    f"10.1.0.{i}" if i < FLOODERS // 2 else f"10.2.0.{i % 2}",
                    end,
                    flood[i],
                ),
            )
            for i in range(FLOODERS)
        ]
        threads.append(threading.Thread(target=_poll, args=(server.url, server.tokens["cy"], end, latencies, polled)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 180)  # a hang guard
        assert not any(t.is_alive() for t in threads)

        p50, p95 = (float(np.percentile(latencies, q)) for q in (50, 95))
        counts = {code: sum(s.count(code) for s in flood) for code in (401, 429, 503)}
        attempts = sum(len(s) for s in flood)
        report = (
            f"/api/me during a {FLOODERS}-client login flood of {SECONDS:.0f} s: {len(latencies)} polls, "
            f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
            f"{attempts} failed logins answered {counts}"
        )
        print(report)
        (tmp_path / "flood.txt").write_text(report + "\n", encoding="utf-8")

        assert set(polled) == {200}, polled  # every poll answered
        assert len(latencies) >= 10
        assert p95 < P95_BOUND_S, report
        assert all(set(s) <= {401, 429, 503} for s in flood)  # refusals only: never a login, never a 5xx but 503
        assert counts[429] > counts[401], report  # the flood is mostly refused before any password is checked
        assert all(429 in s for s in flood if len(s) > 25), report  # every busy flooder was throttled
        # an account name's failures are capped by its back-off, whatever the number of clients
        assert counts[401] < attempts / 2

        # a flooding address is still backing off, for any account (asked at once: its lock, too, doubles from 1 s)
        assert _login(server.url, "cy", "10.2.0.0").status_code == 429
        # the right password after the lockout is refused until the lock lifts ... How long the flood's last
        # lock lasts depends on how its failures fell (on a loaded machine it may have lifted already): wrong
        # passwords from fresh addresses until the account answers 429, then at once the right one
        # for at least 5 s (a short lock, waited out, is doubled by the next failure)
        for attempt in range(60):
            wrong = _login(server.url, "bo", f"10.4.{attempt}.1", "still not the password")
            if wrong.status_code == 429 and int(wrong.headers["Retry-After"]) >= 5:
                break
            if wrong.status_code == 429:
                time.sleep(int(wrong.headers["Retry-After"]))
        else:
            raise AssertionError("60 more wrong passwords did not lock the account for 5 s")
        r = _login(server.url, "bo", "10.3.0.1")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, r.text[:300]
        assert "sitematch_session" not in r.headers.get("set-cookie", "")
        # ... and accepted once an admin has unlocked the account on the accounts page
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-Forwarded-For": "10.3.0.2"}) as admin:
            token = _token(admin.get("/login").text)
            form = {"username": "root", "password": PASSWORD, "next": "", "csrf_token": token}
            assert admin.post("/login", data=form).status_code == 303
            page = admin.get("/accounts").text
            # the lock's length depends on how the flood's failures fell (it doubles per lock, 1 s to 15 min): on a
            # slow machine it may have lifted by now; the page's button is tested with a moved clock in
            # test_service_logins.py
            if 'action="/accounts/bo/unlock"' in page:
                assert admin.post("/accounts/bo/unlock", data={"csrf_token": _token(page)}).status_code == 303
        assert _login(server.url, "bo", "10.3.0.3").status_code == 303
        log = server.log.read_text(errors="replace")
    assert "not the password" not in log and PASSWORD not in log
