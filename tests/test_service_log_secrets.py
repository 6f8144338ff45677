"""No confidential lead's name, company or contact in any log line: the service's and the CLI's, at DEBUG.

Every bundled confidential profile (``scenarios/*.yaml`` with ``confidential: true``; one carries
an invented company and contact for this) goes through a real ``sitematch serve`` (its stdout and
stderr, uvicorn's access lines included, at DEBUG) by every route that reads or runs a profile —
the API, the pages, OGC API — by each role, and through the CLI (``-v``, with the root logger at
DEBUG and Python warnings logged) into a log file. Then the logs are searched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests._service import EXAMPLE_CSV, ROOT, login_token, serve

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SCENARIOS = ROOT / "scenarios"
CLI_WITH_DEBUG_LOG = """
import logging, sys
logging.basicConfig(filename=sys.argv[1], level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
logging.captureWarnings(True)
logging.getLogger("sitematch.tests").debug("captured at DEBUG")
from sitematch.cli import main
main(sys.argv[2:], prog_name="sitematch")
"""


def confidential_profiles() -> dict[str, dict]:
    """The bundled confidential profiles, by file name."""
    found = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if (data.get("lead") or {}).get("confidential"):
            found[path.name] = data
    return found


def secrets_of(data: dict) -> list[str]:
    lead = data.get("lead") or {}
    return [text for text in (data["name"], lead.get("company"), lead.get("contact")) if text]


def test_the_bundled_scenarios_have_a_confidential_lead_with_a_company_and_a_contact() -> None:
    found = confidential_profiles()
    assert len(found) >= 2
    assert any(len(secrets_of(d)) == 3 for d in found.values())  # name, company and contact


def _session(url: str, user: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=600)
    form = {"username": user, "password": "correct horse battery", "next": "", "csrf_token": login_token(client)}
    assert client.post("/login", data=form).status_code == 303
    page = client.get("/tokens").text
    return client, page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_no_confidential_lead_is_named_in_any_log(tmp_path: Path) -> None:
    profiles = confidential_profiles()
    needles = sorted({n for d in profiles.values() for n in secrets_of(d)})
    with serve(tmp_path, profiles=SCENARIOS, log_level="debug") as server:
        root, bo, anna, pia = (server.client(u, timeout=600) for u in ("root", "bo", "anna", "pia"))
        r = anna.post("/api/plots", files={"file": ("tomter_1980.csv", EXAMPLE_CSV.read_bytes())})
        assert r.status_code == 201, r.text
        stored = [p for p in root.get("/api/profiles").json() if p["confidential"]]
        assert {p["name"] for p in stored} == {d["name"] for d in profiles.values()}
        plot_id = anna.get("/api/plots").json()["features"][0]["properties"]["plot_id"]
        page, csrf = _session(server.url, "root")
        match_ids = []
        for p in stored:
            data = root.get(f"/api/profiles/{p['id']}").json()["profile"]
            assert root.post("/api/profiles/validate", json=data).status_code == 200
            r = root.post("/api/matches", json={"profile_id": p["id"]})
            assert r.status_code == 201, r.text
            match_ids.append(r.json()["id"])
            # an adviser keeps it, assigned to herself, and matches the posted data
            kept = bo.post("/api/profiles", json={"profile": data, "advisers": ["bo"]})
            assert kept.status_code == 201, kept.text
            assert bo.post("/api/matches", json={"profile": data}).status_code == 201
            broken = {**data, "requirements": {**data["requirements"], "min_area_hectares": 3}}
            assert bo.post("/api/matches", json={"profile": broken}).status_code == 422
            assert page.get(f"/match?profile={p['id']}").status_code == 200
        for match_id in match_ids:
            assert root.get(f"/api/matches/{match_id}").status_code == 200
            for name in ("map.html", "dossier.html", "ranking.csv", "funnel.csv"):
                assert root.get(f"/api/matches/{match_id}/files/{name}").status_code == 200
            assert root.get(f"/ogc/collections/match-{match_id}").status_code == 200
            assert root.get(f"/ogc/collections/match-{match_id}/items").status_code == 200
            assert page.get(f"/matches/{match_id}").status_code == 200
            assert anna.get(f"/api/matches/{match_id}").status_code == 403
            assert pia.get(f"/api/matches/{match_id}").status_code == 403
        assert root.get("/api/matches").status_code == 200 and root.get("/ogc/collections").status_code == 200
        assert root.get(f"/api/plots/{plot_id}/fit").status_code == 200
        for path in ("/match", "/brownfield", "/municipality?code=1980", "/accounts", "/tokens"):
            assert page.get(path).status_code == 200, path
        assert anna.get("/api/profiles").status_code == 200
        assert page.post("/logout", data={"csrf_token": csrf}).status_code == 303
        server_log = server.log.read_text(encoding="utf-8", errors="replace")

    assert "DEBUG" in server_log and "sitematch.service.access" in server_log  # really at DEBUG, ours included
    assert "ranked" in server_log  # the match's own log line is there, by digest
    cli_logs = []
    for name in profiles:
        log = tmp_path / f"cli-{name}.log"
        for args in (
            ["-v", "match", str(SCENARIOS / name), "--out", str(tmp_path / "out"), "--no-pdf"],
            ["-v", "profile", "check", str(SCENARIOS / name)],
        ):
            done = subprocess.run(
                [sys.executable, "-c", CLI_WITH_DEBUG_LOG, str(log), *args],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=900,  # a hang guard
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "80", "HOME": str(tmp_path)},
            )
            assert done.returncode == 0, done.stderr[-2000:]
        cli_logs.append(log.read_text(encoding="utf-8", errors="replace"))
    assert all("DEBUG sitematch.tests: captured at DEBUG" in text for text in cli_logs)
    assert all("INFO sitematch.matching: profile" in text for text in cli_logs)  # the match's line, by digest

    for needle in needles:
        logs = [("server", server_log), *((f"cli {n}", t) for n, t in zip(profiles, cli_logs, strict=True))]
        for where, text in logs:
            assert needle.lower() not in text.lower(), f"{needle!r} in the {where} log: " + next(
                line for line in text.splitlines() if needle.lower() in line.lower()
            )
