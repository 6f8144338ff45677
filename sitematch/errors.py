"""The exception hierarchy of sitematch.

Every error a user can cause derives from :class:`SitematchError`; each also derives from the
built-in it specialises, so callers can catch precisely (``ProfileError``, ``StoreNotFoundError``) or
broadly (``ValueError``, ``LookupError``). Messages name the file, the row or key, what was wrong
and how to fix it — in words that fit any front end: the library never names a command-line flag.

Structured fields let each front end present the same error its own way:

``where``
    The file, URL or object the error is about (``"scenarios/lead.yaml"``).
``key``
    The key path in a profile or catalogue (``"requirements.min_area_ha"``), or the field.
``line``
    The 1-based line in ``where``, when known.
``hint``
    How to fix it, in plain words (already part of ``str(error)``).
``option``
    The name of the setting that fixes it (``"crs"``, ``"repair"``): the CLI shows it as a flag
    (``--crs``), the web service as a form field. Not part of ``str(error)``.

The CLI and the web service turn these into a clean message or a 4xx body; nothing else catches
broad ``Exception``.
"""

from __future__ import annotations

from typing import Any, Protocol


class SitematchError(Exception):
    """Base class of every error sitematch raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, naming the file, key or row.
    where, key, line, hint, option
        Structured fields (see the module docstring); ``hint`` is appended to the message.

    Examples
    --------
    >>> e = SitematchError("lead.yaml: 'min_area_ha': expected a number", key="min_area_ha", line=3)
    >>> e.line, str(e)
    (3, "lead.yaml: 'min_area_ha': expected a number")
    """

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        key: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        option: str | None = None,
    ) -> None:
        super().__init__(f"{message} {hint}" if hint else message)
        self.message = message
        self.where = where
        self.key = key
        self.line = line
        self.hint = hint
        self.option = option

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data, e.g. for a JSON error body."""
        return {
            "error": type(self).__name__,
            "message": str(self),
            **{k: v for k in ("where", "key", "line", "hint", "option") if (v := getattr(self, k)) is not None},
        }


class ProfileError(SitematchError, ValueError):
    """A requirement profile is malformed: unknown key, wrong unit, bad value."""


class CatalogueError(SitematchError, ValueError):
    """A region's layer catalogue (``layers.yaml``) declares something sitematch cannot use."""


class LayerError(SitematchError, ValueError):
    """A spatial layer cannot be read or does not meet its schema."""


class CRSError(LayerError):
    """A layer has no coordinate reference system, or one sitematch cannot use."""


class Report(Protocol):
    """What an :class:`UploadError` carries: a validation report that can say itself as JSON
    (:class:`sitematch.upload.ValidationReport`)."""

    def to_json(self) -> str: ...


class UploadError(SitematchError, ValueError):
    """An uploaded plot file was refused; ``report`` lists every problem found."""

    def __init__(self, message: str, report: Report | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.report = report


class StoreError(SitematchError, RuntimeError):
    """The plot store cannot be opened, read or written."""


class StoreNotFoundError(StoreError, LookupError):
    """The store, or a plot in it, does not exist."""


class StoreConflictError(StoreError):
    """The change conflicts with what the store holds (e.g. withdrawing a withdrawn plot)."""


class StoreBusyError(StoreError):
    """Another writer holds the store for longer than the lock timeout; try again."""
