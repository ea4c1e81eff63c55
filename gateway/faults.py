"""Crash points for the crash-safety tests: a real SIGKILL at a named step, nothing in production.

Set ``IMMEX_GATEWAY_CRASH_AT=<point>`` in the environment of a gateway process to kill it
there. Unset (always, in production) the check costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_ENV = "IMMEX_GATEWAY_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
