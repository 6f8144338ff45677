"""The store's rules apply once to validated plots, and never less: a value changed after validation,
a column added, another municipality or other rows are checked again by the store (counted)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sitematch.store.rules as rules
from sitematch import schema as s
from sitematch.errors import UploadError
from sitematch.store.gpkg import GeoPackageStore
from sitematch.upload import read_upload
from sitematch.upload.validate import validate_checked
from tests._service import EXAMPLE_CSV


@pytest.fixture
def validated():
    raw, notes = read_upload(EXAMPLE_CSV)
    plots, report, checked = validate_checked(raw, municipality_code="1980", filename="tomter.csv", notes=notes)
    assert report.ok and len(plots) == 2
    plots[s.SOURCE], plots[s.LICENCE] = "test", "CC0"
    return plots, checked


@pytest.fixture
def geometry_checks(monkeypatch) -> list[int]:
    seen: list[int] = []
    real = rules._geometry_refusals

    def counted(geoms):
        seen.append(len(geoms))
        return real(geoms)

    monkeypatch.setattr(rules, "_geometry_refusals", counted)
    return seen


def test_validated_plots_are_not_checked_again(tmp_path: Path, validated, geometry_checks) -> None:
    plots, checked = validated
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    summary = store.upload(plots, municipality_code="1980", uploader="anna", checked=checked)
    assert summary.inserted == ["1980:Å-1", "1980:Å-2"]
    assert geometry_checks == []  # validation applied it; the store not again


def test_a_value_changed_after_validation_is_refused(tmp_path: Path, validated, geometry_checks) -> None:
    plots, checked = validated
    plots.loc[1, s.NAME] = "Hacksta\x00"
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    with pytest.raises(UploadError, match=r"row 2 name: contains a NUL character"):
        store.upload(plots, municipality_code="1980", uploader="anna", checked=checked)
    assert not (tmp_path / "plots.gpkg").exists()


def test_a_geometry_changed_after_validation_is_checked_again(tmp_path: Path, validated, geometry_checks) -> None:
    plots, checked = validated
    plots.loc[0, s.GEOMETRY] = plots.geometry.iloc[0].centroid
    with pytest.raises(UploadError, match=r"row 1 geometry: not a polygon"):
        GeoPackageStore(tmp_path / "plots.gpkg").upload(plots, municipality_code="1980", uploader="a", checked=checked)
    assert geometry_checks == [2]


def test_a_column_added_after_validation_is_checked(tmp_path: Path, validated) -> None:
    plots, checked = validated
    plots[s.LICENCE] = "CC0\x00"  # added after validation: validation never saw it
    with pytest.raises(UploadError, match=r"row 1 licence: contains a NUL character"):
        GeoPackageStore(tmp_path / "plots.gpkg").upload(plots, municipality_code="1980", uploader="a", checked=checked)


def test_another_municipality_or_other_rows_are_checked_whole(tmp_path: Path, validated, geometry_checks) -> None:
    plots, checked = validated
    store = GeoPackageStore(tmp_path / "plots.gpkg")
    with pytest.raises(UploadError, match=r"is not the uploading municipality 0180"):
        store.upload(plots, municipality_code="0180", uploader="anna", checked=checked)
    assert geometry_checks == [2]
    store.upload(plots.iloc[:1], municipality_code="1980", uploader="anna", checked=checked)
    assert geometry_checks == [2, 1]  # one row of two: not the frame that was checked


def test_unchanged_compares_type_and_value() -> None:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"a": ["1", None], "n": [1.0, float("nan")]}, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    checked = rules.checked(frame, "1980")
    assert checked.unchanged(frame, "1980") == {"a", "n", "geometry"}
    again = frame.copy()
    again["a"] = [1, None]  # equal as numbers to nothing: another type
    again["n"] = [1.0, 2.0]
    assert checked.unchanged(again, "1980") == {"geometry"}
    assert checked.unchanged(frame, "0180") == set()
