"""The project's own schemas of VUCEM's COVE messages (``xsd/vucem/``), compiled once, validated with lxml.

A VUCEM message travels in a SOAP envelope; the schema applies to the payload, the one child of
``S:Body``. A bare payload (an envelope stripped by the broker's system) is accepted as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.findings import Finding, error
from gateway.xmlsafe import make_parser

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OXML = "http://www.ventanillaunica.gob.mx/cove/ws/oxml/"
EDOC = "http://www.ventanillaunica.gob.mx/ConsultarEdocument/"

#: payload element (Clark name) -> (schema file, what the message is, in users' words)
MESSAGES: dict[str, tuple[str, str]] = {
    f"{{{EDOC}}}ConsultarEdocumentResponse": ("ConsultarEdocument.xsd", "respuesta de ConsultarEdocument (COVE)"),
    f"{{{OXML}}}solicitarRecibirCoveServicio": ("RecibirCove.xsd", "solicitud RecibirCove"),
    f"{{{OXML}}}solicitarConsultarRespuestaCoveServicioResponse": (
        "ConsultarRespuestaCove.xsd", "respuesta de ConsultarRespuestaCove"),
    f"{{{OXML}}}solicitarRecibirCoveServicioResponse": ("RecibirCove.xsd", "acuse de recepción de RecibirCove"),
}
_MESSAGE_LIMIT = 400


def schema_dir() -> Path:
    """``xsd/vucem`` of the source tree (installed editable, as the Makefile does)."""
    return Path(__file__).resolve().parents[3] / "xsd" / "vucem"


@dataclass
class CoveSchemas:
    by_file: dict[str, etree.XMLSchema]

    @classmethod
    def build(cls, folder: Path | None = None) -> CoveSchemas:
        folder = folder or schema_dir()
        parser = make_parser()
        files = {name for name, _ in MESSAGES.values()}
        return cls({name: etree.XMLSchema(etree.parse(str(folder / name), parser)) for name in files})

    def validate(self, payload: etree._Element) -> list[Finding]:
        file_name, what = MESSAGES[payload.tag]
        schema = self.by_file[file_name]
        # validate the payload as its own document: the SOAP envelope is not part of the schema
        copy = etree.fromstring(etree.tostring(payload), make_parser())
        if schema.validate(copy):
            return []
        offset = (payload.sourceline or 1) - 1
        findings = []
        for entry in schema.error_log:
            message = entry.message if len(entry.message) <= _MESSAGE_LIMIT else entry.message[:_MESSAGE_LIMIT] + "…"
            findings.append(error("XSD", f"La {what} no cumple su esquema: {message}",
                                  line=(entry.line + offset) if entry.line else None,
                                  xpath=_envelope_xpath(payload, entry.path)))
        return findings


def payload_of(root: etree._Element) -> etree._Element | None:
    """The VUCEM message inside a SOAP envelope, or the root itself when it is a known message."""
    if root.tag in MESSAGES:
        return root
    if root.tag != f"{{{SOAP}}}Envelope":
        return None
    body = root.find(f"{{{SOAP}}}Body")
    if body is None:
        return None
    children = [c for c in body if isinstance(c.tag, str)]
    return children[0] if len(children) == 1 and children[0].tag in MESSAGES else None


def _envelope_xpath(payload: etree._Element, path: str | None) -> str | None:
    if not path:
        return None
    parent = payload.getparent()
    if parent is None:
        return path
    return "/S:Envelope/S:Body" + path
