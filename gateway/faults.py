"""Crash points for the crash-safety tests: a real SIGKILL at a named step, nothing in production.

Set ``IMMEX_GATEWAY_CRASH_AT=<point>`` in the environment of a gateway process to kill it
there, or ``<point>@N`` to kill it at the N-th time it passes there (the delivery crash
harness uses this to land kills in the middle of a batch). Unset (always, in production)
the check costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

_ENV = "IMMEX_GATEWAY_CRASH_AT"
_hits: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    wanted = os.environ.get(_ENV)
    if wanted is None:
        return
    point, _, count = wanted.partition("@")
    if point != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
