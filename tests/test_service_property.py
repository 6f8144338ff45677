"""Property test: no request generated from the service's OpenAPI document yields a 5xx.

Schemathesis generates requests for every operation (path and query parameters, JSON bodies,
multipart uploads) from the document FastAPI publishes, and sends them to the real app with an
admin's token (the account that reaches every route's deepest code) and without one. Every
answer must be below 500, and every error must be a JSON body with a message — never a trace.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis
import pytest
import schemathesis

from sitematch.service.app import create_app
from sitematch.service.state import ServiceConfig
from tests._service import EXAMPLE_CSV, ROOT, add_accounts, auth

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

_DATA = Path(tempfile.mkdtemp(prefix="sitematch-property-"))
APP = create_app(
    ServiceConfig(store=str(_DATA / "plots.gpkg"), data_dir=_DATA / "data", profiles_dir=ROOT / "scenarios")
)
TOKENS = add_accounts(_DATA / "data")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def some_plots() -> None:
    """Plots in the store, so that plot routes get past "no such plot" now and then."""
    from fastapi.testclient import TestClient

    r = TestClient(APP).post(
        "/api/plots", headers=auth(TOKENS["anna"]), files={"file": ("t.csv", EXAMPLE_CSV.read_bytes())}
    )
    assert r.status_code == 201, r.text


@schema.parametrize()
@hypothesis.settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)
def test_no_generated_request_is_a_server_error(case) -> None:
    user = "root" if hash(repr(case.path_parameters)) % 4 else "anna"
    response = case.call(headers=auth(TOKENS[user]))
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        body = response.json()
        assert body["message"] and "Traceback" not in response.text


def test_requests_without_credentials_are_refused_not_failed() -> None:
    """Every operation without credentials: 401 (or the OGC API's 400 for its own parameters), never 5xx."""
    from fastapi.testclient import TestClient

    client = TestClient(APP)
    doc = client.get("/openapi.json").json()
    for path, operations in doc["paths"].items():
        concrete = path.replace("{plot_id}", "1980:Å-1").replace("{collection_id}", "plots")
        concrete = concrete.replace("{", "").replace("}", "")
        for method in operations:
            r = client.request(method.upper(), concrete)
            assert r.status_code == 401, (method, path, r.status_code)
