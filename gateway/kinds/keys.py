"""Correlation keys: what a document provides to others and what it needs from them.

Kinds own their keys: each kind's ``correlation_keys(record)`` (``DocumentKind``) says which keys its record
provides and needs, in the vocabulary below, and ``gateway.correlation`` matches them without knowing any kind.
A pedimento provides its own key and needs the COVE or CFDI named in each invoice (505.4); a COVE provides its
e-document; a CFDI its UUID. The RecibirCove request and its ConsultarRespuestaCove response need each other by
invoice number (``cove-invoice`` / ``cove-answer``): the request carries the COVE's content, the response its
e-document number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
#: how a finding names what a key stands for (Spanish first: operators read it)
KEY_WORDS = {COVE: "el COVE", CFDI: "el CFDI con UUID",
             COVE_ANSWER: "la respuesta de ConsultarRespuestaCove (número de COVE) de la factura",
             COVE_INVOICE: "la solicitud RecibirCove (contenido del COVE) de la factura", PEDIMENTO: "el pedimento"}

Key = tuple[str, str]


@dataclass(frozen=True)
class Keys:
    provides: frozenset[Key] = field(default_factory=frozenset)
    needs: frozenset[Key] = field(default_factory=frozenset)
