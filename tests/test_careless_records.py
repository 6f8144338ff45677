"""Missing values are values (issue 13): plots with any optional field missing or extreme go through
upload → store → match → every exporter and the terminal, with no exception.

The records are valid (what the store accepts), but careless: no name, no price, no date, no MIFO
class on a brownfield, a name of 1,000 characters, prices of 0 or 10^15, and more.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from sitematch.cli import _heading, _summary, _top_table
from sitematch.export import write_all
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import parse_profile
from sitematch.store import open_store
from sitematch.upload import upload_file

ROOT = Path(__file__).resolve().parent.parent
_TEXT = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
OPTIONAL = {
    "Benämning": st.one_of(st.none(), st.just(""), st.text(_TEXT, max_size=40), st.just("Å" * 1000)),
    "Pris_kr_m2": st.one_of(st.none(), st.just(0.0), st.just(1e15), st.floats(0, 1e6)),
    "Uppdaterad": st.one_of(st.none(), st.dates().map(str)),
    "Ägare": st.one_of(st.none(), st.sampled_from(["kommun", "privat"])),
    "Byggklar": st.one_of(st.none(), st.sampled_from(["ja", "nej"])),
    "Förorenad": st.one_of(st.none(), st.sampled_from(["ja", "nej"])),
    "MIFO": st.one_of(st.none(), st.integers(1, 4)),
    "Areal_ha": st.one_of(st.just(9.0), st.floats(8.5, 9.5)),
}
RECORDS = st.lists(st.fixed_dictionaries({}, optional=OPTIONAL), min_size=1, max_size=5)
PROFILE = parse_profile(
    "name: Careless plots\nrequirements:\n  min_area_ha: 5\n  max_price_sek_m2: 900\n  min_mifo_risk_class: 3\n"
    "  brownfield_allowed: true\npreferences:\n  price_sek_m2: {weight: 1, full_at: 100, zero_at: 900}\n"
    "  distance_to_motorway_junction_m: {weight: 1, full_at: 1000, zero_at: 20000}\n"
    "  ready: {weight: 1, scores: {true: 1, false: 0}}\n"
)
_EXAMPLE = itertools.count()


def _geojson(records: list[dict], path: Path, refs: list[str]) -> None:
    base = shapely.box(587_000, 6_610_000, 587_300, 6_610_300)  # inside Västerås
    shapes = gpd.GeoSeries([shapely.affinity.translate(base, 0, 600.0 * i) for i in range(len(records))], crs=3006)
    geometry = json.loads(shapes.to_crs(4326).to_json())["features"]
    features = [
        {
            "type": "Feature",
            "properties": {"Objekt_ID": ref, "Användning": "J", "Planstatus": "antagen", **rec},
            "geometry": g["geometry"],
        }
        for ref, rec, g in zip(refs, records, geometry, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=RECORDS)
def test_careless_plots_go_through_every_exporter(tmp_path_factory, records: list[dict]) -> None:
    folder = tmp_path_factory.mktemp("careless")
    n = next(_EXAMPLE)
    upload = folder / "tomter.geojson"
    _geojson(records, upload, [f"C{n}-{i}" for i in range(len(records))])
    region = LayerSet.from_path(ROOT / "layers")
    store = open_store(folder / "plots.gpkg")
    upload_file(store, upload, municipality_code="1980", uploader="test", boundaries=region["municipalities"])
    layers = region.with_plots(open_store(folder / "plots.gpkg", create=False).plots(), origin="store")
    result = match(PROFILE, layers)
    assert len(result.sites) == len(records)
    written = write_all(result, layers, folder / "out", ["csv", "funnel", "gpkg", "map", "dossier"])
    assert all(path.stat().st_size > 0 for path in written.values())
    screen = Console(width=80, file=open(folder / "terminal.txt", "w", encoding="utf-8"))  # noqa: SIM115
    screen.print(_heading(result))
    screen.print(_top_table(result, 10, 80))
    for _indent, line in _summary(result, folder / "out"):
        screen.print(line)
    screen.file.close()
    assert "Careless plots" in (folder / "terminal.txt").read_text(encoding="utf-8")
