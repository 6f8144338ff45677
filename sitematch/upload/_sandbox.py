"""Read an upload in a child process that can open only that file, with only the driver meant for it.

GDAL chooses a driver by looking at a file's content, and some of its drivers read other files or
the network by design: an OGR VRT saved as ``.kml``, a GDALG pipeline saved as ``.json``, a
``/vsicurl/`` path, a GeoJSON whose ``"crs"`` is a link. pyogrio cannot restrict the drivers it
opens a file with, so an upload is read in a child process in which:

- every GDAL driver except the one meant for the upload's format is deregistered, so no other
  driver can claim the file, whatever it holds;
- GDAL's network and archive file systems (``/vsicurl/``, ``/vsis3/``, ``/vsitar/``…) are removed,
  except ``/vsizip/`` and ``/vsimem/``;
- every HTTP request GDAL attempts is refused, and the upload is then refused naming the address;
- the read is stopped when it takes longer than ``settings.upload_read_timeout_s``;
- nothing the child prints reaches the user's terminal.

Children are forked from a server process that has the libraries loaded (multiprocessing's
``forkserver``; ``spawn`` where there is none), so a read costs tens of milliseconds after the
first. As with any multiprocessing, a script that reads uploads must guard its entry point with
``if __name__ == "__main__":`` (the ``sitematch`` command and ``python -m`` entry points do).
If GDAL's drivers cannot be restricted (a GDAL build without the needed functions), uploads are
refused rather than read unprotected.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from sitematch.errors import UploadError

logger = logging.getLogger(__name__)

#: GDAL file systems kept in the child: zip archives (zipped Shapefiles) and GDAL's own memory files.
KEPT_FILE_SYSTEMS = ("/vsizip/", "/vsimem/")
#: Modules the fork server loads once, so that each child starts in milliseconds.
PRELOAD = ["sitematch.upload.readers"]
_FIELDS = ("where", "key", "line", "hint", "option")

_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
    ctypes.c_void_p, ctypes.c_void_p,
)  # fmt: skip
_refused_urls: list[str] = []
_keep_alive: list[object] = []


def _gdal() -> ctypes.CDLL:
    """The GDAL library pyogrio uses (its extension module resolves GDAL's symbols)."""
    import pyogrio._ogr

    lib = ctypes.CDLL(pyogrio._ogr.__file__)
    try:
        _declare(lib)
    except AttributeError as exc:
        raise UploadError(
            f"uploads cannot be read safely on this system: GDAL's drivers cannot be restricted ({exc})"
        ) from None
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriverShortName.restype = ctypes.c_char_p
    lib.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    lib.VSIGetFileSystemsPrefixes.restype = ctypes.POINTER(ctypes.c_char_p)
    lib.VSIRemovePluginHandler.argtypes = [ctypes.c_char_p]
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]


def _driver_names(lib: ctypes.CDLL) -> list[str]:
    return [lib.GDALGetDriverShortName(lib.GDALGetDriver(i)).decode() for i in range(lib.GDALGetDriverCount())]


def _file_systems(lib: ctypes.CDLL) -> list[str]:
    prefixes = lib.VSIGetFileSystemsPrefixes()
    out, i = [], 0
    while prefixes[i]:
        out.append(prefixes[i].decode())
        i += 1
    return out


def lock_down(drivers: Iterable[str]) -> list[str]:
    """Leave GDAL in this process with ``drivers`` only, no network, no other file systems.

    Only ever called in the child process: it changes GDAL for the whole process.

    Returns
    -------
    list of str
        The drivers left registered.
    """
    lib = _gdal()
    allowed = set(drivers)
    handles = [lib.GDALGetDriver(i) for i in range(lib.GDALGetDriverCount())]
    for handle in handles:
        if lib.GDALGetDriverShortName(handle).decode() not in allowed:
            lib.GDALDeregisterDriver(handle)
    for prefix in _file_systems(lib):
        if prefix not in KEPT_FILE_SYSTEMS:
            lib.VSIRemovePluginHandler(prefix.encode())

    @_FETCH
    def refuse(url: bytes, *_: object) -> int:
        _refused_urls.append(url.decode("utf-8", "replace"))
        result = lib.CPLCalloc(1, 512)  # a zeroed CPLHTTPResult: its first member, nStatus, set to failure
        ctypes.c_int.from_address(result).value = 1
        return result

    _keep_alive.append(refuse)
    lib.CPLHTTPSetFetchCallback(refuse, None)
    return _driver_names(lib)


def _quiet_child() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    warnings.simplefilter("ignore")


def _child(
    conn: Any, target: Callable[..., Any], args: tuple, drivers: tuple[str, ...], what: str, nice: int = 0
) -> None:
    _quiet_child()
    if nice > 0:  # the priority asked for, whatever the fork server's own (never raised: that needs privilege)
        with contextlib.suppress(OSError):
            current = os.nice(0)
            if current < nice:
                os.nice(nice - current)
    try:
        lock_down(drivers)
        value = target(*args)
        outcome: tuple = ("ok", value)
    except UploadError as exc:
        outcome = ("refused", exc.message, {k: getattr(exc, k) for k in _FIELDS})
    except Exception:  # a reader bug: sent to the parent as one, with its traceback
        outcome = ("failed", traceback.format_exc(limit=8))
    if _refused_urls:  # a refused fetch explains a failure better than the driver's own error
        outcome = ("refused", network_message(what, _refused_urls[0]), {"where": what})
    conn.send(outcome)
    conn.close()


def network_message(what: str, url: str) -> str:
    """The refusal for an upload that made GDAL reach for the network."""
    shown = url if len(url) <= 80 else url[:77] + "..."
    return (
        f"{what}: the file refers to {shown!r} (a link to another file or to the network); sitematch reads "
        "only what is inside the upload. Declare the CRS as a code (e.g. EPSG:3006) and put the data itself "
        "in the file, then export it again"
    )


_started = False
_nice = 0


def lower_priority(increment: int) -> None:
    """Run every later reader process ``increment`` lower in processor priority than this process (0: as it).

    The increment counts from the process's own priority (its main thread's), not from whichever
    thread happens to start the reader, so a reader started from a lowered upload thread is not
    lowered twice.

    The service lowers its uploads so that matches go first when the cores are busy
    (:mod:`sitematch.service.priority`).
    """
    global _nice
    base = os.getpriority(os.PRIO_PROCESS, os.getpid()) if increment > 0 else 0  # the process's (its main thread's)
    _nice = max(0, min(19, base + int(increment))) if increment > 0 else 0


def preload() -> list[str]:
    """What the fork server loads once: :data:`PRELOAD` and the program's main module, if it is one.

    Each child prepares itself by running the parent's main module again (``sitematch serve`` is
    ``python -m sitematch.cli``); with that module's imports already loaded in the fork server, this
    costs milliseconds instead of a second of imports per upload.
    """
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    main = [name] if isinstance(name, str) and name and not name.endswith("__main__") else []
    return ["sitematch.upload._quiet", *PRELOAD, *main]


def _context() -> Any:
    global _started
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver" and not _started:
        ctx.set_forkserver_preload(preload())
        _started = True
    return ctx


def start() -> None:
    """Start the fork server now (it loads the readers once), so that the first upload does not wait for it."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_isolated(target: Callable[..., Any], *args: Any, drivers: Iterable[str], what: str, timeout_s: float) -> Any:
    """Run ``target(*args)`` in a locked-down child process and return its result.

    Parameters
    ----------
    target : callable
        A module-level function (it is sent to the child by name).
    *args
        Its arguments (picklable).
    drivers : iterable of str
        The GDAL drivers the child keeps (empty: none).
    what : str
        The upload's name, for messages.
    timeout_s : float
        Stop the child and refuse the upload after this many seconds.

    Returns
    -------
    object
        What ``target`` returned.

    Raises
    ------
    UploadError
        What ``target`` raised, or: the read took too long, reached for the network, or the reader
        process died.
    """
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, target, args, tuple(drivers), what, _nice), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise UploadError(
                f"{what}: reading it took longer than {timeout_s:g} s, the limit, and was stopped; is it a very "
                "large file, or one that refers to itself? Export the plots alone and try again",
                where=what,
            )
        try:
            kind, *payload = receiver.recv()
        except EOFError:
            proc.join(5)
            raise UploadError(
                f"{what}: could not be read (the reader stopped with exit code {proc.exitcode}); export it again "
                "from your GIS as GeoPackage, zipped Shapefile, GeoJSON or CSV",
                where=what,
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
    if kind == "refused":
        message, fields = payload
        raise UploadError(message, **fields)
    if kind == "failed":
        raise RuntimeError(f"reading {what} failed in the reader process:\n{payload[0]}")
    return payload[0]
