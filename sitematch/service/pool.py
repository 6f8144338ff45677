"""Matches in their own processes: a bounded queue in front of a few long-lived worker processes.

The service's request handling (pages, uploads, ``/healthz``, ``/api/me``) stays in the server
process; a match's CPU work runs in one of ``settings.service_match_workers`` worker processes,
so it shares neither the server's GIL nor its thread pool. In front of them is a queue with two
bounds: at most ``settings.service_match_waiting`` matches wait in all, and at most
``settings.service_match_waiting_per_user`` of one account. A match beyond either bound is
refused at once with 503 and a ``Retry-After`` estimated from how long recent matches took.

A match's time limit (``settings.service_match_timeout_s``) runs from the request's arrival, so
time spent waiting counts. While a request waits or runs, the server checks every few tens of
milliseconds whether its client is still there: a waiting match whose client went away leaves the
queue; a running one is told to stop at its next step (it then removes what it wrote), and its
worker is killed and replaced if it has not stopped within :data:`CANCEL_GRACE_S`.

Workers are started with ``spawn`` (they share nothing with the server but what each job sends),
keep what they load between jobs (the region, see :func:`sitematch.service.runs.open_layers`),
and send their log records to the server's loggers. The pool is one per server process.

Jobs are named functions in :data:`JOBS` called with keyword arguments and a ``step`` progress
hook; a job returns plain (picklable) data.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import logging.handlers
import math
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.service.errors import ServiceError, UnavailableError

log = logging.getLogger(__name__)

#: How often (seconds) a request waiting for its match checks its client and the time limit. Its turn
#: and its worker's answer wake it at once (a freed worker and the worker's pipe are events, not polled).
POLL_S = 0.05
#: Seconds a cancelled or overdue match may take to stop at its next step before its worker is killed.
CANCEL_GRACE_S = 5.0
#: Seconds a match is assumed to take before any has finished (for Retry-After).
FIRST_GUESS_S = 5.0
#: The jobs a worker runs, by name: "module:function".
JOBS = {
    "match": "sitematch.service.runs:match_job",
    "warm": "sitematch.service.runs:warm_job",
}


class ClientClosedError(ServiceError):
    """The client went away before its match finished: the match was cancelled (499, as nginx logs it)."""

    status = 499


class Cancelled(BaseException):
    """Raised by a worker's progress hook when the server cancels the job."""


def settings_values() -> dict[str, Any]:
    """The plain values of :mod:`sitematch.settings` (sent with each job, so a worker uses the server's)."""
    return {
        k: v
        for k, v in vars(settings).items()
        if not k.startswith("_") and isinstance(v, bool | int | float | str | type(None))
    }


# -- in the worker ------------------------------------------------------------------------------
def _resolve(name: str) -> Callable[..., Any]:
    import importlib

    module, _, function = JOBS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def _progress(deadline_at: float, timeout_s: float, cancel: Any) -> Callable[[str], None]:
    def step(_name: str) -> None:
        if cancel.is_set():
            raise Cancelled
        if time.monotonic() > deadline_at:
            raise UnavailableError(
                f"the match took longer than the service's limit of {timeout_s:g} s and was stopped; "
                "narrow the region or try again later"
            )

    return step


def worker_main(conn: Any, cancel: Any, log_queue: Any, level: int) -> None:
    """A worker process: run the jobs the server sends, one at a time, until told to stop."""
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(log_queue)]
    root.setLevel(logging.WARNING)
    logging.getLogger("sitematch").setLevel(level)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        name, kwargs, deadline_at, values = message
        for key, value in values.items():
            setattr(settings, key, value)
        step = _progress(deadline_at, float(values.get("service_match_timeout_s", 0)), cancel)
        try:
            outcome: tuple[str, Any] = ("ok", _resolve(name)(step=step, **kwargs))
        except Cancelled:
            outcome = ("cancelled", None)
        except SitematchError as exc:
            outcome = ("error", exc)
        except Exception:
            outcome = ("failed", traceback.format_exc(limit=10))
        try:
            conn.send(outcome)
        except Exception:  # an error that does not pickle: send it as text
            conn.send(("failed", traceback.format_exc(limit=10)))


# -- in the server ------------------------------------------------------------------------------
class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, ctx: Any, log_queue: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.cancel = ctx.Event()
        level = logging.getLogger("sitematch").getEffectiveLevel()
        self.process = ctx.Process(
            target=worker_main, args=(child, self.cancel, log_queue, level), daemon=True, name="sitematch-match"
        )
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(10)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


@dataclass(eq=False)
class _Ticket:
    owner: str
    deadline_at: float


class MatchPool:
    """A bounded queue in front of ``workers`` worker processes.

    Parameters
    ----------
    workers : int
        Worker processes (matches run at once).
    waiting : int
        Matches that may wait in all.
    waiting_per_owner : int
        Matches one account may have waiting.

    Attributes
    ----------
    stats : collections.Counter
        What happened to the jobs: ``admitted``, ``refused``, ``completed``, ``failed``,
        ``timed_out``, ``cancelled_waiting``, ``cancelled_running``, ``recycled`` (workers killed
        and replaced).
    """

    def __init__(self, workers: int, waiting: int, waiting_per_owner: int) -> None:
        self.workers = max(1, workers)
        self.waiting = max(0, waiting)
        self.waiting_per_owner = max(0, waiting_per_owner)
        self.stats: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._queue: collections.deque[_Ticket] = collections.deque()
        self._idle: list[_Worker] = []
        self._alive = 0
        self._mean_s = FIRST_GUESS_S
        self._ctx = multiprocessing.get_context("spawn")
        self._log_queue: Any = None
        self._listener: threading.Thread | None = None
        self._pid = os.getpid()
        #: Requests waiting for a free worker: woken when one is freed (each on its own event loop).
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    # -- admission ----------------------------------------------------------------------------
    def retry_after_s(self) -> int:
        """Seconds until a refused match would likely be admitted: the queue ahead, at the recent pace."""
        ahead = len(self._queue) + self.workers
        return max(1, math.ceil(self._mean_s * ahead / self.workers))

    def _admit(self, owner: str, deadline_at: float) -> _Ticket:
        with self._lock:
            mine = sum(1 for t in self._queue if t.owner == owner)
            if len(self._queue) >= self.waiting or mine >= self.waiting_per_owner:
                self.stats["refused"] += 1
                why = (
                    f"you already have {mine} matches waiting"
                    if mine >= self.waiting_per_owner
                    else f"{len(self._queue)} matches are waiting"
                )
                error = UnavailableError(f"the service is busy ({why}); try again in a little while")
                error.headers["Retry-After"] = str(self.retry_after_s())
                raise error
            ticket = _Ticket(owner, deadline_at)
            self._queue.append(ticket)
            self.stats["admitted"] += 1
            return ticket

    def _claim(self, ticket: _Ticket) -> _Worker | None:
        """A worker for ``ticket`` if it is first in the queue and one is free (or may be started)."""
        with self._lock:
            if not self._queue or self._queue[0] is not ticket:
                return None
            while self._idle and not self._idle[-1].alive():  # died while idle (killed from outside)
                self._idle.pop().kill()
                self._alive -= 1
                self.stats["recycled"] += 1
            if self._idle:
                worker = self._idle.pop()
            elif self._alive < self.workers:
                worker = self._start()
            else:
                return None
            self._queue.popleft()
            return worker

    def _start(self) -> _Worker:
        if self._log_queue is None:
            self._log_queue = self._ctx.Queue()
            self._listener = threading.Thread(target=_relay_logs, args=(self._log_queue,), daemon=True)
            self._listener.start()
        self._alive += 1
        return _Worker(self._ctx, self._log_queue)

    def _release(self, worker: _Worker | None, *, healthy: bool) -> None:
        if worker is None:
            return
        if healthy and worker.alive():
            with self._lock:
                self._idle.append(worker)
            self._wake()
            return
        worker.kill()
        with self._lock:
            self._alive -= 1
            self.stats["recycled"] += 1
        self._wake()

    def snapshot(self) -> dict[str, int]:
        """How busy the pool is now: ``busy`` workers (running a match, or reading the region at
        start), matches ``waiting`` for one, and its ``workers``."""
        with self._lock:
            return {"busy": self._alive - len(self._idle), "waiting": len(self._queue), "workers": self.workers}

    # -- running ------------------------------------------------------------------------------
    async def run(
        self,
        owner: str,
        job: str,
        kwargs: dict[str, Any],
        *,
        deadline_at: float,
        gone: Callable[[], Awaitable[bool]],
        on_stop: Callable[[], None] | None = None,
    ) -> Any:
        """Queue a job, run it in a worker, and return what it returned.

        Parameters
        ----------
        owner : str
            Whose job (the per-account bound).
        job : str
            A name in :data:`JOBS`.
        kwargs : dict
            Its arguments (picklable).
        deadline_at : float
            ``time.monotonic()`` at which the job is stopped, waiting or running (503).
        gone : callable
            Awaitable check whether the client went away (the job is then cancelled: 499).
        on_stop : callable, optional
            Called when a running job's worker had to be killed (to remove what it left).

        Raises
        ------
        UnavailableError
            The queue is full (with ``Retry-After``), or the time limit passed.
        ClientClosedError
            The client went away.
        SitematchError
            What the job raised.
        """
        ticket = self._admit(owner, deadline_at)
        worker = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                turn: asyncio.Future[None] = loop.create_future()
                with self._lock:
                    self._waiters.add((loop, turn))  # before claiming: a worker freed meanwhile wakes it
                try:
                    if (worker := self._claim(ticket)) is not None:
                        break
                    if await gone():
                        self.stats["cancelled_waiting"] += 1
                        log.info("a waiting match was cancelled: its client went away")
                        raise ClientClosedError("the client went away; the match was cancelled before it started")
                    if time.monotonic() > deadline_at:
                        self.stats["timed_out"] += 1
                        raise _overdue()
                    await asyncio.wait([turn], timeout=POLL_S)
                finally:
                    with self._lock:
                        self._waiters.discard((loop, turn))
        finally:
            if worker is None:
                with self._lock, contextlib.suppress(ValueError):
                    self._queue.remove(ticket)
            self._wake()  # the next in the queue may claim a worker too, or move up
        return await self._run_on(worker, job, kwargs, deadline_at, gone, on_stop)

    def _wake(self) -> None:
        """Wake every request waiting for a worker (from any thread): one was freed, or the queue moved."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, turn in waiters:
            with contextlib.suppress(RuntimeError):  # its event loop has closed
                loop.call_soon_threadsafe(_settle, turn)

    async def _run_on(
        self,
        worker: _Worker,
        job: str,
        kwargs: dict[str, Any],
        deadline_at: float,
        gone: Callable[[], Awaitable[bool]],
        on_stop: Callable[[], None] | None,
    ) -> Any:
        healthy, started, stopping_since = False, time.monotonic(), None
        worker.cancel.clear()
        try:
            worker.conn.send((job, kwargs, deadline_at, settings_values()))
            while not worker.conn.poll():
                if not worker.alive():
                    raise UnavailableError("the match's worker process stopped unexpectedly; try again")
                now = time.monotonic()
                if stopping_since is None and (now > deadline_at or await gone()):
                    worker.cancel.set()  # the job stops at its next step, removing what it wrote
                    stopping_since = now
                elif stopping_since is not None and now - stopping_since > CANCEL_GRACE_S:
                    if on_stop is not None:
                        on_stop()
                    self._count_stop(deadline_at)
                    raise _overdue() if now > deadline_at else _closed()
                await _readable(worker.conn, POLL_S)
            kind, payload = worker.conn.recv()
            healthy = True
        finally:
            self._release(worker, healthy=healthy)
        if kind == "ok":
            self.stats["completed"] += 1
            self._mean_s = 0.7 * self._mean_s + 0.3 * (time.monotonic() - started)
            return payload
        if kind == "cancelled":
            self._count_stop(deadline_at)
            raise _overdue() if time.monotonic() > deadline_at else _closed()
        self.stats["failed"] += 1
        if kind == "error":
            if isinstance(payload, UnavailableError):
                self.stats["timed_out"] += 1
            raise payload
        raise RuntimeError(f"a match failed in its worker process:\n{payload}")

    def _count_stop(self, deadline_at: float) -> None:
        if time.monotonic() > deadline_at:
            self.stats["timed_out"] += 1
        else:
            self.stats["cancelled_running"] += 1
            log.info("a running match was cancelled: its client went away")

    def warm(self, job: str, kwargs: dict[str, Any]) -> None:
        """Start every worker now and have each run ``job`` (e.g. load the region) in the background."""
        with self._lock:
            fresh = [self._start() for _ in range(self.workers - self._alive)]
        for worker in fresh:
            threading.Thread(target=self._warm_one, args=(worker, job, kwargs), daemon=True).start()

    def _warm_one(self, worker: _Worker, job: str, kwargs: dict[str, Any]) -> None:
        healthy = False
        try:
            worker.conn.send((job, kwargs, time.monotonic() + 600, settings_values()))
            kind, _payload = worker.conn.recv()
            healthy = kind == "ok"
        except (EOFError, OSError):
            pass
        finally:
            self._release(worker, healthy=healthy)

    def close(self) -> None:
        """Stop every idle worker (running ones stop when their job ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
        for worker in idle:
            worker.stop()


def _settle(turn: asyncio.Future[None]) -> None:
    if not turn.done():
        turn.set_result(None)


async def _readable(conn: Any, timeout_s: float) -> None:
    """Until the worker's pipe has its answer, or ``timeout_s`` has passed (whichever is first)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    try:
        fd = conn.fileno()
        loop.add_reader(fd, _settle, ready)
    except (NotImplementedError, OSError, ValueError):  # an event loop that cannot watch pipes: poll
        await asyncio.sleep(timeout_s)
        return
    try:
        await asyncio.wait([ready], timeout=timeout_s)
    finally:
        loop.remove_reader(fd)


def _overdue() -> UnavailableError:
    limit = settings.service_match_timeout_s
    return UnavailableError(
        f"the match took longer than the service's limit of {limit:g} s and was stopped; "
        "narrow the region or try again later"
    )


def _closed() -> ClientClosedError:
    return ClientClosedError("the client went away; the match was cancelled")


def _relay_logs(queue: Any) -> None:
    """Hand the workers' log records to this process's loggers."""
    while True:
        try:
            record = queue.get()
        except (EOFError, OSError):
            return
        if record is None:
            return
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


_pools: dict[tuple[int, int, int], MatchPool] = {}
_pools_lock = threading.Lock()


def pool() -> MatchPool:
    """This server process's match pool (one per setting of its bounds)."""
    key = (
        max(1, int(settings.service_match_workers)),
        int(settings.service_match_waiting),
        int(settings.service_match_waiting_per_user),
    )
    with _pools_lock:
        if key not in _pools:
            _pools[key] = MatchPool(*key)
        return _pools[key]
