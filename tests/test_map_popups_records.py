"""The map's popups are built from plain dict rows: the same text as from a pandas row, for every site."""

from __future__ import annotations

import pytest

from sitematch.export._sitefacts import coordinates, coordinates_text
from sitematch.export.map import _popups, _records, site_popup
from sitematch.layers.region import open_region
from sitematch.matching import match
from sitematch.profile import load_profile


@pytest.fixture(scope="module")
def result():
    return match(load_profile("scenarios/logistics_warehouse.yaml"), open_region())


def test_every_popup_is_the_same_from_a_dict_row_as_from_a_pandas_row(result) -> None:
    sites = result.sites
    names = result.run.municipality_names
    where = coordinates(sites)
    by_series = [
        site_popup(result, row, names, coordinates_text(*where.loc[i, ["e", "n", "lat", "lon"]]))
        for i, row in sites.iterrows()
    ]
    assert _popups(result, sites, names) == by_series
    assert len(by_series) == len(sites) > 100
    # ranked, near misses and excluded sites are all among them
    assert {bool(p) for p in sites["passed"]} == {True, False}


def test_records_keep_every_value_but_the_geometry(result) -> None:
    rows = result.ranked.head(3)
    records = _records(rows)
    assert [r["plot_id"] for r in records] == list(rows["plot_id"])
    assert "geometry" not in records[0] and set(records[0]) == set(rows.columns) - {"geometry"}


def test_braces_in_a_plot_name_are_not_evaluated_by_folium_templates(result, tmp_path) -> None:
    """Folium compiles each element's rendered script as a Jinja template again: ``{{ 6*7 }}`` in a
    name must reach the page as text, never as 42 (nor run anything)."""
    from sitematch.export.map import write_map

    first = result.ranked.index[0]
    result.sites.loc[first, "name"] = "Tomt-{{ 6*7 }}-{% if true %}x{% endif %}"
    result.__dict__.pop("ranked", None)  # the cached views of sites are built again from it
    page = write_map(result, open_region(), tmp_path / "map.html").read_text(encoding="utf-8")
    assert "Tomt-42" not in page and "Tomt--x" not in page and "Tomt-x" not in page
    assert "Tomt-&#123;&#123; 6*7 &#125;&#125;-&#123;% if true %&#125;x&#123;% endif %&#125;" in page
