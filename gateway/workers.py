"""Worker processes for the pure part of the work, so that every core validates.

Validating and normalising a document is a function of its bytes and the configuration: no store, no source,
no sink. ``Pool`` runs such a function in ``workers`` processes and hands the results back **in the order the
items went in**, so the output of ``validate a.xml b.xml …`` and the order of the pipeline's commits are the
same with one worker or eight. Each worker pays its start-up (schemas, catalogs, certificates) once, in
``setup``; at most ``window`` items are in flight, so memory stays flat however many files there are. With one
worker nothing is started: the function runs in this process, exactly as before.

Processes are started with ``forkserver`` (never ``fork``: the gateway has threads, and a forked lock is a
deadlock), which re-imports ``gateway.__main__`` — hence its ``if __name__ == "__main__"`` guard. A worker
watches the gateway process and exits when it is gone: a SIGKILL leaves no worker behind.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: what a worker's ``setup`` built (the kinds, a validator): read by the work function in that process
STATE: dict[str, Any] = {}


def default_workers() -> int:
    """One worker per core this process may use (``[gateway] workers`` when not set)."""
    from gateway.config import cores

    return cores()


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _apply(fn: Callable[[T], R], chunk: list[T]) -> list[tuple[bool, Any]]:
    """Each item's result, or the exception it raised (raised again in the gateway process, at that item)."""
    out: list[tuple[bool, Any]] = []
    for item in chunk:
        try:
            out.append((True, fn(item)))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, at its item
            out.append((False, exc))
    return out


def _nothing() -> None:
    """A task that only makes a worker start (``Pool.start``)."""


def _unpack(results: list[tuple[bool, Any]]) -> Iterator[Any]:
    for ok, value in results:
        if not ok:
            raise value
        yield value


def _start_worker(gateway_pid: int, setup: Callable[..., None], args: tuple[Any, ...]) -> None:
    """A worker's start: a watch on the gateway process first (a SIGKILLed gateway must not leave workers
    behind, blocked on their queue for ever), then the caller's ``setup``."""
    threading.Thread(target=_exit_with, args=(gateway_pid,), name="watch-gateway", daemon=True).start()
    setup(*args)


def _exit_with(gateway_pid: int) -> None:
    while _alive(gateway_pid):
        time.sleep(0.5)
    os._exit(0)


def _alive(pid: int) -> bool:
    """Whether the gateway process still runs: a killed one may linger as a zombie until its parent reaps it,
    and that parent may be waiting for the pipes this worker holds, so a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): ask the kernel
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


class Pool:
    """``map`` in submission order over ``workers`` processes, each prepared once by ``setup(*args)``."""

    def __init__(self, workers: int, setup: Callable[..., None], args: tuple[Any, ...] = (),
                 window: int | None = None, chunk: int = 8) -> None:
        self.workers = max(1, workers)
        self.chunk = max(1, chunk)  # items per message to a worker: fewer, larger messages cost less to pass
        self.window = window or self.workers * 4
        self._setup, self._args = setup, args
        self._executor: ProcessPoolExecutor | None = None
        self._ready = False

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn(item)`` for each item, in order; an exception inside ``fn`` is raised here, at its item."""
        if self.workers == 1:
            if not self._ready:
                self._setup(*self._args)
                self._ready = True
            yield from map(fn, items)
            return
        executor = self._start()
        pending: deque[Future[list[tuple[bool, Any]]]] = deque()
        for chunk in chunks(items, self.chunk):
            pending.append(executor.submit(_apply, fn, chunk))
            if len(pending) >= self.window:
                yield from _unpack(pending.popleft().result())
        while pending:
            yield from _unpack(pending.popleft().result())

    def start(self) -> None:
        """Start every worker now (each runs its ``setup``) without waiting: the start-up overlaps whatever the
        caller does next (``run --once`` taking the files) instead of delaying the first results."""
        if self.workers > 1 and self._executor is None:
            executor = self._start()
            for _ in range(self.workers):
                executor.submit(_nothing)

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                                 initargs=(os.getpid(), self._setup, self._args))
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
