"""The PostGIS store on a real server: same behaviour and the same match as the GeoPackage store."""

from __future__ import annotations

import signal
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from sitematch import settings as sm_settings
from sitematch.errors import StoreBusyError, StoreConflictError, StoreNotFoundError, UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import load_profile
from sitematch.store import open_store
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import upload_file
from sitematch.upload.validate import validate_upload
from tests._postgis import postgis_url  # noqa: F401 - the fixture
from tests.test_store import EIGHT, validated_plots, wait_for, writer
from tests.test_upload import municipal_export

ROOT = Path(__file__).parent.parent
pytestmark = [pytest.mark.postgis, pytest.mark.slow]


@pytest.fixture(scope="module")
def region() -> LayerSet:
    return LayerSet.from_path(ROOT / "layers" / "region.gpkg")


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as con:
        con.execute("DROP TABLE IF EXISTS plots, plot_versions")


def test_postgis_store_versions_and_withdraws(postgis_url: str, region: LayerSet, tmp_path: Path) -> None:  # noqa: F811
    _reset(postgis_url)
    store = open_store(postgis_url)
    ex = municipal_export(region, "1980")
    f = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    boundaries = region["municipalities"]
    assert len(upload_file(store, f, municipality_code="1980", uploader="anna", boundaries=boundaries).inserted) == 3
    ex.loc[0, "Pris_kr_m2"] = 399.0
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    again = upload_file(store, f, municipality_code="1980", uploader="bertil", boundaries=boundaries)
    assert again.updated == ["1980:Å-1"] and len(again.unchanged) == 2
    assert store.history("1980:Å-1")["uploader"].tolist() == ["anna", "bertil"]
    store.withdraw("1980:Å-3", uploader="anna", reason="sold")
    assert sorted(store.plots()["plot_id"]) == ["1980:Å-1", "1980:Å-2"]
    before = store.plots(status="all")
    ex.loc[1, "Användning"] = "Q"
    pyogrio.write_dataframe(ex, f, driver="GPKG")
    with pytest.raises(UploadError):
        upload_file(store, f, municipality_code="1980", uploader="c", boundaries=boundaries)
    pd.testing.assert_frame_equal(pd.DataFrame(store.plots(status="all")), pd.DataFrame(before))


def test_the_same_match_gives_identical_rankings_on_both_backends(
    postgis_url: str,  # noqa: F811
    region: LayerSet,
    tmp_path: Path,
) -> None:
    _reset(postgis_url)
    stores = [GeoPackageStore(tmp_path / "store.gpkg"), open_store(postgis_url)]
    boundaries = region["municipalities"]
    plots = region["plots"]
    for code in sorted(plots["municipality_code"].unique())[:12]:
        f = tmp_path / f"{code}.gpkg"
        mine = plots[plots["municipality_code"] == code]
        export = mine.drop(columns=["plot_id", "source", "licence"]).astype(
            {"ready": bool, "brownfield": bool, "mifo_risk_class": "float64"}
        )
        pyogrio.write_dataframe(export, f, driver="GPKG")
        for store in stores:
            upload_file(store, f, municipality_code=code, uploader="test", boundaries=boundaries)
    profile = load_profile(ROOT / "scenarios" / "logistics_warehouse.yaml")
    a, b = (match(profile, region.with_plots(st.plots())) for st in stores)
    assert len(a.sites) > 20
    cols = ["plot_id", "rank", "score", "passed", "missed"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.sites[cols]).sort_values("plot_id").reset_index(drop=True),
        pd.DataFrame(b.sites[cols]).sort_values("plot_id").reset_index(drop=True),
    )
    assert a.ranked["plot_id"].tolist() == b.ranked["plot_id"].tolist()


def _empty_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as con:
        con.execute("DROP TABLE IF EXISTS plots, plot_versions")
        con.execute("DROP EXTENSION IF EXISTS postgis CASCADE")


def test_eight_concurrent_first_uploads_into_an_empty_database_all_land(
    postgis_url: str,  # noqa: F811
    region: LayerSet,
    tmp_path: Path,
) -> None:
    _empty_database(postgis_url)  # not even the PostGIS extension: the first uploads create everything
    go = tmp_path / "go"
    procs = [writer(postgis_url, validated_plots(region, code, tmp_path), code, "--go", str(go)) for code in EIGHT]
    for proc in procs:
        wait_for(proc, "ready")
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "stored 3" in out
    plots = open_store(postgis_url, create=False).plots()
    assert sorted(plots["municipality_code"].unique()) == sorted(EIGHT) and len(plots) == 3 * len(EIGHT)


def test_a_writer_killed_mid_upload_leaves_postgis_unchanged(
    postgis_url: str,  # noqa: F811
    region: LayerSet,
    tmp_path: Path,
) -> None:
    _reset(postgis_url)
    store = open_store(postgis_url)
    store.upload(gpd.read_parquet(validated_plots(region, "0180", tmp_path)), municipality_code="0180", uploader="s")
    before = store.plots(status="all")
    proc = writer(postgis_url, validated_plots(region, "1980", tmp_path), "1980", "--pause-before-commit", "60")
    wait_for(proc, "paused")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    pd.testing.assert_frame_equal(pd.DataFrame(store.plots(status="all")), pd.DataFrame(before))
    store.upload(gpd.read_parquet(validated_plots(region, "1980", tmp_path)), municipality_code="1980", uploader="s")
    assert len(store.plots()) == 6  # the killed writer's locks died with it


def test_postgis_store_errors_by_kind(
    postgis_url: str,  # noqa: F811
    region: LayerSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _reset(postgis_url)
    with pytest.raises(StoreNotFoundError, match="no plot store in this database"):
        open_store(postgis_url, create=False)
    store = open_store(postgis_url)
    assert store.plots().empty  # opening wrote nothing; reading an empty store is no error
    plots = validated_plots(region, "1980", tmp_path)
    store.upload(gpd.read_parquet(plots), municipality_code="1980", uploader="a")
    with pytest.raises(StoreNotFoundError):
        store.history("1980:nope")
    store.withdraw("1980:Å-1", uploader="a")
    with pytest.raises(StoreConflictError, match="already withdrawn"):
        store.withdraw("1980:Å-1", uploader="a")
    holder = writer(postgis_url, plots, "1980", "--pause-before-commit", "30")
    wait_for(holder, "paused")  # it holds 1980's upload lock
    monkeypatch.setattr(sm_settings, "lock_timeout_s", 0.5)
    with pytest.raises(StoreBusyError, match=r"more than 0\.5 s"):
        store.upload(gpd.read_parquet(plots), municipality_code="1980", uploader="b")
    holder.kill()
    holder.wait(timeout=30)


def test_a_store_made_before_the_extras_column_gets_it_when_opened(postgis_url: str, region: LayerSet) -> None:  # noqa: F811
    import psycopg

    _reset(postgis_url)
    store = open_store(postgis_url)
    plots, report = validate_upload(
        municipal_export(region, "1980"), municipality_code="1980", filename="t", boundaries=region["municipalities"]
    )
    assert report.ok, report.to_text()
    store.upload(plots.iloc[:1], municipality_code="1980", uploader="anna")
    with psycopg.connect(postgis_url) as con:  # as an earlier sitematch left it
        for table in ("plots", "plot_versions"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN extras")
    assert len(open_store(postgis_url, create=False).plots()) == 1  # opened: brought up to date, then read
    with psycopg.connect(postgis_url) as con:
        columns = con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'extras' "
            "AND table_name IN ('plots', 'plot_versions') ORDER BY table_name"
        ).fetchall()
    assert [c[0] for c in columns] == ["plot_versions", "plots"]
