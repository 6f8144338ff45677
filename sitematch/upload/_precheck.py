"""Checks on an upload's bytes before any parser reads them: bounded work, clear refusals.

- a zip is judged by its central directory alone (sizes, ratios, overlapping entries, encryption,
  compression method): nothing is unpacked to decide;
- a GeoPackage is opened read-only with SQLite and must hold tables only: a view (which can be
  recursive and never finish) or a virtual table other than an R-tree is refused before GDAL
  opens the file;
- a CSV must be text, with no line longer than a bound (a 100 MB header is refused, not echoed).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import time
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np

from sitematch.errors import UploadError
from sitematch.store.rules import shown

#: Most entries a zipped upload may hold (a Shapefile has 4 to 8 files).
MAX_ZIP_ENTRIES = 100
#: A member unpacking to more than this many times its packed size is not an honest deflate stream.
MAX_ZIP_RATIO = 1000
#: Longest CSV header line and data line, in bytes (a data line may carry a long WKT polygon).
MAX_CSV_HEADER_BYTES = 100_000
MAX_CSV_LINE_BYTES = 10_000_000
#: Seconds SQLite may spend on the checks of one GeoPackage.
SQLITE_CHECK_S = 5.0

_SQLITE_MAGIC = b"SQLite format 3\x00"
_RTREE = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\s+.*?\bUSING\s+rtree\s*\(", re.IGNORECASE | re.DOTALL)
_NOT_TEXT = {
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx), not CSV text; save it as CSV (UTF-8) from Excel",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls), not CSV text; save it as CSV (UTF-8) from Excel",
    b"%PDF": "a PDF document, not CSV text",
    b"\x1f\x8b": "a gzip archive, not CSV text",
}
_ZIP_AGAIN = "zip the Shapefile's files again (no password, ordinary compression)"


# -- zip ------------------------------------------------------------------------------------------
def zip_members(path: Path, name: str, max_unpacked_bytes: int) -> list[str]:
    """The member names of a zipped upload, after checking its central directory.

    Parameters
    ----------
    path : pathlib.Path
        The zip file.
    name : str
        The upload's name, for messages.
    max_unpacked_bytes : int
        Most bytes all members together may unpack to, as declared.

    Returns
    -------
    list of str

    Raises
    ------
    UploadError
        Not a zip; too many entries; an encrypted member; a compression method other than stored or
        deflate; entries that overlap (several sharing one compressed stream); members that declare
        more than ``max_unpacked_bytes`` or a ratio no honest deflate stream has.
    """
    if not zipfile.is_zipfile(path):
        raise UploadError(f"{name}: not a valid zip file (corrupt or truncated); {_ZIP_AGAIN}", where=name)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UploadError(f"{name}: corrupt zip file ({shown(str(exc))}); {_ZIP_AGAIN}", where=name) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadError(
            f"{name}: holds {len(infos):,} entries, more than the {MAX_ZIP_ENTRIES} allowed; zip only the "
            "Shapefile's files (.shp, .shx, .dbf, .prj, .cpg)",
            where=name,
        )
    for info in infos:
        _check_member(info, name)
    _check_overlaps(infos, name)
    total = sum(i.file_size for i in infos)
    if total > max_unpacked_bytes:
        raise UploadError(
            f"{name}: its members unpack to {total:,} bytes, more than the {max_unpacked_bytes:,} allowed; upload "
            "fewer plots per file",
            where=name,
        )
    return [i.filename for i in infos]


def _check_member(info: zipfile.ZipInfo, name: str) -> None:
    member = shown(info.filename)
    if info.flag_bits & 0x1:
        raise UploadError(f"{name}: member {member} is encrypted (password-protected); {_ZIP_AGAIN}", where=name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UploadError(
            f"{name}: member {member} uses compression method {info.compress_type}, which cannot be read; {_ZIP_AGAIN}",
            where=name,
        )
    if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise UploadError(
            f"{name}: member {member} claims to unpack {info.compress_size:,} bytes into {info.file_size:,} "
            f"(more than {MAX_ZIP_RATIO} times): not an ordinary zip; {_ZIP_AGAIN}",
            where=name,
        )


def _check_overlaps(infos: list[zipfile.ZipInfo], name: str) -> None:
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for cur, nxt in itertools.pairwise(ordered):
        # a local header is at least 30 bytes, and its data follows it
        if nxt.header_offset < cur.header_offset + 30 + cur.compress_size:
            raise UploadError(
                f"{name}: members {shown(cur.filename)} and {shown(nxt.filename)} overlap (they share their packed "
                f"data): not an ordinary zip; {_ZIP_AGAIN}",
                where=name,
            )


# -- GeoPackage -----------------------------------------------------------------------------------
def geopackage_layers(path: Path, name: str) -> list[str]:
    """The feature tables of a GeoPackage, after checking it holds tables only.

    Read with SQLite read-only and immutable (nothing is written beside the file), bounded in time.

    Returns
    -------
    list of str
        The tables ``gpkg_contents`` lists as features.

    Raises
    ------
    UploadError
        Not an SQLite database or not a GeoPackage; it holds a view or a virtual table other than
        an R-tree index; a listed table does not exist.
    """
    with path.open("rb") as f:
        if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise UploadError(
                f"{name}: not a GeoPackage (not an SQLite database); export it again from your GIS", where=name
            )
    rows, features = _read_schema(path, name)
    views = [n for kind, n, _ in rows if kind == "view"]
    if views:
        raise UploadError(
            f"{name}: holds a view ({shown(views[0])}), not only tables; sitematch reads tables only: save the "
            "layer as a new GeoPackage (in QGIS: Export › Save Features As…)",
            where=name,
        )
    virtual = [n for kind, n, sql in rows if kind == "table" and _is_virtual(sql) and not _RTREE.match(sql or "")]
    if virtual:
        raise UploadError(
            f"{name}: holds a virtual table ({shown(virtual[0])}); sitematch reads ordinary tables only: save the "
            "layer as a new GeoPackage",
            where=name,
        )
    tables = {n.lower() for kind, n, _ in rows if kind == "table"}
    missing = [f for f in features if f.lower() not in tables]
    if missing:
        raise UploadError(
            f"{name}: lists a layer {shown(missing[0])} that it does not hold; export it again", where=name
        )
    return features


def _is_virtual(sql: str | None) -> bool:
    return sql is not None and sql.lstrip().upper().startswith("CREATE VIRTUAL TABLE")


def _read_schema(path: Path, name: str) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro&immutable=1"
    deadline = time.monotonic() + SQLITE_CHECK_S
    con = sqlite3.connect(uri, uri=True)
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        if "gpkg_contents" not in {n.lower() for kind, n, _ in rows if kind == "table"}:
            raise UploadError(
                f"{name}: an SQLite database, but not a GeoPackage (it has no gpkg_contents table); export it again "
                "from your GIS as GeoPackage",
                where=name,
            )
        features = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
    except sqlite3.DatabaseError as exc:
        raise UploadError(
            f"{name}: not a readable GeoPackage ({shown(str(exc))}); export it again", where=name
        ) from None
    finally:
        con.close()
    return rows, [str(f) for f in features]


# -- CSV ------------------------------------------------------------------------------------------
def csv_text(raw: bytes, name: str) -> str:
    """Decode a CSV upload after checking it is text with lines of bounded length.

    Raises
    ------
    UploadError
        A spreadsheet, archive or other binary file renamed ``.csv``; a line longer than allowed
        (the line is named, never echoed); text in neither UTF-8 nor Windows-1252.
    """
    head = raw[:8192]
    for magic, what in _NOT_TEXT.items():
        if head.startswith(magic):
            raise UploadError(f"{name}: {what}", where=name)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw = raw.decode("utf-16").encode("utf-8")  # Excel's "Unicode text"
        head = raw[:8192]
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if controls > len(head) // 10:
        raise UploadError(f"{name}: not text (it holds binary data); save your table as CSV (UTF-8)", where=name)
    _check_lines(raw, name)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadError(f"{name}: text in neither UTF-8 nor Windows-1252; save it as CSV (UTF-8)", where=name)


def _check_lines(raw: bytes, name: str) -> None:
    ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(raw)]))
    lengths = np.diff(bounds) - 1
    if len(lengths) and lengths[0] > MAX_CSV_HEADER_BYTES:
        raise UploadError(
            f"{name}: its first line (the column names) is {int(lengths[0]):,} bytes long, more than the "
            f"{MAX_CSV_HEADER_BYTES:,} allowed; is this the right file?",
            where=name,
        )
    too_long = np.flatnonzero(lengths > MAX_CSV_LINE_BYTES)
    if len(too_long):
        line = int(too_long[0])
        raise UploadError(
            f"{name}: line {line + 1} is {int(lengths[line]):,} bytes long, more than the {MAX_CSV_LINE_BYTES:,} "
            "allowed; a field that long is not plot data",
            where=name,
            line=line + 1,
        )
