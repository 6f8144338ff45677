"""OGC API – Features, read by clients no one here wrote, from a real ``sitematch serve`` on loopback.

- ``ogctests`` (a black-box verifier of OGC API Features Part 1 Core, with Part 2's CRS class)
  passes every one of its 29 checks (it runs first: it wants features in every collection);
- owslib's ``Features`` (the OGC API client QGIS plugins and scripts use) reads the landing page,
  the conformance classes, the collections, pages of items and one item;
- GDAL (through pyogrio) reads the items URL as a GeoJSON layer, and the whole service as an
  ``OAPIF`` data source — following the ``next`` links page by page, as QGIS does — also in
  SWEREF 99 TM through its ``CRS`` open option;
- Part 2 CRS checks from its abstract test suite: the ``crs`` list and ``storageCrs``, ``crs`` and
  ``bbox-crs`` in the CRS's own axis order, ``Content-Crs``, 400 for a CRS not offered;
- queryables and property filters, HTML views (escaped), titles that name the lead as far as the
  caller may see it, and links that never come from the ``Host`` header;
- the OGC API's own rules for parameters: 400 for a bad ``bbox``, ``limit`` or an unknown
  parameter, 404 for an unknown collection or feature.

Expected values come from the example upload (``docs/examples/tomter_1980.csv``: Å-1 at 16.5050 E
59.6290 N, zoning J; Å-2 at 16.4700 E 59.5900 N, zoning Z) and the bundled region's GeoPackage,
read here with GDAL directly.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from unittest import mock

import pyogrio
import pytest
import shapely.geometry
from owslib.ogcapi.features import Features
from pyproj import Transformer

from sitematch import settings
from tests._service import EXAMPLE_CSV, QUICK_PROFILE, ROOT, auth, serve

pytestmark = pytest.mark.slow

HOSTILE_NAME = '<script>alert(1)</script><img src=x onerror="alert(2)">'
HOSTILE_ROW = f'Å-3,"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",E,ingen_plan,kommun,7.0,nej,,16.5500,59.6100\n'
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TO_3006 = Transformer.from_crs(4326, 3006, always_xy=True)


def region_plots():
    """The bundled region's plots, read with GDAL (not through the service)."""
    return pyogrio.read_dataframe(settings.bundled_region() / "region.gpkg", layer="plots")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ogc")
    upload = EXAMPLE_CSV.read_text(encoding="utf-8").rstrip("\n") + "\n" + HOSTILE_ROW
    with serve(tmp, profiles=ROOT / "scenarios") as srv:
        with srv.client("anna") as anna:
            r = anna.post("/api/plots", files={"file": ("tomter.csv", upload.encode())})
            assert r.status_code == 201, r.text
        with srv.client("bo") as bo:
            r = bo.post("/api/matches", json={"profile": QUICK_PROFILE})
            assert r.status_code == 201, r.text
            srv.match_id = r.json()["id"]
        yield srv


@pytest.fixture(scope="module")
def empty_match(server) -> str:
    """A match with no sites (made after the conformance suite ran: it wants features in every collection)."""
    none = {**QUICK_PROFILE, "lead": {"reference": "T-0"}, "requirements": {"min_area_ha": 100000}}
    with server.client("bo") as bo:
        r = bo.post("/api/matches", json={"profile": none})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def gdal_auth(server):
    """GDAL sends the adviser's token with every request (a Bearer header)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": f"Authorization: Bearer {server.tokens['bo']}"})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": None})


@pytest.fixture
def gdal_basic(server):
    """GDAL authenticates with Basic: the user name and an API token as the password (as QGIS's Basic does)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"bo:{server.tokens['bo']}"})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


# -- the conformance suite ------------------------------------------------------------------------
def test_ogctests_features_core_passes_every_check(server, tmp_path) -> None:
    report = tmp_path / "ogctests.xml"
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "_ogctests.py"), f"{server.url}/ogc", server.tokens["bo"], str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None, run.stdout[-3000:]
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": 29, "failures": 0, "errors": 0, "skipped": 0}, run.stdout[-5000:]
    assert run.returncode == 0
    names = {case.get("name") for case in suite.iter("testcase")}
    assert names == {f"test_ast{i}" for i in range(1, 30)}  # test_ast2: the Part 2 CRS class is declared


# -- clients ---------------------------------------------------------------------------------------
def test_owslib_reads_landing_conformance_collections_and_items(server, empty_match) -> None:
    api = Features(f"{server.url}/ogc/", headers=auth(server.tokens["bo"]))
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids[0] == "plots" and {f"match-{empty_match}", f"match-{server.match_id}"} <= set(ids)
    assert set(api.feature_collections()) == set(ids)
    plots = api.collection("plots")
    assert plots["itemType"] == "feature" and plots["extent"]["spatial"]["crs"].endswith("CRS84")
    first = api.collection_items("plots", limit=1)
    bundled = region_plots()
    assert first["numberMatched"] == len(bundled) + 3  # the region's plots and the three uploaded
    nxt = next(link for link in first["links"] if link["rel"] == "next")
    assert nxt["href"].startswith(server.url) and "offset=1" in nxt["href"]
    mine = api.collection_items("plots", municipality_code="1980", limit=100)
    ids_1980 = {f["id"] for f in mine["features"]}
    assert ids_1980 == {"1980:Å-1", "1980:Å-2", "1980:Å-3"} | set(bundled[bundled.municipality_code == "1980"].plot_id)
    one = api.collection_item("plots", "1980:Å-1")
    assert one["properties"]["name"] == "Finnslätten östra"
    ranked = api.collection_items(f"match-{server.match_id}", limit=5, bbox=[16.0, 59.0, 17.0, 60.0])
    assert ranked["features"] and all(
        16 <= x <= 17 for f in ranked["features"] for x, _ in f["geometry"]["coordinates"][0][0]
    )


def test_owslib_as_a_municipality_sees_its_own_plots_and_is_refused_a_confidential_match(server) -> None:
    api = Features(f"{server.url}/ogc/", headers=auth(server.tokens["per"]))
    seen = {f["properties"]["municipality_code"] for f in api.collection_items("plots", limit=100)["features"]}
    bundled = region_plots()
    assert seen == {"0180"}
    assert api.collection_items("plots")["numberMatched"] == (bundled.municipality_code == "0180").sum()
    with pytest.raises(RuntimeError, match="no feature"):  # not in its collection
        api.collection_item("plots", "1980:Å-1")
    with server.client("bo") as bo:
        secret = bo.post("/api/matches", json={"profile": {**QUICK_PROFILE, "lead": {"confidential": True}}}).json()
    with pytest.raises(RuntimeError, match="confidential"):
        Features(f"{server.url}/ogc/", headers=auth(server.tokens["cy"])).collection(f"match-{secret['id']}")


def test_gdal_reads_the_items_url_as_a_layer(server, gdal_auth) -> None:
    gdf = pyogrio.read_dataframe(f"{server.url}/ogc/collections/plots/items?municipality=1980&zoning=J,Z&limit=100")
    bundled = region_plots()
    expected = bundled[(bundled.municipality_code == "1980") & bundled.zoning.isin(["J", "Z"])].plot_id
    assert sorted(gdf["plot_id"]) == sorted(["1980:Å-1", "1980:Å-2", *expected])
    assert gdf.crs.to_epsg() == 4326 and 16 < gdf.total_bounds[0] < 17


def test_gdal_oapif_driver_pages_through_a_match(server, gdal_basic) -> None:
    source = f"OAPIF:{server.url}/ogc"
    layers = [name for name, _ in pyogrio.list_layers(source)]
    assert layers[0] == "plots" and f"match-{server.match_id}" in layers
    with server.client("bo") as bo:
        total = bo.get(f"/api/matches/{server.match_id}").json()["counts"]["ranked"]
    ranked = pyogrio.read_dataframe(source, layer=f"match-{server.match_id}")
    assert len(ranked) == total > 10  # more than one page of the default 10
    assert ranked["plot_id"].is_unique


def test_gdal_oapif_driver_reads_plots_in_sweref99tm_through_crs(server, gdal_basic) -> None:
    gdf = pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer="plots", CRS="EPSG:3006")
    assert gdf.crs.to_epsg() == 3006
    centre = gdf[gdf.plot_id == "1980:Å-1"].geometry.iloc[0].centroid
    east, north = TO_3006.transform(16.5050, 59.6290)
    assert abs(centre.x - east) < 5 and abs(centre.y - north) < 5  # metres
    log = server.log.read_text(errors="replace")
    assert "/ogc/collections/plots/items?" in log and f"crs={EPSG}3006" in log  # asked the server for it


# -- Part 2: coordinate reference systems ---------------------------------------------------------
def test_collections_list_the_crs_offered_and_the_storage_crs(server) -> None:
    wanted = {CRS84, f"{EPSG}4326", *(f"{EPSG}{code}" for code in range(3006, 3019))}
    with server.client("bo") as bo:
        listed = bo.get("/ogc/collections").json()
    assert wanted <= set(listed["crs"])
    for c in listed["collections"]:
        assert wanted <= set(c["crs"]) and c["storageCrs"] == f"{EPSG}3006"


def _centre(feature):
    centre = shapely.geometry.shape(feature["geometry"]).centroid  # of the coordinates as given, in their order
    return centre.x, centre.y


@pytest.mark.parametrize(
    ("crs", "first_is", "expected"),
    [(f"{EPSG}3006", "northing", TO_3006.transform(16.5050, 59.6290)[::-1]),
     ("EPSG:3006", "northing", TO_3006.transform(16.5050, 59.6290)[::-1]),
     (f"{EPSG}4326", "latitude", (59.6290, 16.5050)),
     (CRS84, "longitude", (16.5050, 59.6290)),
     (f"{EPSG}3011", "northing", Transformer.from_crs(4326, 3011, always_xy=True).transform(16.5050, 59.6290)[::-1])],
)  # fmt: skip
def test_crs_gives_coordinates_in_the_crs_axis_order_and_says_so(server, crs, first_is, expected) -> None:
    with server.client("bo") as bo:
        r = bo.get("/ogc/collections/plots/items/1980:Å-1", params={"crs": crs})
        page = bo.get("/ogc/collections/plots/items", params={"crs": crs, "municipality": "1980", "limit": 50})
    assert r.status_code == 200, r.text
    uri = crs if crs.startswith("http") else f"{EPSG}3006"
    assert r.headers["content-crs"] == f"<{uri}>" and page.headers["content-crs"] == f"<{uri}>"
    a, b = _centre(r.json())
    tolerance = 5 if first_is == "northing" else 5e-5
    assert abs(a - expected[0]) < tolerance and abs(b - expected[1]) < tolerance, (a, b)
    same = next(f for f in page.json()["features"] if f["id"] == "1980:Å-1")
    assert same["geometry"] == r.json()["geometry"]


def test_bbox_crs_is_read_in_that_crs_axis_order(server) -> None:
    east, north = TO_3006.transform(16.5050, 59.6290)
    around = (north - 50, east - 50, north + 50, east + 50)  # EPSG:3006: northing first

    def ids(bbox, bbox_crs):
        with server.client("bo") as bo:
            r = bo.get("/ogc/collections/plots/items", params={"bbox": ",".join(map(str, bbox)), "bbox-crs": bbox_crs})
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    assert ids(around, f"{EPSG}3006") == {"1980:Å-1"}
    assert ids((around[1], around[0], around[3], around[2]), f"{EPSG}3006") == set()  # easting first: nowhere
    assert ids((59.6285, 16.5045, 59.6295, 16.5055), f"{EPSG}4326") == {"1980:Å-1"}  # latitude first
    assert ids((16.5045, 59.6285, 16.5055, 59.6295), CRS84) == {"1980:Å-1"}


@pytest.mark.parametrize(
    "query",
    ["crs=EPSG:2400", f"crs={EPSG}3857", "crs=nonsense", "bbox=1,2,3,4&bbox-crs=EPSG:27700", "bbox-crs=EPSG:3006",
     f"bbox=6610000,584000,6600000,585000&bbox-crs={EPSG}3006"],
)  # fmt: skip
def test_crs_not_offered_or_bbox_crs_misused_is_400(server, query) -> None:
    with server.client("bo") as bo:
        r = bo.get(f"/ogc/collections/plots/items?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["status"] == 400 and ("CRS" in r.json()["message"] or "bbox" in r.json()["message"])


# -- queryables and filters -----------------------------------------------------------------------
def test_queryables_are_a_json_schema_of_the_filterable_properties(server) -> None:
    with server.client("bo") as bo:
        plots = bo.get("/ogc/collections/plots/queryables")
        match = bo.get(f"/ogc/collections/match-{server.match_id}/queryables")
    assert plots.headers["content-type"].startswith("application/schema+json")
    props = plots.json()["properties"]
    assert {"municipality_code", "zoning", "plan_status"} <= set(props) and "rank" not in props
    assert plots.json()["type"] == "object" and plots.json()["$id"].startswith(server.url)
    assert match.json()["properties"]["rank"]["type"] == "integer"


def test_property_filters_on_plots(server) -> None:
    bundled = region_plots()
    with server.client("bo") as bo:
        j = bo.get("/ogc/collections/plots/items?municipality=1980&zoning=J&limit=100").json()
        laga = bo.get("/ogc/collections/plots/items?status=laga_kraft&municipality_code=1980&limit=100").json()
    expected = {"1980:Å-1", *bundled[(bundled.municipality_code == "1980") & (bundled.zoning == "J")].plot_id}
    assert {f["id"] for f in j["features"]} == expected and j["numberMatched"] == len(expected)
    in_region = bundled[(bundled.municipality_code == "1980") & (bundled.plan_status == "laga_kraft")].plot_id
    assert {f["id"] for f in laga["features"]} == {"1980:Å-1", *in_region}


def test_rank_filters_on_a_match(server) -> None:
    with server.client("bo") as bo:
        top = bo.get(f"/ogc/collections/match-{server.match_id}/items?max_rank=3").json()
        mid = bo.get(f"/ogc/collections/match-{server.match_id}/items?rank=2..4").json()
        upto = bo.get(f"/ogc/collections/match-{server.match_id}/items?rank=..2").json()
    assert sorted(f["properties"]["rank"] for f in top["features"]) == [1, 2, 3]
    assert sorted(f["properties"]["rank"] for f in mid["features"]) == [2, 3, 4]
    assert sorted(f["properties"]["rank"] for f in upto["features"]) == [1, 2]


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [("plots", "colour=red", "colour"), ("plots", "rank=3", "rank"), ("match", "max_rank=x", "max_rank"),
     ("match", "rank=..", "rank"), ("plots", "ready=perhaps", "ready")],
)  # fmt: skip
def test_unknown_or_bad_property_filter_is_400_with_a_clear_message(server, path, query, words) -> None:
    cid = "plots" if path == "plots" else f"match-{server.match_id}"
    with server.client("bo") as bo:
        r = bo.get(f"/ogc/collections/{cid}/items?{query}")
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert words in message
    if "unknown" in message:
        assert "queryables" in message and "zoning" in message


# -- titles, extents, links -----------------------------------------------------------------------
def test_match_titles_name_the_lead_as_far_as_the_caller_may_see_it(server) -> None:
    with server.client("bo") as bo:
        adviser = bo.get(f"/ogc/collections/match-{server.match_id}").json()
    with server.client("anna") as anna:
        municipality = anna.get(f"/ogc/collections/match-{server.match_id}").json()
        listed = anna.get("/ogc/collections").text
    assert adviser["title"] == "Ranked sites for Quick test lead (T-1, Northwind Batteries AB)"
    assert municipality["title"] == "Ranked sites for lead T-1"
    assert "Northwind" not in listed and "Quick test lead" not in listed


def test_an_empty_match_has_no_extent_rather_than_sweden(server, empty_match) -> None:
    with server.client("bo") as bo:
        c = bo.get(f"/ogc/collections/match-{empty_match}").json()
        items = bo.get(f"/ogc/collections/match-{empty_match}/items").json()
    assert items["numberMatched"] == 0
    assert "extent" not in c


def test_links_never_come_from_a_forged_host_header(server) -> None:
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    with server.client("bo") as bo:
        for path in ("/ogc/", "/ogc/collections", "/ogc/collections/plots", "/ogc/collections/plots/items"):
            r = bo.get(path, headers=forged)
            assert r.status_code == 200 and "evil.example" not in r.text
            assert all(link["href"].startswith(server.url + "/") for link in r.json()["links"])


def test_links_use_the_configured_public_url_or_a_trusted_proxy(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from sitematch.service.app import create_app
    from sitematch.service.state import ServiceConfig
    from tests._service import add_accounts

    tokens = add_accounts(tmp_path / "data")
    app = create_app(ServiceConfig(store=str(tmp_path / "plots.gpkg"), data_dir=tmp_path / "data"))
    client = TestClient(app)
    forged = {**auth(tokens["bo"]), "Host": "evil.example", "X-Forwarded-Host": "proxy.example.se",
              "X-Forwarded-Proto": "https"}  # fmt: skip

    def hrefs() -> set[str]:
        links = client.get("/ogc/", headers=forged).json()["links"]
        return {re.sub(r"/(ogc|openapi\.json|docs).*", "", link["href"]) for link in links}

    assert hrefs() == {"http://testserver"}  # the address served on; no forwarded header is trusted
    with mock.patch.object(settings, "service_trusted_proxies", ("testclient",)):
        assert hrefs() == {"https://proxy.example.se"}
    with mock.patch.object(settings, "service_public_url", "https://gis.example.se/sitematch/"):
        assert hrefs() == {"https://gis.example.se/sitematch"}


# -- HTML ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/plots", "/ogc/collections/plots/queryables",
     "/ogc/collections/plots/items?municipality=1980&limit=50", "/ogc/collections/plots/items/1980:Å-3"],
)  # fmt: skip
def test_html_views_by_f_and_by_accept_with_data_escaped(server, path) -> None:
    with server.client("bo") as bo:
        by_f = bo.get(path + ("&" if "?" in path else "?") + "f=html")
        by_accept = bo.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        as_json = bo.get(path, headers={"Accept": "application/json"})
    for r in (by_f, by_accept):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text[:300]
        # no markup from the data: the one script is the site's own file (the phone menu, stacked tables)
        scripts = re.findall(r"<script[^>]*>", r.text)
        assert scripts in ([], ['<script src="/static/site.js">']) and "<img" not in r.text, scripts
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert as_json.headers["content-type"].startswith("application/")
    if "Å-3" in path or "items" in path:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in by_f.text


def test_html_items_page_links_to_each_feature_and_pages(server) -> None:
    with server.client("bo") as bo:
        r = bo.get("/ogc/collections/plots/items?f=html&limit=2&offset=2")
    assert 'rel="next"' in r.text and 'rel="prev"' in r.text and "Features 3–4 of" in r.text
    hrefs = re.findall(r'href="(/ogc/collections/plots/items/[^"?]+)\?f=html"', r.text)
    assert len(hrefs) == 2
    with server.client("bo") as bo:
        pages = [bo.get(html.unescape(h), params={"f": "html"}) for h in hrefs]
    assert [p.status_code for p in pages] == [200, 200]


# -- parameters and errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "status"),
    [("bbox=1,2,3", 400), ("bbox=a,b,c,d", 400), ("bbox=0,91,1,92", 400), ("limit=0", 400), ("limit=x", 400),
     ("offset=-1", 400), ("datetime=yesterday", 400), ("colour=red", 400), ("f=xml", 400), ("limit=100000", 200),
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


# -- the API definition ----------------------------------------------------------------------------
def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_openapi_is_the_30_the_conformance_declares_with_the_real_error_body(server) -> None:
    import ogctests
    import yaml
    from jsonschema import validate as validate_json
    from openapi_schema_validator import OAS30Validator, validate

    with server.client("bo") as bo:
        doc = bo.get("/openapi.json").json()
        landing = bo.get("/ogc/").json()
        conformance = bo.get("/ogc/conformance").json()["conformsTo"]
        refused = bo.get("/ogc/collections/roads")
        bad = bo.post("/api/matches", json={"profile": {"requirements": "none"}})
    schema_file = os.path.join(os.path.dirname(ogctests.__file__), "features", "schemas", "openapi_schema_v3.0.yaml")
    with open(schema_file, encoding="utf-8") as f:
        validate(doc, yaml.safe_load(f), cls=OAS30Validator)
    assert doc["openapi"].startswith("3.0.")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conformance
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    schemas = doc["components"]["schemas"]
    unresolved = {r for r in _refs(doc) if r.removeprefix("#/components/schemas/") not in schemas}
    assert unresolved == set()  # ReDoc stops at a dangling reference
    error = {"$ref": "#/components/schemas/ErrorBody", "components": doc["components"]}
    for response in (refused, bad):  # the real error bodies fit the documented one
        assert response.status_code in (404, 422)
        validate_json(response.json(), error)
    responses = {
        (path, method): set(op["responses"]) for path, ops in doc["paths"].items() for method, op in ops.items()
    }
    assert {"401", "403", "409", "413", "415", "422", "429", "503"} <= responses[("/api/plots", "post")]
    assert {"400", "401", "404"} <= responses[("/ogc/collections/{collection_id}/items", "get")]
    assert "422" not in responses[("/ogc/collections/{collection_id}/items", "get")]
    for (path, method), codes in responses.items():
        assert "401" in codes, (path, method)
        for code in codes - {"200", "201", "204"}:
            content = doc["paths"][path][method]["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (path, method, code)
