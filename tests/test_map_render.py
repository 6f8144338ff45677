"""A map rendered without compiling its rendered parts again is byte for byte the page stock branca renders."""

from __future__ import annotations

import itertools
from pathlib import Path

import branca.element
import branca.utilities
import folium
import folium.features
import folium.template
import jinja2
import pytest
from branca.element import Element, MacroElement, Template
from hypothesis import given
from hypothesis import strategies as st

from sitematch.export._map_parts import _INLINE_SCRIPT, inline_scripts, with_csp
from sitematch.export._map_render import PlainText, plain_text_elements, render_page, template
from sitematch.export.map import build_map, write_map
from sitematch.i18n import language
from sitematch.layers.region import open_region
from sitematch.matching import match
from sitematch.profile import load_profile


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch):
    """Element ids from a counter (branca draws them at random): restart it to build the same map again."""
    state = {"n": itertools.count()}

    def restart() -> None:
        state["n"] = itertools.count()

    monkeypatch.setattr(Element, "_generate_id", classmethod(lambda cls: f"{next(state['n']):032x}"))
    return restart


@pytest.fixture(scope="module")
def region():
    return open_region()


@pytest.mark.parametrize(
    ("scenario", "lang"),
    [("logistics_warehouse", "en"), ("battery_plant", "sv"), ("brownfield_recycling", "en"), ("data_centre", "sv")],
)
def test_a_match_map_is_byte_identical_to_stock_brancas(region, counted_ids, tmp_path: Path, scenario, lang) -> None:
    result = match(load_profile(f"scenarios/{scenario}.yaml"), region)
    counted_ids()
    with language(lang):
        stock = with_csp(build_map(result, region).get_root().render())  # branca as shipped: every text compiled
    assert branca.element.Template is jinja2.Template
    counted_ids()
    ours = write_map(result, region, tmp_path / "map.html", lang=lang).read_text(encoding="utf-8")
    assert branca.element.Template is jinja2.Template  # put back after rendering
    assert folium.features.Template is folium.template.Template
    assert branca.element._camelify is branca.utilities._camelify
    assert len(ours) > 1_000_000 and "sm-popup" in ours
    assert ours == stock


class _Echo(MacroElement):
    """An element whose script renders to ``text`` as it is (Jinja syntax and carriage returns included)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.text }}{% endmacro %}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Echo"
        self.text = text


def _page(counted_ids, texts: list[str], fast: bool) -> str:
    counted_ids()
    m = folium.Map(tiles=None)
    for text in texts:
        _Echo(text).add_to(m)
    return render_page(m) if fast else m.get_root().render()


def test_text_with_jinja_syntax_or_carriage_returns_is_still_compiled_as_branca_does(counted_ids) -> None:
    texts = ["var a = {{ 6*7 }};", "{% if true %}b{% endif %}", "c {# note #} d", "e\r\nf\rg", "h\n\n", "{x: {y: 1}}"]
    stock = _page(counted_ids, texts, fast=False)
    assert "var a = 42;" in stock and "c  d" in stock and "e\nf\ng" in stock  # branca's quirks, kept
    assert _page(counted_ids, texts, fast=True) == stock


def test_plain_text_is_not_compiled_and_the_swap_is_undone(counted_ids) -> None:
    with plain_text_elements():
        with plain_text_elements():  # re-entrant
            assert isinstance(Element("var a = 1;\n")._template, PlainText)
        assert branca.element.Template is not jinja2.Template
        assert isinstance(Element("{{ 1 }}")._template, jinja2.Template)
    assert branca.element.Template is jinja2.Template
    assert folium.features.Template is folium.template.Template
    assert branca.element._camelify is branca.utilities._camelify
    assert isinstance(Element("var a = 1;")._template, jinja2.Template)


def test_plain_text_answers_everything_else_a_template_has() -> None:
    assert PlainText("x\n").module.__dict__.get("script") is None
    assert "".join(PlainText("x\n").generate()) == "x"


@given(st.text(alphabet="{}%#\r\n -ab", max_size=14))
def test_template_renders_any_text_as_jinja_does(text: str) -> None:
    try:
        expected = jinja2.Template(text).render(this=None, kwargs={})
    except jinja2.TemplateError:
        with pytest.raises(jinja2.TemplateError):
            template(text).render(this=None, kwargs={})
        return
    assert template(text).render(this=None, kwargs={}) == expected


def test_a_regions_second_map_is_the_same_as_its_first(counted_ids, tmp_path: Path) -> None:
    """The base layers' features are kept in the region's cache: a map drawn with them kept (and one on the
    region with other plots, which shares the cache) is the map drawn from the layers themselves."""
    from sitematch.layers.layerset import LayerSet

    region = LayerSet.from_path("layers")  # its own: nothing kept yet
    result = match(load_profile("scenarios/logistics_warehouse.yaml"), region)
    pages = []
    for layers in (region, region, region.with_plots(region["plots"], add=False)):
        counted_ids()
        pages.append(write_map(result, layers, tmp_path / "map.html").read_text(encoding="utf-8"))
    assert any(k[0] == "map-municipalities" for k in region._cache)  # kept, and used the second time
    assert "Motorways (generalised)" in pages[0] and "member municipality" in pages[0]
    assert pages[1] == pages[0] and pages[2] == pages[0]


@given(st.lists(st.sampled_from(["<script>", "</script>", "<script src=x>", "a", "\n", "<", ">"]), max_size=12))
def test_inline_scripts_finds_what_the_scripts_regex_finds(parts: list[str]) -> None:
    page = "".join(parts)
    assert inline_scripts(page) == [m.group(1) for m in _INLINE_SCRIPT.finditer(page)]


def test_geo_interface_is_geopandas_own_key_for_key() -> None:
    import json

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry import MultiPolygon, Point, Polygon

    from sitematch.export._map_parts import geo_interface

    square = Polygon([(16.0, 59.0), (16.1, 59.0), (16.1, 59.1), (16.0, 59.1)])
    geoms = [square, Point(17.5, 60.25), MultiPolygon([square, Polygon([(18, 58), (18.5, 58), (18, 58.5)])]), None]
    properties = {
        "tip": ["<b>a</b>", None, "c", "d"],
        "fill": np.array(["#fff", "#000", "#abc", "#123"], dtype=object),
        "score": [1.5, float("nan"), 3.0, 0.1],
        "m": np.array([True, False, True, False]),
        "name": pd.Series(["x", pd.NA, "z", "w"], dtype="string"),
    }
    want = gpd.GeoDataFrame(properties, geometry=geoms, crs="EPSG:4326").__geo_interface__
    got = geo_interface(properties, geoms)
    assert json.dumps(got) == json.dumps(want)  # same keys in the same order, same values and types
    assert got == want
    assert got["features"][1]["properties"]["tip"] is None and got["features"][3]["geometry"] is None
    empty = gpd.GeoDataFrame({"tip": []}, geometry=[], crs="EPSG:4326").__geo_interface__
    assert json.dumps(geo_interface({"tip": []}, [])) == json.dumps(empty)
