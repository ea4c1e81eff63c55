"""The overview's IMMEX panel: temporary-import partidas whose return deadline is near, soonest first.

Self-contained (its own template, ``_immex_deadlines.html``, included by the overview) so the page around it can
change freely. The same figures as ``immex-gateway deadlines`` and ``/metrics`` (gateway/deadlines.py): an
early warning from the documents the gateway saw, not the Annex 24 balance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway import deadlines
from gateway.store.base import CoreStore as Store

WINDOW_DAYS = 90
MAX_ROWS = 50


def panel(store: Store) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    rows = deadlines.due(store, today, WINDOW_DAYS)
    return {"window": WINDOW_DAYS, "rows": rows[:MAX_ROWS], "more": max(0, len(rows) - MAX_ROWS),
            "counts": deadlines.counts(store, today), "windows": deadlines.WINDOWS}
