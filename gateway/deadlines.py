"""The IMMEX clock, visible: temporary-import partidas whose return deadline falls within a window.

For each partida of the clock in force (a rectification's supersedes the original's), the UMT quantity
imported, what the discharges seen so far took from its fracción (shared among the original's partidas of
that fracción in partida order) and what remains. It is an early warning from the documents this gateway
saw, not the Annex 24 balance: discharges declared only in the inventory system, or pedimentos that never
passed through the gateway, are not in it. Read by ``immex-gateway deadlines``, the web overview and
``/metrics``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from gateway import immex
from gateway.store.base import CoreStore as Store

WINDOWS = (30, 60, 90)  # days, for /metrics


def due(store: Store, today: date, within_days: int) -> list[dict[str, Any]]:
    """Partidas with something left to return whose deadline is on or before ``today + within_days``
    (overdue ones included, first), soonest first."""
    horizon = today + timedelta(days=within_days)
    families: dict[str, immex.Family] = {}
    for row in store.immex_imports(due_by=horizon.isoformat()):
        key = row["corrects_key"] or row["pedimento_key"]
        if key not in families:
            families[key] = immex.family_of(store, key)
    out = []
    for family in families.values():
        taken = immex.discharged(store, family)
        left: dict[str | None, Decimal] = defaultdict(Decimal, taken)
        for row in family.rows:
            imported = immex.as_decimal(row["quantity"])
            share = min(imported, left[row["fraccion"]])
            left[row["fraccion"]] -= share
            remaining = imported - share
            deadline = row["deadline"]
            if remaining <= 0 or not deadline or deadline > horizon.isoformat():
                continue
            out.append({
                "pedimento": row["printed"] or family.key, "key": family.key, "document_id": row["document_id"],
                "clave": row["clave"], "partida": row["partida"], "fraccion": row["fraccion"],
                "description": row["description"], "umt": row["umt"], "imported": immex.plain(imported),
                "discharged": immex.plain(share), "remaining": immex.plain(remaining), "start_date": row["start_date"],
                "deadline": deadline, "days_left": (date.fromisoformat(deadline) - today).days,
                "basis": row["basis"],
            })
    return sorted(out, key=lambda r: (r["deadline"], r["pedimento"], r["partida"]))


def counts(store: Store, today: date) -> dict[str, int]:
    """Partidas still to return: overdue, and expiring within each of :data:`WINDOWS` days (from today)."""
    rows = due(store, today, max(WINDOWS))
    figures = {"overdue": sum(1 for r in rows if r["days_left"] < 0)}
    for days in WINDOWS:
        figures[str(days)] = sum(1 for r in rows if 0 <= r["days_left"] <= days)
    return figures
