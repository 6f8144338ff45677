"""The exception hierarchy of sitematch.

Every error a user can cause derives from :class:`SitematchError`; each also derives from the
built-in it specialises, so callers can catch precisely (``ProfileError``) or broadly
(``ValueError``). Messages name the file, the row or key, what was wrong and how to fix it. The
CLI and the web service turn these into a clean message; nothing else catches broad ``Exception``.
"""

from __future__ import annotations


class SitematchError(Exception):
    """Base class of every error sitematch raises on purpose."""


class ProfileError(SitematchError, ValueError):
    """A requirement profile (YAML) is malformed: unknown key, wrong unit, bad value."""


class LayerError(SitematchError, ValueError):
    """A spatial layer cannot be read or does not meet its schema."""


class CRSError(LayerError):
    """A layer has no coordinate reference system, or one sitematch cannot use."""


class UploadError(SitematchError, ValueError):
    """An uploaded plot file was refused; ``report`` lists every problem found."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class StoreError(SitematchError, RuntimeError):
    """The plot store cannot be opened, read or written."""
