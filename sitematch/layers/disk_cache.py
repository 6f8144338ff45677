"""A region read from files, kept validated on disk between processes (the CLI's fixed cost).

Reading a region means opening its GeoPackage or files, validating every layer against its
schema and filling in sources: a fresh ``sitematch match`` on the bundled region spends a good
part of its second there. :func:`read_region` keeps the validated :class:`LayerSet` in
:data:`sitematch.settings.layers_cache_dir`, one pickle per region path, and uses it while every
file it rests on is unchanged.

- **Invalidated when the layers change.** The entry records the path, size, modification time,
  change time and inode of every file it was read from (the catalogue, each layer's file, every
  file of a region folder); if any differs, or a file is gone or added to the folder, the region
  is read anew and the entry replaced.
- **Safe when two processes build at once.** An entry is written to a temporary file in the cache
  folder and renamed over the old one (atomic on one filesystem): a reader sees the old entry or
  the new one, never half of either; two writers each write a whole entry and the last rename
  wins.
- A damaged or unreadable entry is ignored (and replaced); a cache folder that cannot be written
  only costs the time saved. The folder keeps the :data:`KEEP` most recently written entries.

The cache folder holds pickles this process trusts as much as its own code: it is the user's
own cache folder (``~/.cache/sitematch/layers``), not a place others write to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from sitematch import settings
from sitematch.layers.layerset import LayerSet

log = logging.getLogger(__name__)

#: Bumped when what is kept changes shape: entries of another format are ignored.
FORMAT = 2  # 2: a LayerSet holds its Region (``region``), no longer a ``catalogue`` attribute
#: Entries kept in the folder; older ones are removed when a new one is written.
KEEP = 8


def cache_dir() -> Path | None:
    """The cache folder, or None when turned off (``$SITEMATCH_LAYERS_CACHE=off``)."""
    folder = settings.layers_cache_dir
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "sitematch" / "layers")
    return None if folder.strip().lower() in ("", "off", "none", "0") else Path(folder)


def _stat(path: Path) -> tuple[str, int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _folder_files(path: Path) -> list[Path]:
    """Every file of a region folder (or the file itself), sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def stamp(path: Path, layers: LayerSet | None = None) -> tuple[Any, ...]:
    """What the region at ``path`` rests on: every file's identity (size, times, inode).

    The files of the region folder (or the file itself), and — once read — the catalogue's and
    each layer's file, wherever they are.
    """
    files = set(_folder_files(path))
    if layers is not None and layers.catalogue.path is not None:
        files.add(Path(layers.catalogue.path).resolve())
        for entry in layers.catalogue.layers.values():
            if entry.file is not None:
                files.add(Path(entry.file).resolve())
    return tuple(_stat(f) for f in sorted(files))


def _entry_path(folder: Path, path: Path) -> Path:
    from sitematch import __version__

    key = hashlib.sha256(f"{FORMAT}|{__version__}|{path}".encode()).hexdigest()[:24]
    return folder / f"region-{key}.pickle"


def read_region(path: str | Path) -> LayerSet:
    """:meth:`LayerSet.from_path`, from the disk cache while the files it rests on are unchanged.

    Parameters
    ----------
    path : str or pathlib.Path
        A region (folder with ``layers.yaml``, GeoPackage, or folder of files by kind).

    Returns
    -------
    LayerSet
        The same layers :meth:`LayerSet.from_path` reads (with an empty index cache).
    """
    given = Path(path)  # the region keeps the name it was asked by (``_region``, not where that leads)
    path = given.resolve()
    folder = cache_dir()
    if folder is None:
        return LayerSet.from_path(given)
    entry = _entry_path(folder, path)
    try:
        with open(entry, "rb") as f:
            kept = pickle.load(f)
        if kept["format"] == FORMAT and kept["files"] == _restat(kept["files"]) and kept["folder"] == stamp(path):
            log.info("region %s from the disk cache %s", path, entry)
            layers: LayerSet = kept["layers"]
            layers.origin = str(given)
            return layers
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged or foreign entry: read the region anew
        log.info("disk cache entry %s unusable (%s): reading the region", entry, type(exc).__name__)
    layers = LayerSet.from_path(given)
    _write(entry, {"format": FORMAT, "files": stamp(path, layers), "folder": stamp(path), "layers": layers})
    return layers


def _restat(recorded: tuple[Any, ...]) -> tuple[Any, ...]:
    """The identities of the files recorded, as they are now (None for a file gone)."""
    return tuple(_stat(Path(r[0])) if r is not None else None for r in recorded)


def _write(entry: Path, kept: dict[str, Any]) -> None:
    """Write an entry: a temporary file in the cache folder, renamed over the old entry."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=entry.name + ".", suffix=".tmp", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(kept, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(entry.parent)
    except (OSError, pickle.PicklingError) as exc:  # the cache only saves time
        log.info("cannot keep the region in %s: %s", entry.parent, exc)


def _prune(folder: Path) -> None:
    """Remove all but the ``keep`` most recently written entries (regions read once from a temporary folder)."""
    entries = []
    for p in folder.glob("region-*.pickle"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue
    for _, p in sorted(entries, reverse=True)[KEEP:]:
        p.unlink(missing_ok=True)
