"""The PostGIS store on a real server: same behaviour and the same match as the GeoPackage store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from sitematch.errors import UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.match import match
from sitematch.profile import load_profile
from sitematch.store import open_store
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import upload_file
from tests._postgis import postgis_url  # noqa: F401 - the fixture
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
