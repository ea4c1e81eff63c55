"""The CFDI document kind: parse safely, XSD, business rules, seals, canonical record."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.findings import Finding, error, has_errors
from gateway.kinds.base import CheckResult
from gateway.kinds.cfdi import correlation
from gateway.kinds.cfdi.catalogs import catalogs
from gateway.kinds.cfdi.effective import PERIODS
from gateway.kinds.cfdi.matrix import Doc, check_matrix
from gateway.kinds.cfdi.matrix.doc import precise
from gateway.kinds.cfdi.normalise import normalise
from gateway.kinds.cfdi.rules import check_rules
from gateway.kinds.cfdi.satdata import SatData
from gateway.kinds.cfdi.satfiles import default_root
from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier
from gateway.kinds.cfdi.xsd import CFDI4, CfdiSchema, Layout
from gateway.kinds.keys import Keys
from gateway.kinds.satcatalogs.imported import ImportedSet
from gateway.xmlsafe import make_parser, parse

_SAT_CFD_NS = re.compile(rb"""=\s*["']http://www\.sat\.gob\.mx/cfd/([234])["']""")
_OLD_NAMESPACES = {"http://www.sat.gob.mx/cfd/3": "3.x", "http://www.sat.gob.mx/cfd/2": "2.x"}


class CfdiKind:
    name = "cfdi"

    def __init__(self, sat_root: Path | None = None, certificate_dirs: list[Path] | None = None,
                 verify_seals: bool = True, satdata: SatData | None = None, catalogs_dir: Path | None = None) -> None:
        self.sat_root = sat_root or default_root()
        #: where ``immex-gateway catalogs import`` keeps SAT's newer catalogs (None: the wheel's only)
        self.catalogs_dir = catalogs_dir
        self._schema_set: object = None  # the imported set ``_schema`` was built for
        self.satdata = satdata or SatData()
        self.certificate_dirs = list(certificate_dirs or [])
        self.verify_seals = verify_seals
        self._schema: CfdiSchema | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def sniff(self, head: bytes, filename: str) -> bool:
        # the head is already stripped of BOM and blanks; XML (UTF-16 included) starts with "<"
        return head[:1] in (b"<", b"\xff", b"\xfe") and b"Comprobante" in head and _SAT_CFD_NS.search(head) is not None

    def correlation_keys(self, record: dict[str, Any]) -> Keys:
        return correlation.correlation_keys(record)

    def waits_to_be_claimed(self, record: dict[str, Any]) -> bool:
        return correlation.is_export(record)  # a pedimento declares by UUID only export invoices (regla 3.1.35)

    def warm(self) -> None:
        """The schema compiled now (about a second), not on the first invoice."""
        self._schema_for(catalogs(self.catalogs_dir).imported)

    @property
    def schema(self) -> CfdiSchema:
        """Compiled once per process (about half a second), and again when a newer catalog set is imported."""
        return self._schema_for(catalogs(self.catalogs_dir).imported)

    def _schema_for(self, imported: ImportedSet | None) -> CfdiSchema:
        with self._lock:
            if self._schema is None or self._schema_set is not imported:
                replacements, bounded = {}, {}
                if imported is not None:
                    for name in imported.meta:
                        replacements[name] = frozenset(key[0] for key, _ in imported.rows(name))
                        periods = imported.bounded(name)
                        if periods:
                            bounded[name] = periods
                schema = CfdiSchema.build(self.sat_root, replacements=replacements)
                schema.bounded = bounded
                self._schema, self._schema_set = schema, imported
            return self._schema

    def _seals(self) -> SealVerifier:
        verifier = getattr(self._local, "seals", None)
        if verifier is None:
            verifier = self._local.seals = SealVerifier(self.sat_root, CertificateStore(self.certificate_dirs))
        return verifier

    def _parser(self) -> etree.XMLParser:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = make_parser()
        return parser

    def check(self, data: bytes) -> CheckResult:
        root, findings = self.validate(data)
        if root is None or has_errors(findings):
            return CheckResult(findings, validated=root is not None)
        record = normalise(root)
        return CheckResult(findings, record, business_key=record.get("uuid"), validated=True)

    def validate(self, data: bytes) -> tuple[etree._Element | None, list[Finding]]:
        """Parse, version, XSD, rules and (when configured) seals: the verdict without the canonical record.

        Returns the root only when the document got as far as validation (parsed, CFDI 4.0).
        """
        parsed = parse(data, self._parser())
        findings: list[Finding] = list(parsed.findings)
        if parsed.root is None:
            return None, findings
        root = parsed.root
        version_problem = _version_problem(root)
        if version_problem:
            return None, [*findings, version_problem]
        cat = catalogs(self.catalogs_dir)
        doc = Doc(root, cat, self.satdata)  # one walk of the tree for the matrix and the rules
        schema = self._schema_for(cat.imported)
        schema_findings = schema.validate(root, layout_of(doc))
        with precise():  # entered once for both rule sets
            findings.extend(_merge(schema_findings, check_matrix(doc)))
            findings.extend(check_rules(doc))
        if schema.bounded and doc.fecha is not None:  # imported catalogs' FechaInicio/FinVigencia vs the Fecha
            findings.extend(schema.out_of_force(root, doc.fecha.date()))
        if self.verify_seals:
            findings.extend(self._seals().verify(root))
        return root, findings


_ROOT_PATH = ("Comprobante",)
_RECEPTOR_PATH = ("Comprobante", "Receptor")
_CONCEPTO_PATH = ("Comprobante", "Conceptos", "Concepto")
_PARTE_PATH = ("Comprobante", "Conceptos", "Concepto", "Parte")


def layout_of(doc: Doc) -> Layout:
    """What ``Doc``'s walk found, for ``CfdiSchema`` not to walk the tree again."""
    nodes = [(_ROOT_PATH, doc.root)]
    if doc.receptor is not None:
        nodes.append((_RECEPTOR_PATH, doc.receptor))
    concept_complements = []
    for concepto in doc.conceptos:
        nodes.append((_CONCEPTO_PATH, concepto.element))
        if concepto.partes:
            nodes.extend((_PARTE_PATH, parte) for parte in concepto.partes)
        if concepto.complemento is not None:
            concept_complements.extend(c for c in concepto.complemento if isinstance(c.tag, str))
    return Layout(doc.addenda_nodes, doc.complementos, nodes, concept_complements, doc.memo)


def _merge(schema: list[Finding], matrix: list[Finding]) -> list[Finding]:
    """XSD and matrix findings, each fault once.

    A catalog value or a missing attribute is both an XSD error and a SAT matrix rule. The
    XSD finding stays (its code is what the schema check promises) and takes the matrix
    rule's SAT code; the matrix finding on the same attribute and line is dropped.
    """
    if not schema or not matrix:
        return schema + matrix
    by_attribute: dict[tuple[object, str], Finding] = {}
    for finding in matrix:
        xpath = finding.location.get("xpath", "")
        if finding.sat_code and "/@" in xpath:
            by_attribute.setdefault((finding.location.get("line"), xpath.rsplit("/@", 1)[1]), finding)
    merged: list[Finding] = []
    used: set[int] = set()
    for finding in schema:
        twin = _twin(finding, by_attribute) if finding.code == "XSD" else None
        if twin is not None and not finding.sat_code:
            used.add(id(twin))
            finding = replace(finding, sat_code=twin.sat_code)
        merged.append(finding)
    return merged + [f for f in matrix if id(f) not in used]


def _twin(finding: Finding, by_attribute: dict[tuple[object, str], Finding]) -> Finding | None:
    line, xpath = finding.location.get("line"), finding.location.get("xpath") or ""
    if "/@" in xpath:
        return by_attribute.get((line, xpath.rsplit("/@", 1)[1]))
    for (at_line, attr), twin in by_attribute.items():
        if at_line == line and f"'{attr}'" in finding.message:
            return twin
    return None


_COMPROBANTE4 = f"{{{CFDI4}}}Comprobante"


def _version_problem(root: etree._Element) -> Finding | None:
    if root.tag == _COMPROBANTE4 and root.get("Version") == "4.0":
        return None  # the usual case, without building a QName
    qname = etree.QName(root)
    if qname.localname != "Comprobante":
        return error("FILE-UNKNOWN-KIND", f"El elemento raíz es {qname.localname}, no cfdi:Comprobante.",
                     line=root.sourceline)
    if qname.namespace in _OLD_NAMESPACES:
        version = root.get("Version") or root.get("version") or _OLD_NAMESPACES[qname.namespace]
        return error("CFDI-VERSION", _old_version_message(version, root.get("Fecha") or root.get("fecha")),
                     line=root.sourceline, xpath="/cfdi:Comprobante/@Version")
    if qname.namespace != CFDI4:
        return error("FILE-UNKNOWN-KIND", f"Espacio de nombres desconocido para un CFDI: {qname.namespace}",
                     line=root.sourceline)
    if root.get("Version") != "4.0":
        return error("CFDI-VERSION", f"El atributo Version es '{root.get('Version')}'; se espera 4.0.",
                     line=root.sourceline, xpath="/cfdi:Comprobante/@Version")
    return None


def _old_version_message(version: str, fecha: str | None) -> str:
    """Why a CFDI 3.x is not validated, as of its Fecha: valid that day or not, the gateway checks only 4.0."""
    period = PERIODS.get({"3.3": "cfdi33", "3.2": "cfdi32"}.get(version.strip(), ""))
    head = f"CFDI versión {version}: el gateway valida solo CFDI 4.0"
    if period is None:
        return f"{head}."
    day = _FECHA_DAY.match(fecha or "")
    when = date(*map(int, day.groups())) if day and _real_date(day.groups()) else None
    if when is not None and period.covers(when):
        return (f"{head}. La versión {version} era vigente en su Fecha ({when:%d/%m/%Y}; {period.describe()}), "
                "pero el gateway no puede verificarla.")
    return f"{head} ({version}: {period.describe()}; desde el 01/04/2023 el SAT acepta solo la 4.0)."


_FECHA_DAY = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _real_date(parts: tuple[str, ...]) -> bool:
    try:
        date(*map(int, parts))
    except ValueError:
        return False
    return True
