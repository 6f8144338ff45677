"""Hostile and careless uploads, written by script (no hand-made binaries).

Each ``make_*`` function writes one upload, alone in its own folder under ``Corpus.folder``, and
returns a :class:`Hostile`: the upload, a phrase its refusal must contain, and any further upload
arguments. Files the hostile uploads point at live in ``outside/`` and carry :data:`SECRET`, which
must never reach a message, a report or a store. Network tricks point at ``Corpus.listener``, a
loopback address the tests watch.
"""

from __future__ import annotations

import json
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

#: Planted in every file outside the uploads.
SECRET = "TOPSECRET-7f3a9c"


@dataclass(frozen=True)
class Hostile:
    """One hostile upload: the file, a phrase its refusal must contain, further upload arguments."""

    path: Path
    refusal: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Corpus:
    """Where to write, an ordinary export of Västerås (1980) to start from, the watched address."""

    folder: Path
    export: gpd.GeoDataFrame
    listener: str

    def upload(self, case: str, filename: str) -> Path:
        """A path for the upload of ``case``, alone in its folder."""
        folder = self.folder / case
        folder.mkdir(parents=True, exist_ok=True)
        return folder / filename

    def outside(self) -> Path:
        """Files beside no upload, each carrying SECRET: a Shapefile and a CSV of plots."""
        folder = self.folder / "outside"
        if not folder.exists():
            folder.mkdir(parents=True)
            secret = self.export.assign(Objekt_ID=[f"{SECRET}-{i}" for i in range(len(self.export))], Benämning=SECRET)
            _shapefile(secret, folder / "secret.shp")
            pd.DataFrame(secret.drop(columns="geometry")).assign(WKT=secret.geometry.to_wkt()).to_csv(
                folder / "plots.csv", index=False
            )
        return folder


# -- GDAL's virtual datasets: they read other files or the network ----------------------------------
def _shapefile(gdf: gpd.GeoDataFrame, path: Path) -> None:
    with warnings.catch_warnings():  # a Shapefile cuts 'Användning' to 10 bytes: expected here
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})


def _vrt(source: str, layer: str = "", extra: str = "") -> str:
    src_layer = f"<SrcLayer>{layer}</SrcLayer>" if layer else ""
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="tomter"><SrcDataSource>{source}</SrcDataSource>{src_layer}{extra}'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def make_vrt_saved_as_kml(c: Corpus) -> Hostile:
    path = c.upload("vrt_saved_as_kml", "tomter.kml")
    path.write_text(_vrt(str(c.outside() / "secret.shp"), "secret"), encoding="utf-8")
    return Hostile(path, "GDAL virtual dataset")


def make_vrt_inside_a_zip(c: Corpus) -> Hostile:
    path = c.upload("vrt_inside_a_zip", "tomter.zip")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tomter.shp", _vrt(str(c.outside() / "secret.shp"), "secret"))
        zf.writestr("tomter.shx", b"")
        zf.writestr("tomter.dbf", b"")
    return Hostile(path, "GDAL virtual dataset")


def make_vrt_file_inside_a_zip(c: Corpus) -> Hostile:
    path = c.upload("vrt_file_inside_a_zip", "tomter.zip")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tomter.vrt", _vrt(str(c.outside() / "secret.shp"), "secret"))
    return Hostile(path, "exactly one .shp")


def make_gdalg_saved_as_json(c: Corpus) -> Hostile:
    path = c.upload("gdalg_saved_as_json", "tomter.json")
    pipeline = f"gdal vector pipeline ! read {c.outside() / 'secret.shp'} ! write streamed_dataset --of stream"
    path.write_text(json.dumps({"type": "gdal_streamed_alg", "command_line": pipeline}), encoding="utf-8")
    return Hostile(path, "GDAL virtual dataset")


def make_vrt_reading_a_csv_saved_as_geojson(c: Corpus) -> Hostile:
    path = c.upload("vrt_reading_a_csv_saved_as_geojson", "tomter.geojson")
    geometry = "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:3006</LayerSRS>"
    geometry += '<GeometryField encoding="WKT" field="WKT"/>'
    path.write_text(_vrt(str(c.outside() / "plots.csv"), extra=geometry), encoding="utf-8")
    return Hostile(path, "GDAL virtual dataset")


def make_vsicurl_vrt_saved_as_kml(c: Corpus) -> Hostile:
    path = c.upload("vsicurl_vrt_saved_as_kml", "tomter.kml")
    path.write_text(_vrt(f"/vsicurl/{c.listener}/tomter.shp"), encoding="utf-8")
    return Hostile(path, "GDAL virtual dataset")


def make_geojson_crs_link(c: Corpus) -> Hostile:
    path = c.upload("geojson_crs_link", "tomter.geojson")
    doc = json.loads(c.export.to_crs(4326).to_json())
    doc["crs"] = {"type": "link", "properties": {"href": f"{c.listener}/crs.wkt", "type": "ogcwkt"}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return Hostile(path, "refers to 'http://127.0.0.1")


# -- parsers that never finish, or take a machine with them -----------------------------------------
def make_recursive_view_geopackage(c: Corpus) -> Hostile:
    import sqlite3

    path = c.upload("recursive_view_geopackage", "tomter.gpkg")
    pyogrio.write_dataframe(c.export, path, layer="tomter", driver="GPKG")
    with sqlite3.connect(path) as con:
        con.executescript(
            """
            CREATE VIEW tomter_v AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
                SELECT r.n AS fid, t.geom AS geom, t.Objekt_ID AS Objekt_ID FROM r, tomter t;
            INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
                VALUES ('tomter_v', 'features', 'tomter_v', 3006);
            INSERT INTO gpkg_geometry_columns VALUES ('tomter_v', 'geom', 'POLYGON', 3006, 0, 0);
            DELETE FROM gpkg_geometry_columns WHERE table_name = 'tomter';
            DELETE FROM gpkg_contents WHERE table_name = 'tomter';
            """
        )
    return Hostile(path, "holds a view")


def _zip_sharing_one_stream(path: Path, names: list[str], data: bytes, method: int) -> None:
    """A zip whose every entry points at the same local header and data (overlapping entries)."""
    if method == zipfile.ZIP_DEFLATED:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = packer.compress(data) + packer.flush()
    else:
        payload = data
    crc, first = zlib.crc32(data), names[0].encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), len(data), len(first), 0)
    central = b"".join(
        struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload), len(data),
            len(n.encode()), 0, 0, 0, 0, 0, 0,
        ) + n.encode()
        for n in names
    )  # fmt: skip
    body = local + first + payload
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central), len(body), 0)
    path.write_bytes(body + central + end)


def _deflate_bomb(c: Corpus, case: str, entries: int) -> Path:
    """``entries`` entries sharing one 100 MiB deflate stream (~100 kB on disk)."""
    path = c.upload(case, "tomter.zip")
    names = ["tomter.shp", "tomter.shx", "tomter.dbf", *(f"part{i}.dat" for i in range(entries - 3))]
    _zip_sharing_one_stream(path, names, bytes(100 << 20), zipfile.ZIP_DEFLATED)
    return path


def make_overlapping_deflate_zip(c: Corpus) -> Hostile:
    """As found: 200 entries share one 100 MiB stream (testzip() would inflate 20 GiB)."""
    return Hostile(_deflate_bomb(c, "overlapping_deflate_zip", 200), "holds 200 entries, more than the 100 allowed")


def make_overlapping_deflate_zip_few_entries(c: Corpus) -> Hostile:
    """90 entries (within the entry limit) sharing one 100 MiB stream: 9 GiB declared."""
    return Hostile(_deflate_bomb(c, "overlapping_deflate_zip_few_entries", 90), "not an ordinary zip")


def make_overlapping_stored_zip(c: Corpus) -> Hostile:
    path = c.upload("overlapping_stored_zip", "tomter.zip")
    names = ["tomter.shp", "tomter.shx", "tomter.dbf", *(f"part{i}.dat" for i in range(47))]
    _zip_sharing_one_stream(path, names, b"plot " * 200_000, zipfile.ZIP_STORED)
    return Hostile(path, "overlap")


def make_encrypted_zip_member(c: Corpus) -> Hostile:
    """A zipped Shapefile whose members are marked encrypted (general-purpose flag bit 0)."""
    path = c.upload("encrypted_zip_member", "tomter.zip")
    parts = c.upload("encrypted_zip_member", "parts")
    parts.mkdir()
    _shapefile(c.export, parts / "tomter.shp")
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(parts.iterdir()):
            zf.write(f, f.name)
    with zipfile.ZipFile(path) as zf:
        infos, start = zf.infolist(), zf.start_dir
    data = bytearray(path.read_bytes())
    for info in infos:
        data[info.header_offset + 6] |= 1  # local header flags
    pos = start
    while data[pos : pos + 4] == b"PK\x01\x02":  # central directory records
        data[pos + 8] |= 1
        n, e, k = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        pos += 46 + n + e + k
    path.write_bytes(bytes(data))
    for f in parts.iterdir():
        f.unlink()
    parts.rmdir()
    return Hostile(path, "encrypted")


def make_xlsx_renamed_csv(c: Corpus) -> Hostile:
    path = c.upload("xlsx_renamed_csv", "tomter.csv")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        types = "http://schemas.openxmlformats.org/package/2006/content-types"
        zf.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types xmlns="{types}"/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        zf.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet><sheetData/></worksheet>')
    return Hostile(path, "Excel workbook (.xlsx)")


def make_huge_csv_header(c: Corpus) -> Hostile:
    path = c.upload("huge_csv_header", "tomter.csv")
    with path.open("w", encoding="utf-8") as f:
        f.write("Objekt_ID;" + "N" * 100_000_000 + ";WKT\n")
        f.write(f"A-1;x;{c.export.geometry.iloc[0].wkt}\n")
    return Hostile(path, "first line (the column names) is 100,000,014 bytes long")


def make_huge_text_field(c: Corpus) -> Hostile:
    path = c.upload("huge_text_field", "tomter.gpkg")
    big = c.export.copy()
    big["Benämning"] = big["Benämning"].astype(object)
    big.loc[1, "Benämning"] = "x" * 100_000_000
    pyogrio.write_dataframe(big, path, driver="GPKG")
    return Hostile(path, "100,000,000 characters, more than the 1,000 allowed")


# -- careless or sly content --------------------------------------------------------------------
def make_nul_in_a_name(c: Corpus) -> Hostile:
    path = c.upload("nul_in_a_name", "tomter.csv")
    table = pd.DataFrame(c.export.drop(columns="geometry")).assign(WKT=c.export.geometry.to_wkt())
    table.loc[0, "Benämning"] = "Södra\x00etapp"
    table.to_csv(path, index=False, sep=";")
    return Hostile(path, "NUL character", {"crs": "EPSG:3006"})


def make_foreign_plot_id(c: Corpus) -> Hostile:
    path = c.upload("foreign_plot_id", "tomter.gpkg")
    pyogrio.write_dataframe(c.export.assign(plot_id=["0180:R3", "", ""]), path, driver="GPKG")
    return Hostile(path, "another municipality's plot")


def make_billion_laughs_mapping(c: Corpus) -> Hostile:
    """A 9-level 'billion laughs' mapping file (each level 9 aliases of the one below)."""
    path = c.upload("billion_laughs_mapping", "tomter.gpkg")
    pyogrio.write_dataframe(c.export, path, driver="GPKG")
    levels = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    mapping = path.with_name("mapping.yaml")
    mapping.write_text("\n".join(levels) + "\ncolumns: {local_ref: Objekt_ID}\n", encoding="utf-8")
    return Hostile(path, "aliases (*l0) are not allowed", {"mapping": mapping})


#: Every hostile upload, by name.
CASES: dict[str, Callable[[Corpus], Hostile]] = {
    name.removeprefix("make_"): fn for name, fn in sorted(globals().items()) if name.startswith("make_")
}


def polygon_m(geom: shapely.Polygon, m: float = 7.0) -> shapely.Polygon:
    """The polygon's exterior with a measure (M) on every vertex."""
    ring = ", ".join(f"{x} {y} {m}" for x, y in shapely.get_coordinates(geom.exterior))
    return shapely.from_wkt(f"POLYGON M (({ring}))")


def swedish_kml(c: Corpus, case: str = "swedish_kml") -> Path:
    """A KML as common GIS tools export it: untyped <Data> fields with Swedish names, placemark ids."""
    path = c.upload(case, "tomter.kml")
    marks = []
    for i, row in c.export.to_crs(4326).iterrows():
        ring = " ".join(f"{x},{y}" for x, y in shapely.get_coordinates(row.geometry.exterior))
        data = "".join(
            f'<Data name="{k}"><value>{row[k]}</value></Data>'
            for k in ("Objekt_ID", "Användning", "Planstatus", "Ägare")
        )
        marks.append(
            f'<Placemark id="pm{i}"><name>{row["Benämning"]}</name><ExtendedData>{data}</ExtendedData>'
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs>"
            "</Polygon></Placemark>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(marks)
        + "</Document></kml>",
        encoding="utf-8",
    )
    return path


def linking_files(c: Corpus) -> list[Path]:
    """Ordinary uploads that carry links a reader might follow: a GML with a remote schema, a KML with
    a network link and remote styles."""
    gml = c.upload("gml_remote_schema", "tomter.gml")
    pyogrio.write_dataframe(c.export, gml, driver="GML")
    gml.with_suffix(".xsd").unlink()
    text = gml.read_text(encoding="utf-8")
    remote = f"{c.listener}/wfs?SERVICE=WFS&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=tomter"
    local_schema = 'xsi:schemaLocation="http://ogr.maptools.org/ tomter.xsd"'
    assert local_schema in text, "pyogrio wrote the GML's schema location differently"
    gml.write_text(
        text.replace(local_schema, f'xsi:schemaLocation="http://ogr.maptools.org/ {remote}"'), encoding="utf-8"
    )
    kml = swedish_kml(c, "kml_network_link")
    link = f"<NetworkLink><Link><href>{c.listener}/more.kml</href></Link></NetworkLink>"
    style = f"<styleUrl>{c.listener}/style.kml#s</styleUrl>"
    kml.write_text(kml.read_text(encoding="utf-8").replace("<Document>", f"<Document>{link}{style}"), encoding="utf-8")
    return [gml, kml]
