"""SAT's CFDI 4.0 and Comercio Exterior 2.0 error matrices, one registered function per rule.

``check_matrix`` runs every registered rule over one collected view of the document
(``Doc``). Rules needing SAT-side lists run only when the list is configured; otherwise
one info finding names the rules left unchecked. The foundation's own checks (totals,
timbre, seals) keep their SAT codes and are listed in ``registry.EXTERNAL``.
"""

from __future__ import annotations

from lxml import etree

from gateway.findings import Finding, info
from gateway.kinds.cfdi.catalogs import Catalogs, catalogs
from gateway.kinds.cfdi.matrix import cce, comprobante, conceptos, impuestos, partes, satlists  # noqa: F401 (register)
from gateway.kinds.cfdi.matrix.doc import Doc, Skip, precise
from gateway.kinds.cfdi.matrix.registry import EXTERNAL, RULES, Rule, implemented_codes, rule
from gateway.kinds.cfdi.satdata import CONFIG_KEYS, SatData

__all__ = ["EXTERNAL", "RULES", "Doc", "Rule", "check_matrix", "implemented_codes", "rule"]


def check_matrix(source: etree._Element | Doc, catalog: Catalogs | None = None, satdata: SatData | None = None
                 ) -> list[Finding]:
    """Findings of every matrix rule for a parsed cfdi:Comprobante 4.0 (its root, or a ``Doc`` already built)."""
    doc = source if isinstance(source, Doc) else Doc(source, catalog or catalogs(), satdata)
    root = doc.root
    runnable, unchecked = _plan(doc.sat)
    findings: list[Finding] = []
    with precise():
        for fn in runnable:
            try:
                fn(doc, findings)
            except (Skip, ArithmeticError):  # an unparseable or absurd number: the XSD reports it
                continue
    if unchecked:
        findings.append(info("SAT-DATA-UNCHECKED", unchecked, line=root.sourceline, xpath="/cfdi:Comprobante"))
    return findings


_PLANS: dict[tuple[bool, ...], tuple[list, str]] = {}


def _plan(sat: SatData) -> tuple[list, str]:
    """The rules that can run with this SatData, and the message naming the ones that cannot (cached)."""
    key = (sat.rfcs is not None, sat.lco is not None, sat.fix is not None, sat.fracciones is not None)
    plan = _PLANS.get(key)
    if plan is None:
        runnable, unchecked = [], {}
        for entry in RULES:
            if entry.needs is not None and not sat.available(entry.needs):
                unchecked.setdefault(entry.needs, []).extend(entry.codes)
            else:
                runnable.append(entry.fn)
        message = ""
        if unchecked:
            parts = [f"{', '.join(codes)} (falta {CONFIG_KEYS[needs]})" for needs, codes in unchecked.items()]
            message = "No se verificaron reglas que necesitan listas del SAT: " + "; ".join(parts) + "."
        plan = _PLANS[key] = (runnable, message)
    return plan
