"""An upload is read once, validated once, checked by the store's rules once, and a plain CSV
without a reader process (counted, not timed); a stopped server's upload folders are removed when
the service starts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import sitematch.store.rules as rules
import sitematch.upload._sandbox as _sandbox
import sitematch.upload.readers as readers
import sitematch.upload.validate as validate
from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig, clean_uploads, upload_prefix
from sitematch.upload import read_upload
from tests._service import EXAMPLE_CSV, add_accounts, auth


class Work:
    """Counts what uploads cost, by wrapping (and calling through) the functions that do the work."""

    def __init__(self, monkeypatch) -> None:
        self.readers: list[str] = []  # reader processes started (by the upload's name)
        self.csv_reads: list[str] = []  # CSV files parsed in this process
        self.rows: list[int] = []  # rows validated
        self.geometry_checks = 0  # the store's geometry rule applied (to a frame)
        self.text_checks: Counter = Counter()  # the store's text rule applied, by column

        def count(module, name, note):
            real = getattr(module, name)

            def counted(*args, **kwargs):
                note(args, kwargs)
                return real(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)

        count(_sandbox, "run_isolated", lambda a, k: self.readers.append(k["what"]))
        count(readers, "read_csv_bytes", lambda a, k: self.csv_reads.append(a[1]))
        count(validate, "_check_row", lambda a, k: self.rows.append(a[3]))
        count(rules, "_geometry_refusals", lambda a, k: setattr(self, "geometry_checks", self.geometry_checks + 1))
        count(rules, "_text_refusals", self._text)

    def _text(self, args: tuple, kwargs: dict) -> None:
        frame, columns = args[0], args[1] if len(args) > 1 else rules.TEXT_COLUMNS
        self.text_checks.update(c for c in columns if c in frame)  # the columns the rule reads


@pytest.fixture
def api(tmp_path):
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    tokens = add_accounts(tmp_path / "data")
    client = TestClient(app, base_url="https://testserver")

    def post(name: str, data: bytes):
        return client.post("/api/plots", headers=auth(tokens["anna"]), files={"file": (name, data)})

    return post


def test_a_csv_upload_is_read_once_validated_once_checked_once_and_starts_no_process(tmp_path, monkeypatch, api):
    work = Work(monkeypatch)
    r = api("tomter.csv", EXAMPLE_CSV.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["report"]["rows"] == 2
    assert work.readers == []  # no reader process for a plain CSV
    assert work.csv_reads == ["tomter.csv"]  # read once
    assert work.rows == [1, 2]  # each row validated once
    assert work.geometry_checks == 1  # the store's rules once: by validation, not again by the store
    # each text column once; the two the upload adds after validation (source, licence) by the store
    assert work.text_checks == Counter(rules.TEXT_COLUMNS)
    assert list((tmp_path / "data" / "uploads").iterdir()) == []  # nothing kept after the request


def test_a_refused_csv_is_read_once_and_the_store_applies_nothing(tmp_path, monkeypatch, api):
    work = Work(monkeypatch)
    bad = EXAMPLE_CSV.read_text(encoding="utf-8").replace("12.5", "minus tolv", 1).encode("utf-8")
    r = api("tomter.csv", bad)
    assert r.status_code == 422 and r.json()["report"]["problems"]
    assert (work.readers, work.csv_reads, work.rows) == ([], ["tomter.csv"], [1, 2])
    assert work.geometry_checks == 1  # validation's, on the one valid row; the store is never reached
    assert not (tmp_path / "plots.gpkg").exists()


def test_an_excel_csv_with_semicolons_a_bom_or_windows_1252_is_read_in_process(tmp_path, monkeypatch, api):
    work = Work(monkeypatch)
    text = EXAMPLE_CSV.read_text(encoding="utf-8").replace(",", ";").replace("12.5", "12,5").replace("6.0", "6,0")
    text = text.replace("16.5050;59.6290", "16,5050;59,6290").replace("16.4700;59.5900", "16,4700;59,5900")
    for name, data in (("bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8")), ("ansi.csv", text.encode("cp1252"))):
        r = api(name, data)
        assert r.status_code == 201, r.text
        assert r.json()["report"]["rows"] == 2 and r.json()["report"]["ok"]
    assert work.readers == [] and work.csv_reads == ["bom.csv", "ansi.csv"]


def test_a_geopackage_is_read_once_in_one_reader_process(tmp_path, monkeypatch, api):
    gdf, _ = read_upload(EXAMPLE_CSV)
    gpkg = tmp_path / "tomter.gpkg"
    plots = gdf.drop(columns=["Areal_ha"]).to_crs(3006)
    plots.geometry = plots.geometry.buffer(100, cap_style="square")  # 200 m squares: 4 ha, measured
    plots.to_file(gpkg, driver="GPKG")
    work = Work(monkeypatch)
    r = api("tomter.gpkg", gpkg.read_bytes())
    assert r.status_code == 201, r.text
    assert work.readers == ["tomter.gpkg"] and work.csv_reads == []  # one child, and only for GDAL's formats
    assert work.rows == [1, 2] and work.geometry_checks == 1


def test_a_large_or_wide_csv_is_still_read_in_a_reader_process(tmp_path, monkeypatch, api):
    work = Work(monkeypatch)
    header, *rows = EXAMPLE_CSV.read_text(encoding="utf-8").splitlines()
    wide = ",".join([header, *(f"x{i}" for i in range(readers.IN_PROCESS_CSV_MAX_COLUMNS))])
    wide_rows = [",".join([row, *([""] * readers.IN_PROCESS_CSV_MAX_COLUMNS)]) for row in rows]
    r = api("bred.csv", "\n".join([wide, *wide_rows]).encode("utf-8"))
    assert r.status_code == 422  # 200 extra columns: more than are kept (the same problem as before)
    assert "columns sitematch does not use" in r.text
    padding = "\n" * (readers.IN_PROCESS_CSV_MAX_BYTES + 1)  # blank lines: no rows, only bytes
    r = api("stor.csv", (EXAMPLE_CSV.read_text(encoding="utf-8") + padding).encode("utf-8"))
    assert r.status_code == 201, r.text
    assert work.readers == ["bred.csv", "stor.csv"] and work.csv_reads == []


def test_a_csv_with_deeply_nested_wkt_is_left_to_a_reader_process(tmp_path, monkeypatch, api):
    """GEOS parses a collection inside a collection recursively: 100,000 deep overflows its stack and
    ends the process that parses it. That process is a reader, never the server."""
    work = Work(monkeypatch)
    depth = 100_000
    wkt = "GEOMETRYCOLLECTION (" * depth + "POINT (1 1)" + ")" * depth
    body = f"Objekt_ID,Användning,Planstatus,wkt\nA-1,J,laga_kraft,{wkt}\n".encode()
    r = api("djup.csv", body)
    assert r.status_code == 422, r.text[:300]
    assert "reader stopped" in r.json()["message"]
    assert work.readers == ["djup.csv"] and work.csv_reads == []
    assert api("tomter.csv", EXAMPLE_CSV.read_bytes()).status_code == 201  # the server is still there


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
    real = readers.read_csv_bytes

    def look(*args, **kwargs):
        seen.extend((tmp_path / "data" / "uploads").iterdir())
        return real(*args, **kwargs)

    monkeypatch.setattr(readers, "read_csv_bytes", look)
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    tokens = add_accounts(tmp_path / "data")
    r = TestClient(app, base_url="https://testserver").post(
        "/api/plots/check", headers=auth(tokens["anna"]), files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())}
    )
    assert r.status_code == 200, r.text
    assert len(seen) == 1 and seen[0].name.startswith(f"{os.getpid()}-")
