"""The COVE document kind: detect VUCEM's COVE messages, validate them with the project's XSDs, normalise."""

from __future__ import annotations

import threading
from copy import deepcopy
from typing import Any

from lxml import etree

from gateway.findings import Finding, error, has_errors
from gateway.kinds.base import CheckResult, Part
from gateway.kinds.cove.normalise import correlation_keys, from_edocument, from_request, from_respuesta
from gateway.kinds.cove.rules import check_cove, check_respuesta
from gateway.kinds.cove.xsd import EDOC, MESSAGES, OXML, CoveSchemas, payload_of
from gateway.kinds.keys import Keys
from gateway.xmlsafe import make_parser, parse

_MARKERS = (b"ventanillaunica.gob.mx/ConsultarEdocument", b"ventanillaunica.gob.mx/cove/ws/oxml")
_RESPUESTA_XPATH = "/S:Envelope/S:Body/oxml:solicitarConsultarRespuestaCoveServicioResponse"
_NAMES = (b"ConsultarEdocumentResponse", b"solicitarRecibirCoveServicio", b"solicitarConsultarRespuestaCoveServicio")


class CoveKind:
    name = "cove"

    def __init__(self) -> None:
        self._schemas: CoveSchemas | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:1] == b"<" and any(m in head for m in _MARKERS) and any(n in head for n in _NAMES)

    def correlation_keys(self, record: dict[str, Any]) -> Keys:
        return correlation_keys(record)

    def waits_to_be_claimed(self, record: dict[str, Any]) -> bool:
        return True  # every COVE is declared by some pedimento (505.4)

    @property
    def schemas(self) -> CoveSchemas:
        with self._lock:
            if self._schemas is None:
                self._schemas = CoveSchemas.build()
            return self._schemas

    def _parser(self) -> etree.XMLParser:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = make_parser()
        return parser

    def check(self, data: bytes) -> CheckResult:
        parsed = parse(data, self._parser())
        findings: list[Finding] = list(parsed.findings)
        if parsed.root is None:
            return CheckResult(findings)
        payload = payload_of(parsed.root)
        if payload is None:
            return CheckResult([*findings, error(
                "FILE-UNKNOWN-KIND", "No es un mensaje COVE de VUCEM: se esperaba la respuesta de ConsultarEdocument, "
                "la solicitud RecibirCove o la respuesta de ConsultarRespuestaCove.", line=parsed.root.sourceline)])
        findings += self.schemas.validate(payload)
        if has_errors(findings):
            return CheckResult(findings, validated=True)
        tag = etree.QName(payload).localname
        if payload.tag == f"{{{EDOC}}}ConsultarEdocumentResponse":
            return _edocument(payload, findings)
        if tag == "solicitarRecibirCoveServicio":
            return _request(parsed.root, payload, findings)
        if tag == "solicitarConsultarRespuestaCoveServicioResponse":
            record = from_respuesta(payload)
            findings += check_respuesta(record, _RESPUESTA_XPATH)
            if has_errors(findings):
                return CheckResult(findings, validated=True)
            return CheckResult(findings, record, business_key=f"operación {record['numero_operacion']}", validated=True)
        _, what = MESSAGES[payload.tag]
        return CheckResult([*findings, error(
            "FILE-UNKNOWN-KIND", f"Es el {what} (número de operación), que no contiene el COVE; el gateway toma la "
            "solicitud RecibirCove con la respuesta de ConsultarRespuestaCove, o la respuesta de ConsultarEdocument.",
            line=payload.sourceline)], validated=True)


def _edocument(payload: etree._Element, findings: list[Finding]) -> CheckResult:
    ns = EDOC
    response = payload.find(f"{{{ns}}}response")
    failed = response.findtext(f"{{{ns}}}contieneError", "").strip() in ("true", "1")
    cove = response.find(f"{{{ns}}}resultadoBusqueda/{{{ns}}}cove")
    if failed or cove is None:
        messages = [e.text.strip() for e in response.findall(f"{{{ns}}}errores/{{{ns}}}error") if e.text]
        detail = "; ".join(messages) or (response.findtext(f"{{{ns}}}mensaje") or "sin COVE en la respuesta").strip()
        return CheckResult([*findings, error("COVE-VUCEM-ERROR", f"VUCEM no devolvió el COVE consultado: {detail}",
                                             line=response.sourceline)], validated=True)
    record = from_edocument(cove)
    findings += check_cove(record, "/S:Envelope/S:Body/ConsultarEdocumentResponse/response/resultadoBusqueda/cove")
    if has_errors(findings):
        return CheckResult(findings, validated=True)
    return CheckResult(findings, record, business_key=record["e_document"], validated=True)


def _request(root: etree._Element, payload: etree._Element, findings: list[Finding]) -> CheckResult:
    comprobantes = payload.findall(f"{{{OXML}}}comprobantes")
    if len(comprobantes) > 1:
        result = CheckResult(findings, record={"document": "solicitud-cove", "comprobantes": len(comprobantes)},
                             validated=True)
        result.parts = _split(root, len(comprobantes))
        return result
    record = from_request(comprobantes[0])
    findings += check_cove(record, "/S:Envelope/S:Body/oxml:solicitarRecibirCoveServicio/oxml:comprobantes")
    if has_errors(findings):
        return CheckResult(findings, validated=True)
    return CheckResult(findings, record, business_key=f"factura {record['numero_factura']}", validated=True)


def _split(root: etree._Element, count: int):  # noqa: ANN202 - generator of Part
    """A request with several invoices is one COVE per invoice: each becomes a request of its own."""
    for keep in range(count):
        copy = deepcopy(root)
        target = payload_of(copy)
        for index, comprobante in enumerate(target.findall(f"{{{OXML}}}comprobantes")):
            if index != keep:
                target.remove(comprobante)
        number = target.findtext(f"{{{OXML}}}comprobantes/{{{OXML}}}numeroFacturaOriginal", "").strip()
        yield Part("cove", etree.tostring(copy, xml_declaration=True, encoding="UTF-8"), f"(factura {number})")
