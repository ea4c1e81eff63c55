"""Correlation keys: what a document provides to others and what it needs from them.

A pedimento provides its own key and needs the COVE or CFDI named in each invoice (505.4); a COVE
provides its e-document; a CFDI its UUID. The RecibirCove request and its ConsultarRespuestaCove
response need each other by invoice number (``cove-invoice`` / ``cove-answer``): the request carries
the COVE's content, the response its e-document number. Each kind's normaliser says which keys its
record has; this module only names the key types and finds the right function for a kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PEDIMENTO = "pedimento"
COVE = "cove"
CFDI = "cfdi"
COVE_INVOICE = "cove-invoice"  # provided by a RecibirCove request, needed by its ConsultarRespuestaCove answer
COVE_ANSWER = "cove-answer"    # provided by the answer, needed by the request
#: key types whose absence at the timeout is reported as a missing COVE / CFDI
MISSING_CODE = {COVE: "XDOC-COVE-MISSING", COVE_INVOICE: "XDOC-COVE-MISSING", COVE_ANSWER: "XDOC-COVE-MISSING",
                CFDI: "XDOC-CFDI-MISSING"}
#: needing one of these is declaring the document in a pedimento: it claims a held COVE or CFDI
DECLARATION_KEYS = (COVE, CFDI)

Key = tuple[str, str]


@dataclass(frozen=True)
class Keys:
    provides: frozenset[Key] = field(default_factory=frozenset)
    needs: frozenset[Key] = field(default_factory=frozenset)


def _cfdi(record: dict[str, Any]) -> Keys:
    from gateway.kinds.cfdi.correlation import correlation_keys

    return correlation_keys(record)


def _cove(record: dict[str, Any]) -> Keys:
    from gateway.kinds.cove.normalise import correlation_keys

    return correlation_keys(record)


def _pedimento(record: dict[str, Any]) -> Keys:
    from gateway.xdoc.views import pedimento_keys

    return pedimento_keys(record)


EXTRACTORS: dict[str, Callable[[dict[str, Any]], Keys]] = {"cfdi": _cfdi, "cove": _cove, "pedimento": _pedimento}


def keys_for(kind: str | None, record: dict[str, Any] | None) -> Keys:
    extractor = EXTRACTORS.get(kind or "")
    return extractor(record) if extractor and record else Keys()
