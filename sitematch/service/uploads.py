"""An uploaded file, before the library reads it: its name, declared type, size and first bytes.

The library reads and validates the file (in an isolated child process, one GDAL driver, within
size and time limits: :mod:`sitematch.upload`); this module refuses early, with a clear 413 or
415, what is plainly not a plot file: a name without an accepted suffix, a declared media type of
another kind (an image, a PDF, a web page), bytes that do not begin as the suffix says, or more
bytes than ``settings.upload_max_bytes``. The file is kept in a private folder under a cleaned
name (no path, no control characters) and deleted after the request.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import BinaryIO

from sitematch import settings
from sitematch.service.errors import ServiceError, TooLargeError, UnsupportedMediaError
from sitematch.upload.readers import DRIVERS, FORMATS

#: How each binary format begins.
MAGIC: dict[str, tuple[bytes, ...]] = {
    ".gpkg": (b"SQLite format 3\x00",),
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".fgb": (b"fgb\x03",),
}
#: The first character of each text format, after a byte-order mark and white space.
TEXT_START: dict[str, bytes] = {".geojson": b"{", ".json": b"{", ".kml": b"<", ".gml": b"<"}
#: Declared media types that are never a plot file.
_REFUSED_TYPES = re.compile(
    r"^(image|audio|video|font|model)/|^(application/(pdf|javascript|x-msdownload|x-executable|x-sh)|text/html|"
    r"text/javascript)\b",
    re.IGNORECASE,
)
_UNSAFE = re.compile(r"[^\w.\- ()åäöÅÄÖ]+")


def clean_name(name: str | None) -> str:
    """The file's own name, without any folder and with unusual characters replaced.

    Examples
    --------
    >>> clean_name("../../etc/tomter.csv"), clean_name("C:\\\\GIS\\\\Tomter Å-1.gpkg"), clean_name("a\\x1b[31m.zip")
    ('tomter.csv', 'Tomter Å-1.gpkg', 'a_31m.zip')
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:120]
    return base or "upload"


def check_name(name: str) -> str:
    """The lower-case suffix of an upload's name, if it is a format sitematch reads; else 415."""
    suffix = Path(name).suffix.lower()
    if suffix not in DRIVERS:
        accepted = ", ".join(f"{FORMATS[k]} ({k})" for k in DRIVERS)
        raise UnsupportedMediaError(f"{name}: not a file type sitematch reads; send one of: {accepted}", key="file")
    return suffix


def check_type(name: str, content_type: str | None) -> None:
    """415 if the declared media type says the file is something else (an image, a PDF, a web page)."""
    if content_type and _REFUSED_TYPES.search(content_type):
        raise UnsupportedMediaError(
            f"{name}: sent as {content_type[:60]!r}, which is no plot file; send the file your GIS exported",
            key="file",
        )


def check_magic(name: str, suffix: str, head: bytes) -> None:
    """415 if the file's first bytes are not how its format begins.

    Examples
    --------
    >>> check_magic("a.gpkg", ".gpkg", b"SQLite format 3\\x00...")
    >>> check_magic("a.geojson", ".geojson", b"\\xef\\xbb\\xbf  {")
    >>> check_magic("a.zip", ".zip", b"<html>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sitematch.service.errors.UnsupportedMediaError: a.zip: does not begin as a zipped Shapefile does; ...
    """
    fmt = FORMATS[suffix]
    if suffix in MAGIC:
        ok = head.startswith(MAGIC[suffix])
    elif suffix in TEXT_START:
        ok = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(TEXT_START[suffix])
    else:
        return  # CSV: the library's own checks say what a file that is not CSV text is
    if not ok:
        raise UnsupportedMediaError(
            f"{name}: does not begin as a {fmt} does; is it another kind of file renamed? "
            f"Export it again from your GIS as {fmt}",
            key="file",
        )


def save(stream: BinaryIO, name: str | None, content_type: str | None, folder: Path) -> Path:
    """Check an uploaded file and copy it into ``folder`` under its cleaned name (413/415 if refused)."""
    clean = clean_name(name)
    suffix = check_name(clean)
    check_type(clean, content_type)
    head = stream.read(64)
    check_magic(clean, suffix, head)
    target = folder / clean
    limit = settings.upload_max_bytes
    with target.open("wb") as out:
        out.write(head)
        shutil.copyfileobj(stream, out, 1 << 20)
        size = out.tell()
    if size > limit:
        raise TooLargeError(f"{clean}: {size:,} bytes; an upload may have at most {limit:,}", key="file")
    if size == 0:
        raise ServiceError(f"{clean}: the file is empty", key="file")
    return target
