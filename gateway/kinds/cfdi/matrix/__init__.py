"""SAT's CFDI 4.0 and Comercio Exterior 2.0 error matrices, one registered function per rule.

``check_matrix`` runs every registered rule over one collected view of the document
(``Doc``). Rules needing SAT-side lists run only when the list is configured; otherwise
one info finding names the rules left unchecked. The foundation's own checks (totals,
timbre, seals) keep their SAT codes and are listed in ``registry.EXTERNAL``.
"""

from __future__ import annotations

from decimal import localcontext

from lxml import etree

from gateway.findings import Finding, info
from gateway.kinds.cfdi.catalogs import Catalogs, catalogs
from gateway.kinds.cfdi.matrix import cce, comprobante, conceptos, impuestos, partes, satlists  # noqa: F401 (register)
from gateway.kinds.cfdi.matrix.doc import Doc, Skip
from gateway.kinds.cfdi.matrix.registry import EXTERNAL, RULES, Rule, implemented_codes, rule
from gateway.kinds.cfdi.satdata import CONFIG_KEYS, SatData

__all__ = ["EXTERNAL", "RULES", "Rule", "check_matrix", "implemented_codes", "rule"]


def check_matrix(root: etree._Element, catalog: Catalogs | None = None, satdata: SatData | None = None
                 ) -> list[Finding]:
    """Findings of every matrix rule for a parsed cfdi:Comprobante 4.0."""
    doc = Doc(root, catalog or catalogs(), satdata)
    findings: list[Finding] = []
    unchecked: dict[str, list[str]] = {}
    with localcontext() as context:
        context.prec = 60
        for entry in RULES:
            if entry.needs is not None and not doc.sat.available(entry.needs):
                unchecked.setdefault(entry.needs, []).extend(entry.codes)
                continue
            try:
                findings.extend(entry.fn(doc))
            except Skip:
                continue
    if unchecked:
        parts = [f"{', '.join(codes)} (falta {CONFIG_KEYS[needs]})" for needs, codes in unchecked.items()]
        findings.append(info("SAT-DATA-UNCHECKED", "No se verificaron reglas que necesitan listas del SAT: "
                             + "; ".join(parts) + ".", line=root.sourceline, xpath="/cfdi:Comprobante"))
    return findings
