"""The pages in Swedish and English, through a real ``sitematch serve`` on loopback: the login page and the
municipality page follow Accept-Language; an account's own choice overrides it; municipal staff read
Swedish by default, advisers English; numbers on a Swedish page have a decimal comma."""

from __future__ import annotations

import contextlib
import re

import httpx
import pytest

from tests._service import free_port, post_login, serve  # noqa: F401 (free_port: serve uses it)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: Two plots of Västerås with areas a float would write with noise (9.2 ha) or with two decimals.
PLOTS_CSV = (
    "Objekt_ID,Benämning,Användning,Planstatus,Ägare,Areal_ha,Byggklar,lon,lat\n"
    "Å-1,Finnslätten östra,J,laga_kraft,kommun,9.2,ja,16.5050,59.6290\n"
    "Å-2,Hacksta verksamhetsområde,Z,antagen,privat,12.25,nej,16.4700,59.5900\n"
).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("i18n")) as srv:
        with srv.client("anna") as api:
            r = api.post("/api/plots", files={"file": ("tomter.csv", PLOTS_CSV, "text/csv")})
            assert r.status_code == 201, r.text
        yield srv


def _session(server, user: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, timeout=120, follow_redirects=False)
    r = post_login(client, user, Origin=server.url)
    assert r.status_code == 303, r.text
    page = client.get("/tokens").text
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _lang(page: httpx.Response) -> str:
    return re.search(r'<html lang="([a-z]+)">', page.text).group(1)


def test_the_login_page_in_swedish_and_english(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        sv = client.get("/login", headers={"Accept-Language": "sv"})
        en = client.get("/login", headers={"Accept-Language": "en"})
        browser_sv = client.get("/login", headers={"Accept-Language": "sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7"})
        prefers_sv = client.get("/login", headers={"Accept-Language": "en;q=0.4, sv;q=0.9"})
    assert sv.status_code == en.status_code == 200
    assert _lang(sv) == "sv" and sv.headers["content-language"] == "sv"
    assert "<h1>Logga in</h1>" in sv.text and "Användarnamn" in sv.text and "Lösenord" in sv.text
    assert "User name" not in sv.text and "Password" not in sv.text
    assert _lang(en) == "en" and "<h1>Log in</h1>" in en.text and "User name" in en.text
    assert "Logga in" not in en.text and "Användarnamn" not in en.text
    assert _lang(browser_sv) == "sv" and _lang(prefers_sv) == "sv"
    assert "accept-language" in sv.headers["vary"].lower()


def test_a_wrong_password_is_refused_in_the_pages_language(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60, headers={"Accept-Language": "sv"}) as client:
        r = post_login(client, "anna", "not the password", Origin=server.url)
    assert r.status_code == 401 and "Fel användarnamn eller lösenord." in r.text


def test_the_municipality_page_in_swedish_and_english(server) -> None:
    client, _csrf = _session(server, "anna")
    with contextlib.closing(client):
        sv = client.get("/municipality", headers={"Accept-Language": "sv"})
        en = client.get("/municipality", headers={"Accept-Language": "en"})
    assert sv.status_code == en.status_code == 200
    assert _lang(sv) == "sv" and "Tomter i Västerås" in sv.text and "Ladda upp tomter" in sv.text
    assert ">Våra tomter</a>" in sv.text and ">Förfrågningar</a>" in sv.text and ">Logga ut</button>" in sv.text
    assert ">Dra tillbaka</button>" in sv.text and "<th>areal (ha)</th>" in sv.text
    assert "Upload plots" not in sv.text and "Withdraw" not in sv.text
    assert _lang(en) == "en" and "Plots of Västerås" in en.text and "Upload plots" in en.text
    assert ">Our plots</a>" in en.text and ">Withdraw</button>" in en.text and "<th>area (ha)</th>" in en.text
    assert "Ladda upp tomter" not in en.text and "Våra tomter" not in en.text
    # numbers: Swedish decimal comma on the Swedish page, a point on the English one, no float noise
    assert "<td>9,2</td>" in sv.text and "<td>12,25</td>" in sv.text
    assert "<td>9.2</td>" in en.text and "<td>12.25</td>" in en.text
    assert "9.200000" not in sv.text + en.text


def test_municipal_staff_read_swedish_by_default_advisers_english(server) -> None:
    anna, _ = _session(server, "anna")
    bo, _ = _session(server, "bo")
    pia, _ = _session(server, "pia")
    # httpx sends no Accept-Language: the role decides
    with contextlib.closing(anna), contextlib.closing(bo), contextlib.closing(pia):
        assert _lang(anna.get("/municipality")) == "sv"
        assert _lang(pia.get("/brownfield")) == "sv"
        assert _lang(bo.get("/tokens")) == "en"
        assert _lang(bo.get("/tokens", headers={"Accept-Language": "de, sv;q=0.5"})) == "sv"
        assert _lang(anna.get("/municipality", headers={"Accept-Language": "de"})) == "sv"


def test_the_accounts_own_choice_overrides_the_browser(server) -> None:
    client, csrf = _session(server, "per")
    with contextlib.closing(client):
        r = client.post("/language", data={"language": "en", "csrf_token": csrf})
        assert r.status_code == 303
        page = client.get("/municipality", headers={"Accept-Language": "sv"})
        assert _lang(page) == "en" and "Plots of Stockholm" in page.text and "Våra tomter" not in page.text
        tokens = client.get("/tokens", headers={"Accept-Language": "sv"}).text
        assert '<option value="en" selected>English</option>' in tokens
        r = client.post("/language", data={"language": "sv", "csrf_token": csrf})
        page = client.get("/municipality", headers={"Accept-Language": "en"})
        assert _lang(page) == "sv" and "Tomter i Stockholm" in page.text
        # back to "as the browser asks"
        client.post("/language", data={"language": "", "csrf_token": csrf})
        assert _lang(client.get("/municipality", headers={"Accept-Language": "en"})) == "en"
        # a language sitematch does not speak is refused, and changes nothing
        r = client.post("/language", data={"language": "de", "csrf_token": csrf})
        assert r.status_code == 422
        assert _lang(client.get("/municipality", headers={"Accept-Language": "en"})) == "en"
        # without the form's CSRF token nothing changes either
        assert client.post("/language", data={"language": "sv"}).status_code == 403
        assert _lang(client.get("/municipality", headers={"Accept-Language": "en"})) == "en"


def test_an_error_page_is_in_the_language_of_the_account(server) -> None:
    client, _csrf = _session(server, "anna")
    with contextlib.closing(client):
        r = client.get("/plots/0180:X/history")  # another municipality's plot: refused
        assert r.status_code in (403, 404) and _lang(r) == "sv"
        assert "Tillbaka till början" in r.text and "Back to the start" not in r.text
        r = client.get("/plots/0180:X/history", headers={"Accept-Language": "en"})
        assert _lang(r) == "en" and "Back to the start" in r.text
