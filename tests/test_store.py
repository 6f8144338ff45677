"""The GeoPackage plot store under stress: concurrent writers and creators, a killed writer, malformed rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitematch import settings as sm_settings
from sitematch.cli import main
from sitematch.errors import StoreBusyError, StoreConflictError, StoreNotFoundError, UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.store import open_store
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import upload_file
from sitematch.upload.validate import validate_upload
from tests.test_upload import fingerprint, municipal_export

ROOT = Path(__file__).parent.parent
#: Eight member municipalities with at least three (non-brownfield) example plots each.
EIGHT = ("0114", "0115", "0117", "0120", "0123", "0180", "1980", "2180")


@pytest.fixture(scope="module")
def region() -> LayerSet:
    return LayerSet.from_path(ROOT / "layers" / "region.gpkg", kinds=["municipalities", "plots"])


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sitematch.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def validated_plots(region: LayerSet, code: str, folder: Path) -> Path:
    """One municipality's example plots, validated as an upload would be, saved for a writer process."""
    plots, report = validate_upload(
        municipal_export(region, code), municipality_code=code, filename="t", boundaries=region["municipalities"]
    )
    assert report.ok, report.to_text()
    path = folder / f"plots_{code}.parquet"
    plots.assign(source="test", licence="test").to_parquet(path)
    return path


def writer(store: str | Path, plots: Path, code: str, *options: str) -> subprocess.Popen[str]:
    """A process storing ``plots`` through the library (see tests/_writers.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests._writers", str(store), str(plots), code, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )


def wait_for(proc: subprocess.Popen[str], word: str) -> None:
    """Read the writer's output until it says ``word``."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise AssertionError(f"the writer ended without saying {word!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_two_processes_uploading_at_once_both_land(tmp_path: Path, region: LayerSet) -> None:
    store = tmp_path / "store.gpkg"
    a, b = validated_plots(region, "1980", tmp_path), validated_plots(region, "0180", tmp_path)
    first = writer(store, a, "1980", "--pause-before-commit", "1.5")
    wait_for(first, "paused")  # inside its transaction: the second must wait, not overwrite
    second = writer(store, b, "0180")
    for proc in (first, second):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    plots = GeoPackageStore(store).plots()
    assert sorted(plots["municipality_code"].value_counts().to_dict().items()) == [("0180", 3), ("1980", 3)]


def test_a_process_killed_mid_upload_leaves_the_store_readable_and_unchanged(tmp_path: Path, region: LayerSet) -> None:
    store_path = tmp_path / "store.gpkg"
    store = GeoPackageStore(store_path)
    seed = tmp_path / "seed.gpkg"
    pyogrio.write_dataframe(municipal_export(region, "0180"), seed, driver="GPKG")
    upload_file(store, seed, municipality_code="0180", uploader="seed", boundaries=region["municipalities"])
    before, before_bytes = store.plots(status="all"), fingerprint(store_path)
    proc = writer(store_path, validated_plots(region, "1980", tmp_path), "1980", "--pause-before-commit", "60")
    wait_for(proc, "paused")
    assert Path(str(store_path) + "-journal").exists()  # the writer is inside its transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reopened = GeoPackageStore(store_path)
    after = reopened.plots(status="all")
    pd.testing.assert_frame_equal(pd.DataFrame(after), pd.DataFrame(before))
    assert fingerprint(store_path) == before_bytes
    assert len(gpd.read_file(store_path, layer="plots")) == 3  # GDAL reads it too


def test_eight_processes_creating_the_same_new_store_at_once_lose_nothing(tmp_path: Path, region: LayerSet) -> None:
    store, go = tmp_path / "new" / "store.gpkg", tmp_path / "go"
    procs = [
        writer(store, validated_plots(region, code, tmp_path), code, "--go", str(go), "--pause-in-create", "1.0")
        for code in EIGHT
    ]
    for proc in procs:
        wait_for(proc, "ready")
    go.touch()  # all eight start together; each lingers 1 s between building its store and moving it into place
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "stored 3" in out
    plots = GeoPackageStore(store).plots()
    assert sorted(plots["municipality_code"].unique()) == sorted(EIGHT)
    assert len(plots) == 3 * len(EIGHT)
    assert [f.name for f in store.parent.iterdir()] == ["store.gpkg"]  # no stray temporary stores


def test_geopackage_store_errors_by_kind(tmp_path: Path, region: LayerSet, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.gpkg"
    with pytest.raises(StoreNotFoundError, match="no such plot store"):
        open_store(path, create=False)
    store = GeoPackageStore(path)
    assert store.plots().empty and not path.exists()  # opening and reading write nothing
    with pytest.raises(StoreNotFoundError):
        store.withdraw("1980:Å-1", uploader="a")
    plots = validated_plots(region, "1980", tmp_path)
    store.upload(gpd.read_parquet(plots), municipality_code="1980", uploader="a")
    with pytest.raises(StoreNotFoundError):
        store.history("1980:nope")
    store.withdraw("1980:Å-1", uploader="a")
    with pytest.raises(StoreConflictError, match="already withdrawn"):
        store.withdraw("1980:Å-1", uploader="a")
    holder = writer(path, plots, "1980", "--pause-before-commit", "30")
    wait_for(holder, "paused")  # it holds the store's write lock
    monkeypatch.setattr(sm_settings, "lock_timeout_s", 0.5)
    with pytest.raises(StoreBusyError, match=r"more than 0\.5 s"):
        store.upload(gpd.read_parquet(plots), municipality_code="1980", uploader="b")
    holder.kill()
    holder.wait(timeout=30)


# -- property test: any mix of malformed rows stores exactly the file, or nothing -------------

KINDS = ["ok", "negative_area", "text_area", "bad_zoning", "empty_ref", "point", "outside", "bowtie", "no_geometry"]


def _row(kind: str, i: int, base: shapely.Polygon) -> dict:
    geom = shapely.affinity.translate(base, 0, 600.0 * i)
    row = {
        "Objekt_ID": f"R{i}",
        "Areal_ha": round(geom.area / 10_000, 3),
        "Användning": "J",
        "Planstatus": "laga kraft",
    }
    if kind == "negative_area":
        row["Areal_ha"] = -1.0
    elif kind == "text_area":
        row["Areal_ha"] = "stor"
    elif kind == "bad_zoning":
        row["Användning"] = "?"
    elif kind == "empty_ref":
        row["Objekt_ID"] = ""
    elif kind == "point":
        geom = geom.centroid
    elif kind == "outside":
        geom = shapely.affinity.translate(geom, 400_000, 0)
    elif kind == "bowtie":
        x0, y0, x1, y1 = geom.bounds
        geom = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    elif kind == "no_geometry":
        geom = None
    row["geometry"] = geom
    return row


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
def test_property_any_malformed_rows_store_exactly_the_file_or_nothing(
    tmp_path_factory: pytest.TempPathFactory, region: LayerSet, kinds: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    base = shapely.box(587_000, 6_610_000, 587_300, 6_610_300)  # inside Västerås
    rows = [_row(k, i, base) for i, k in enumerate(kinds)]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:3006")
    gdf["Areal_ha"] = gdf["Areal_ha"].astype(str)
    f = tmp / "upload.geojson"
    pyogrio.write_dataframe(gdf.to_crs(4326), f, driver="GeoJSON")
    store_path = tmp / "store.gpkg"
    store = GeoPackageStore(store_path)
    before = fingerprint(store_path)
    boundaries = region["municipalities"]
    try:
        summary = upload_file(store, f, municipality_code="1980", uploader="h", boundaries=boundaries)
    except UploadError as exc:
        assert exc.report is None or not exc.report.ok
        assert fingerprint(store_path) == before
        assert set(kinds) != {"ok"}
        return
    assert set(kinds) == {"ok"}
    assert sorted(summary.inserted) == sorted(f"1980:R{i}" for i in range(len(kinds)))
    assert len(store.plots()) == len(kinds)


# -- the command line -------------------------------------------------------------------------


def test_plots_commands_end_to_end(tmp_path: Path, region: LayerSet) -> None:
    store = str(tmp_path / "store.gpkg")
    f = tmp_path / "tomter.gpkg"
    ex = municipal_export(region, "1980")
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    run = CliRunner().invoke
    r = run(main, ["plots", "check", "-m", "1980", str(f)])
    assert r.exit_code == 0 and "valid." in r.output
    r = run(main, ["plots", "upload", "-m", "1980", str(f), "--store", store, "--uploader", "anna"])
    assert r.exit_code == 0 and "3 new" in r.output, r.output
    r = run(main, ["plots", "list", "--store", store, "-m", "1980"])
    assert r.exit_code == 0 and "1980:Å-1" in r.output
    r = run(main, ["plots", "withdraw", "1980:Å-2", "--store", store, "--reason", "sold"])
    assert r.exit_code == 0
    r = run(main, ["plots", "history", "1980:Å-2", "--store", store])
    assert r.exit_code == 0 and "withdrawn" in r.output
    for suffix in (".gpkg", ".geojson", ".csv"):
        r = run(main, ["plots", "export", str(tmp_path / f"export{suffix}"), "--store", store])
        assert r.exit_code == 0 and "wrote 2 plots" in r.output, r.output
    assert len(gpd.read_file(tmp_path / "export.geojson")) == 2
    # the match reads plots from the store: added to the region's by default, or the store's alone
    lead = str(ROOT / "scenarios" / "logistics_warehouse.yaml")
    region_sites = len(LayerSet.from_path(ROOT / "layers")["plots"])  # all in member municipalities
    r = run(main, ["match", lead, "--store", store, "--no-map", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert f"of {region_sites + 2} sites" in r.output
    r = run(main, ["match", lead, "--store", store, "--plots", "store-only", "--no-map", "--out", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    assert "of 2 sites" in r.output


def test_a_refused_upload_prints_the_report_and_exits_1(tmp_path: Path, region: LayerSet) -> None:
    ex = municipal_export(region, "1980")
    ex.loc[1, "Användning"] = "Q"
    f = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    report = tmp_path / "report.json"
    p = _cli("plots", "upload", "-m", "1980", str(f), "--store", str(tmp_path / "s.gpkg"), "--report-json", str(report))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1
    assert "refused, nothing was written" in err and "unknown value 'Q'" in err and "Traceback" not in err
    assert '"field": "zoning"' in report.read_text(encoding="utf-8")
    p = _cli("plots", "check", "-m", "1980", str(f), "--json")
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 1 and '"ok": false' in out


def test_reading_a_missing_store_is_an_error_not_a_new_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo.gpkg"
    for args in (
        ["plots", "list", "--store", str(missing)],
        ["match", str(ROOT / "scenarios" / "data_centre.yaml"), "--store", str(missing), "--no-map"],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 1 and "no such plot store" in r.output
    assert not missing.exists()


def test_not_a_store_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=3006), other)
    r = CliRunner().invoke(main, ["plots", "list", "--store", str(other)])
    assert r.exit_code == 1 and "not a sitematch plot store" in r.output


def test_reading_while_uploads_commit_never_fails(tmp_path: Path, region: LayerSet) -> None:
    """The service reads the store for every match while municipalities upload: a read caught in a
    commit waits and retries. A stress check: GDAL's read-only open failed once with "attempt to
    write a readonly database" in the load test, a timing this loop does not hit every run."""
    store = tmp_path / "store.gpkg"
    plots = validated_plots(region, "1980", tmp_path)
    first = writer(store, plots, "1980")
    assert first.wait(timeout=120) == 0
    writers = [writer(store, plots, "1980") for _ in range(6)]
    reads = 0
    while any(w.poll() is None for w in writers):
        assert len(GeoPackageStore(store).plots()) == 3
        reads += 1
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    assert reads > 3
