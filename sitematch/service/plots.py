"""Plots in the service: whose plots an account may read and change, and uploads stored whole or
not at all (application functions the plot, OGC and municipality routes and pages share)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
from fastapi import UploadFile

from sitematch.service.accounts import User
from sitematch.service.auth import own_municipality
from sitematch.service.errors import NotFoundError, ServiceError
from sitematch.service.state import Service, upload_prefix
from sitematch.service.uploads import save
from sitematch.store import open_store
from sitematch.store.base import check_municipality_code
from sitematch.upload import ValidationReport, upload_file

T = TypeVar("T")


def upload_code(user: User, municipality: str | None) -> str:
    """The municipality an upload is for: the account's own (403 for another's); an admin names it."""
    if user.municipality is None:
        if not municipality:
            raise ServiceError("name the municipality (kommunkod) the plots belong to", key="municipality")
        return check_municipality_code(municipality)
    if municipality and municipality != user.municipality:
        own_municipality(user, municipality, f"municipality {municipality[:8]!r}'s plots")
    return user.municipality


def plot_owner(plot_id: str) -> str:
    """The kommunkod a plot id names (``1980:Å-1`` → ``1980``); 404 for a malformed id."""
    code, sep, ref = plot_id.partition(":")
    if not sep or not ref or not (code.isdigit() and len(code) == 4):
        raise NotFoundError(f"{plot_id[:60]!r} is not a plot id (kommunkod:reference, e.g. 1980:P01)")
    return code


def readable(user: User, plot_id: str, what: str) -> str:
    """The plot's municipality, if ``user`` may read ``what`` of it (403 for another municipality's)."""
    code = plot_owner(plot_id)
    if user.municipality is not None:
        own_municipality(user, code, what)
    return code


def with_file(
    svc: Service, file: UploadFile, mapping: UploadFile | bytes | None, work: Callable[[Path, Path | None], T]
) -> T:
    """Keep the upload (and its mapping file) in a private folder for ``work(path, mapping_path)``."""
    with tempfile.TemporaryDirectory(dir=svc.uploads_dir, prefix=upload_prefix()) as tmp:
        path = save(file.file, file.filename, file.content_type, Path(tmp))
        mapping_path = None
        if isinstance(mapping, bytes):  # a mapping written in the upload page
            mapping_path = Path(tmp) / "mapping.yaml"
            mapping_path.write_bytes(mapping)
        elif mapping is not None and mapping.filename:
            mapping_path = Path(tmp) / "mapping.yaml"
            mapping_path.write_bytes(mapping.file.read(100_001))  # one byte more than allowed: refused as too large
        return work(path, mapping_path)


def store_upload(
    svc: Service,
    user: User,
    file: UploadFile,
    mapping: UploadFile | bytes | None,
    *,
    municipality: str | None,
    crs: str | None,
    accept_valid: bool,
    repair: bool,
) -> dict[str, Any]:
    """Validate an uploaded file whole and store it all or nothing: the summary and the report, row by row.

    Raises UploadError (422, with the report) when the file is refused; the store is then untouched.
    """
    code = upload_code(user, municipality)

    def work(path: Path, mapping_path: Path | None) -> dict[str, Any]:
        store = open_store(svc.config.store)
        reports: list[ValidationReport] = []  # the file is read and validated once, in upload_file
        summary = upload_file(store, path, municipality_code=code, uploader=user.username, crs=crs or None,
                              mapping=mapping_path, accept_valid=accept_valid, repair=repair,
                              on_report=reports.append)  # fmt: skip
        report = reports[0]
        return {"summary": asdict(summary), "message": summary.describe(), "report": json.loads(report.to_json())}

    return with_file(svc, file, mapping, work)


def store_plots(svc: Service, **query: Any) -> gpd.GeoDataFrame:
    """The store's plots (none while the store does not exist yet)."""
    return open_store(svc.config.store).plots(**query)
