"""The correlation keys of a CFDI record: its UUID (folio fiscal), which an export pedimento declares in 505.4."""

from __future__ import annotations

from typing import Any

from gateway.kinds.keys import CFDI, Keys


def correlation_keys(record: dict[str, Any]) -> Keys:
    uuid = record.get("uuid")
    return Keys(provides=frozenset({(CFDI, uuid.upper())}) if uuid else frozenset())


def is_export(record: dict[str, Any]) -> bool:
    """An export invoice with Comercio Exterior: the kind a pedimento declares by UUID (regla 3.1.35)."""
    return record.get("comercio_exterior") is not None
