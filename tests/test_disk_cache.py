"""The region kept on disk between processes: used while unchanged, read anew when a file changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitematch import settings
from sitematch.layers import disk_cache
from sitematch.layers.layerset import LayerSet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled region, and a cache folder of the test's own."""
    folder = tmp_path / "region"
    shutil.copytree(ROOT / "layers", folder)
    monkeypatch.setattr(settings, "layers_cache_dir", str(tmp_path / "cache"))
    return folder


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count the reads of a region from its files."""
    calls: list[Path] = []
    real = LayerSet.from_path.__func__  # type: ignore[attr-defined]

    def counting(cls: type[LayerSet], path: Path, kinds: object = None) -> LayerSet:
        calls.append(Path(path))
        return real(cls, path, kinds)

    monkeypatch.setattr(LayerSet, "from_path", classmethod(counting))
    return calls


def test_second_read_comes_from_the_cache_with_the_same_layers(region: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _reads(monkeypatch)
    first = disk_cache.read_region(region)
    second = disk_cache.read_region(region)
    assert len(reads) == 1
    assert second.kinds == first.kinds
    assert second.fingerprint() == first.fingerprint()
    assert second["plots"].equals(first["plots"])


def test_a_changed_file_is_read_anew(region: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _reads(monkeypatch)
    before = disk_cache.read_region(region)
    yaml = region / "layers.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = disk_cache.read_region(region)
    assert len(reads) == 2
    assert after.kinds == before.kinds
    extra = region / "notes.txt"  # a file added to the folder also counts as a change
    extra.write_text("x", encoding="utf-8")
    disk_cache.read_region(region)
    assert len(reads) == 3
    disk_cache.read_region(region)
    assert len(reads) == 3


def test_a_damaged_entry_is_replaced(region: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _reads(monkeypatch)
    disk_cache.read_region(region)
    (entry,) = (Path(settings.layers_cache_dir) / "").glob("region-*.pickle")  # type: ignore[arg-type]
    entry.write_bytes(b"not a pickle")
    layers = disk_cache.read_region(region)
    assert len(reads) == 2 and "plots" in layers
    disk_cache.read_region(region)
    assert len(reads) == 2  # the entry was written again


def test_off_reads_every_time(region: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "layers_cache_dir", "off")
    reads = _reads(monkeypatch)
    disk_cache.read_region(region)
    disk_cache.read_region(region)
    assert len(reads) == 2 and disk_cache.cache_dir() is None


@pytest.mark.slow
def test_two_processes_building_at_once_leave_one_whole_entry(region: Path, tmp_path: Path) -> None:
    """Both processes get the region; the cache holds exactly one readable entry and no temporary file."""
    env = {**os.environ, "SITEMATCH_LAYERS_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    code = (
        "import sys; from sitematch.layers.disk_cache import read_region; print(sorted(read_region(sys.argv[1]).kinds))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(region)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1] and "plots" in outs[0]
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 1 and files[0].startswith("region-") and files[0].endswith(".pickle")
    again = subprocess.run([sys.executable, "-c", code, str(region)], env=env, capture_output=True, text=True)
    assert again.stdout == outs[0]


def test_the_folder_keeps_the_latest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regions read from many temporary folders do not fill the cache: the KEEP newest entries stay."""
    monkeypatch.setattr(settings, "layers_cache_dir", str(tmp_path / "cache"))
    monkeypatch.setattr(disk_cache, "KEEP", 2)
    source = ROOT / "layers"
    for i in range(4):
        folder = tmp_path / f"r{i}"
        shutil.copytree(source, folder)
        disk_cache.read_region(folder)
    assert len(list((tmp_path / "cache").glob("region-*.pickle"))) == 2
