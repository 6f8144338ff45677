"""Uploads at a lower processor priority than matches and pages.

A match costs its worker process seconds of processor time; an upload costs a fraction of a second,
but many municipalities upload at once. On a machine with few cores, uploads given the same
priority as matches take a share of the cores that grows with their number, and every adviser's
match waits for them. Here an upload is read, validated and written by one of a few threads of its
own (``settings.service_upload_threads``), each lowered by ``settings.service_upload_nice`` (Linux
sets a thread's priority on its own), and its reader process (:mod:`sitematch.upload._sandbox`) is
lowered as much: when the cores are busy, matches and page requests go first; when they are not,
uploads run at full speed. Lowering a priority needs no privilege; nothing here ever raises one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sitematch import settings

T = TypeVar("T")
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def lower_this_thread(increment: int) -> None:
    """Lower the calling thread's processor priority by ``increment`` (its ``nice``; Linux only).

    Elsewhere, and where the system refuses, the thread keeps its priority: uploads still work,
    only without the preference for matches.
    """
    if increment <= 0:
        return
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + increment))


def _upload_thread(increment: int) -> None:
    """Start an upload thread: named ``sitematch-upload`` for the system (``top -H``, ``ps -T``), then lowered."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(15, b"sitematch-upload"[:15], 0, 0, 0)  # PR_SET_NAME: at most 15 bytes
    lower_this_thread(increment)


def _executor_for_uploads() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=max(1, int(settings.service_upload_threads)),
                thread_name_prefix="sitematch-upload",
                initializer=_upload_thread,
                initargs=(int(settings.service_upload_nice),),
            )
        return _executor


async def run_upload(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``work(*args, **kwargs)`` (an upload) on a low-priority upload thread; its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor_for_uploads(), functools.partial(work, *args, **kwargs))


def close() -> None:
    """Let the upload threads finish what they are doing and stop them (at the service's end)."""
    global _executor
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=True)
            _executor = None


def warm_uploads() -> None:
    """Read what every upload is checked against (Sweden's municipalities) once, before the first upload."""
    from sitematch.upload.validate import default_boundaries

    default_boundaries()
