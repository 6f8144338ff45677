"""An upload is read once, and a stopped server's upload folders are removed when the service starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

import sitematch.upload.readers as readers
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig, clean_uploads, upload_prefix
from tests._service import EXAMPLE_CSV, add_accounts, auth


def test_an_upload_is_read_once_stored_or_refused(tmp_path, monkeypatch) -> None:
    reads: list[str] = []
    real = readers.run_isolated

    def counted(*args, **kwargs):
        reads.append(kwargs.get("what", "?"))
        return real(*args, **kwargs)

    monkeypatch.setattr(readers, "run_isolated", counted)
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    tokens = add_accounts(tmp_path / "data")
    client = TestClient(app, base_url="https://testserver")
    r = client.post(
        "/api/plots", headers=auth(tokens["anna"]), files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}
    )
    assert r.status_code == 201, r.text
    assert r.json()["report"]["rows"] == 2 and len(reads) == 1
    bad = EXAMPLE_CSV.read_text(encoding="utf-8").replace("12.5", "minus tolv", 1).encode("utf-8")
    r = client.post("/api/plots", headers=auth(tokens["anna"]), files={"file": ("tomter.csv", bad)})
    assert r.status_code == 422 and r.json()["report"]["problems"]
    assert len(reads) == 2  # the refused one was read once too
    assert list((tmp_path / "data" / "uploads").iterdir()) == []  # nothing kept after either request


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_upload_folders_of_stopped_servers_are_removed_at_start(tmp_path) -> None:
    uploads = tmp_path / "data" / "uploads"
    gone = uploads / f"{_dead_pid()}-abc123"  # a server killed mid-upload
    legacy = uploads / "tmpq1w2e3"  # named before folders carried their process
    mine = uploads / f"{upload_prefix()}xyz"  # this process is running: an upload in flight
    for folder in (gone, legacy, mine):
        folder.mkdir(parents=True)
        (folder / "tomter.csv").write_bytes(b"x")
    create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    assert sorted(p.name for p in uploads.iterdir()) == [mine.name]
    assert clean_uploads(uploads) == 0 and mine.is_dir()
    assert upload_prefix() == f"{os.getpid()}-"


def test_an_upload_folder_is_named_after_its_server_process(tmp_path, monkeypatch) -> None:
    seen: list[Path] = []
    real = readers.run_isolated

    def look(*args, **kwargs):
        seen.extend((tmp_path / "data" / "uploads").iterdir())
        return real(*args, **kwargs)

    monkeypatch.setattr(readers, "run_isolated", look)
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    tokens = add_accounts(tmp_path / "data")
    r = TestClient(app, base_url="https://testserver").post(
        "/api/plots/check", headers=auth(tokens["anna"]), files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}
    )
    assert r.status_code == 200, r.text
    assert len(seen) == 1 and seen[0].name.startswith(f"{os.getpid()}-")
