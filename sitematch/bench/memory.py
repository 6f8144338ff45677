"""Peak resident memory of this process while a block of code runs (sampled from ``/proc``)."""

from __future__ import annotations

import os
import resource
import threading
from types import TracebackType

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """The process's resident set size now (bytes); its peak so far where ``/proc`` is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRss:
    """Sample the resident set every ``interval_s`` while the block runs; ``peak_gb`` is the largest.

    The peak includes what was in memory before the block (the layers and plots the block reads).

    Examples
    --------
    >>> with PeakRss() as mem:
    ...     block = bytearray(50_000_000)
    >>> mem.peak_gb > 0.05
    True
    """

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRss:
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def peak_gb(self) -> float:
        """The peak in GB (10⁹ bytes)."""
        return self.peak / 1e9


def release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc), so the next peak is the next run's own."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the peak may include memory freed earlier
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def fresh_process_peak_gb(n: int, profile_name: str, exact: str = "top") -> dict[str, float]:
    """Peak memory of a fresh process that generates ``n`` synthetic plots, indexes them and matches.

    ``exact``: the mode of the match (``"all"``: every value exact; screens are then not built).

    Returns ``peak_gb`` (the process's maximum resident set: data, indexes, screens and the match)
    and ``before_match_gb`` (resident once the data and indexes are in memory).
    """
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "sitematch.bench.memory", str(n), profile_name, exact],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _probe(n: int, profile_name: str, exact: str = "top") -> None:  # pragma: no cover - run by fresh_process_peak_gb
    import json

    from sitematch.bench.profiles import PROFILES
    from sitematch.bench.synthetic import synthetic_layers
    from sitematch.features import build_indexes
    from sitematch.matching import match
    from sitematch.profile import parse_profile

    # Sampled, not ru_maxrss: Linux carries the parent's high-water mark across fork and exec.
    with PeakRss() as mem:
        profile = parse_profile(PROFILES[profile_name])
        layers = synthetic_layers(n)
        build_indexes(layers, profile.parameters, screens=exact != "all")
        release_freed_memory()
        before = rss_bytes()
        match(profile, layers, exact=exact)
    print(json.dumps({"peak_gb": mem.peak_gb, "before_match_gb": before / 1e9}))


if __name__ == "__main__":  # pragma: no cover
    import sys

    _probe(int(sys.argv[1]), sys.argv[2], *sys.argv[3:4])
