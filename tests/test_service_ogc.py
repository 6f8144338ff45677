"""OGC API – Features, read by clients no one here wrote, from a real ``sitematch serve`` on loopback.

- owslib's ``Features`` (the OGC API client QGIS plugins and scripts use) reads the landing page,
  the conformance classes, the collections, pages of items and one item;
- GDAL (through pyogrio) reads the items URL as a GeoJSON layer, and the whole service as an
  ``OAPIF`` data source — following the ``next`` links page by page, as QGIS does;
- the OGC API's own rules for parameters: 400 for a bad ``bbox``, ``limit`` or an unknown
  parameter, 404 for an unknown collection or feature.
"""

from __future__ import annotations

import pyogrio
import pytest
from owslib.ogcapi.features import Features

from tests._service import EXAMPLE_CSV, QUICK_PROFILE, ROOT, auth, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ogc")
    with serve(tmp, profiles=ROOT / "scenarios") as srv:
        with srv.client("anna") as anna:
            r = anna.post("/api/plots", files={"file": ("tomter.csv", EXAMPLE_CSV.read_bytes())})
            assert r.status_code == 201, r.text
        with srv.client("bo") as bo:
            r = bo.post("/api/matches", json={"profile": QUICK_PROFILE})
            assert r.status_code == 201, r.text
            srv.match_id = r.json()["id"]
        yield srv


@pytest.fixture
def gdal_auth(server):
    """GDAL sends the adviser's token with every request (as QGIS's "API header" authentication does)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": f"Authorization: Bearer {server.tokens['bo']}"})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": None})


def test_owslib_reads_landing_conformance_collections_and_items(server) -> None:
    api = Features(f"{server.url}/ogc/", headers=auth(server.tokens["bo"]))
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == ["plots", f"match-{server.match_id}"]
    assert set(api.feature_collections()) == set(ids)
    plots = api.collection("plots")
    assert plots["itemType"] == "feature" and plots["extent"]["spatial"]["crs"].endswith("CRS84")
    first = api.collection_items("plots", limit=1)
    assert first["numberMatched"] == 2 and first["numberReturned"] == 1
    nxt = next(link for link in first["links"] if link["rel"] == "next")
    assert nxt["href"].startswith(server.url) and "offset=1" in nxt["href"]
    second = api.collection_items("plots", limit=1, offset=1)
    assert {first["features"][0]["id"], second["features"][0]["id"]} == {"1980:Å-1", "1980:Å-2"}
    one = api.collection_item("plots", "1980:Å-1")
    assert one["properties"]["name"] == "Finnslätten östra"
    ranked = api.collection_items(f"match-{server.match_id}", limit=5, bbox=[16.0, 59.0, 17.0, 60.0])
    assert ranked["features"] and all(
        16 <= x <= 17 for f in ranked["features"] for x, _ in f["geometry"]["coordinates"][0][0]
    )


def test_owslib_as_a_municipality_sees_its_own_plots_and_is_refused_a_confidential_match(server) -> None:
    api = Features(f"{server.url}/ogc/", headers=auth(server.tokens["per"]))
    assert api.collection_items("plots")["features"] == []
    with pytest.raises(RuntimeError, match="no feature"):  # not in its collection
        api.collection_item("plots", "1980:Å-1")
    with server.client("bo") as bo:
        secret = bo.post("/api/matches", json={"profile": {**QUICK_PROFILE, "lead": {"confidential": True}}}).json()
    with pytest.raises(RuntimeError, match="confidential"):
        Features(f"{server.url}/ogc/", headers=auth(server.tokens["cy"])).collection(f"match-{secret['id']}")


def test_gdal_reads_the_items_url_as_a_layer(server, gdal_auth) -> None:
    gdf = pyogrio.read_dataframe(f"{server.url}/ogc/collections/plots/items?limit=100")
    assert sorted(gdf["plot_id"]) == ["1980:Å-1", "1980:Å-2"]
    assert gdf.crs.to_epsg() == 4326 and 16 < gdf.total_bounds[0] < 17


@pytest.fixture
def gdal_basic(server):
    """GDAL authenticates with Basic: the user name and an API token as the password (as QGIS's Basic does)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"bo:{server.tokens['bo']}"})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


def test_gdal_oapif_driver_pages_through_a_match(server, gdal_basic) -> None:
    source = f"OAPIF:{server.url}/ogc"
    layers = [name for name, _ in pyogrio.list_layers(source)]
    assert layers[0] == "plots" and f"match-{server.match_id}" in layers
    with server.client("bo") as bo:
        total = bo.get(f"/api/matches/{server.match_id}").json()["counts"]["ranked"]
    ranked = pyogrio.read_dataframe(source, layer=f"match-{server.match_id}")
    assert len(ranked) == total > 10  # more than one page of the default 10
    assert ranked["plot_id"].is_unique


@pytest.mark.parametrize(
    ("query", "status"),
    [("bbox=1,2,3", 400), ("bbox=a,b,c,d", 400), ("bbox=0,91,1,92", 400), ("limit=0", 400), ("limit=x", 400),
     ("offset=-1", 400), ("datetime=yesterday", 400), ("colour=red", 400), ("limit=100000", 200),
     ("datetime=2020-01-01/..", 200), ("bbox=16,59,0,17,60,100", 200)],
)  # fmt: skip
def test_items_parameters_as_the_standard_asks(server, query, status) -> None:
    with server.client("bo") as bo:
        r = bo.get(f"/ogc/collections/plots/items?{query}")
    assert r.status_code == status, r.text
    if status == 200:
        assert r.headers["content-type"].startswith("application/geo+json")


def test_unknown_collection_and_feature_are_404(server) -> None:
    with server.client("bo") as bo:
        assert bo.get("/ogc/collections/roads").status_code == 404
        assert bo.get("/ogc/collections/plots/items/1980:nosuch").status_code == 404
        assert bo.get("/ogc/collections/match-nosuch/items").status_code == 404
    with server.client("anna") as anna:  # a municipality reads its own plots
        assert anna.get("/ogc/collections/plots/items/1980:Å-2").status_code == 200
