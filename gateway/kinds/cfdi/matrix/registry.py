"""The rule registry: each SAT matrix rule is a plain function registered with its SAT code(s)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: ``fn(doc, out)``: appends its findings to ``out`` (see ``doc.at``)
RuleFn = Callable[..., None]


@dataclass(frozen=True)
class Rule:
    codes: tuple[str, ...]
    fn: RuleFn
    needs: str | None  # a SatData provider ("rfc", "lco", "fix", "tigie"), or None for offline rules

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


RULES: list[Rule] = []

#: SAT codes reported by the foundation's checks outside this package (rules.py, seals.py): code -> where.
EXTERNAL: dict[str, str] = {
    "CFDI40102": "gateway.kinds.cfdi.seals.SealVerifier.verify",
    "CFDI40106": "gateway.kinds.cfdi.seals.SealVerifier.verify",
    "CFDI40108": "gateway.kinds.cfdi.rules._subtotal",
    "CFDI40109": "gateway.kinds.cfdi.rules._subtotal",
    "CFDI40110": "gateway.kinds.cfdi.rules._descuento",
    "CFDI40119": "gateway.kinds.cfdi.rules._total",
    "CFDI40122": "gateway.kinds.cfdi.rules._cce_missing",
    "CFDI40203": "gateway.kinds.cfdi.rules._impuestos",
    "CFDI40205": "gateway.kinds.cfdi.rules._impuestos",
    "CFDI40206": "gateway.kinds.cfdi.rules._impuestos",
    "CFDI40212": "gateway.kinds.cfdi.rules._impuestos",
    "CCE122": "gateway.kinds.cfdi.rules._cce_usd",
    "CCE152": "gateway.kinds.cfdi.rules._cce_noidentificacion",
}


def rule(*codes: str, needs: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn(doc, out)`` as the check of SAT matrix ``codes``; it appends its findings to ``out``."""

    def register(fn: RuleFn) -> RuleFn:
        RULES.append(Rule(codes, fn, needs))
        return fn

    return register


def implemented_codes() -> dict[str, str]:
    """SAT code -> the function that reports it."""
    codes = dict(EXTERNAL)
    for entry in RULES:
        for code in entry.codes:
            codes[code] = entry.name
    return codes
