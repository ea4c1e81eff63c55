"""VUCEM COVE messages to the canonical records of docs/schema/cove.schema.json.

Two records: ``document = "cove"`` (the COVE itself: from ConsultarEdocument, or from the
RecibirCove request the broker signed, whose e-document number arrives later in a
ConsultarRespuestaCove response) and ``document = "respuesta-cove"`` (that response: per invoice
the e-document or VUCEM's errors). Values are copied as written, stripped; amounts stay decimal
strings. Both expose the correlation keys they provide and need (``correlation_keys``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lxml import etree

from gateway.kinds.cove.xsd import EDOC, OXML

if TYPE_CHECKING:
    from gateway.kinds.keys import Keys

Element = etree._Element
Record = dict[str, Any]

_DOMICILIO = {"calle": "calle", "numeroExterior": "numero_exterior", "numeroInterior": "numero_interior",
              "colonia": "colonia", "localidad": "localidad", "municipio": "municipio",
              "entidadFederativa": "entidad_federativa", "pais": "pais", "codigoPostal": "codigo_postal"}
_PERSONA = {"tipoIdentificador": "tipo_identificador", "identificacion": "identificacion",
            "apellidoPaterno": "apellido_paterno", "apellidoMaterno": "apellido_materno", "nombre": "nombre"}
_MERCANCIA = {"descripcionGenerica": "descripcion_generica", "numParte": "numero_parte",
              "claveUnidadMedida": "clave_unidad_medida", "tipoMoneda": "tipo_moneda", "cantidad": "cantidad",
              "valorUnitario": "valor_unitario", "valorTotal": "valor_total", "valorDolares": "valor_dolares"}
_ESPECIFICA = {"marca": "marca", "modelo": "modelo", "subModelo": "submodelo", "numeroSerie": "numero_serie"}
_SPACES = re.compile(r"\s+")


def invoice_key(number: str | None) -> str | None:
    """Invoice numbers compared as brokers type them: case and runs of blanks do not matter."""
    return _SPACES.sub(" ", number).strip().upper() if number else None


def from_edocument(cove: Element) -> Record:
    """``ConsultarEdocumentResponse/response/resultadoBusqueda/cove``: the COVE as VUCEM keeps it."""
    ns = EDOC
    facturas = cove.findall(f"{{{ns}}}facturas/{{{ns}}}factura")
    first = facturas[0] if facturas else None
    mercancias = [m for f in facturas for m in f.findall(f"{{{ns}}}mercancias/{{{ns}}}mercancia")]
    return _cove_record(
        ns, cove, origen="consultar-edocument",
        e_document=_text(cove, ns, "eDocument"), numero_adenda=_text(cove, ns, "numeroAdenda"),
        numero_operacion=None, numero_factura=_text(cove, ns, "numeroFacturaRelacionFacturas"),
        patentes=[_clean(p.text) for p in cove.findall(f"{{{ns}}}patentesAduanales/{{{ns}}}patenteAduanal")],
        rfcs=[_clean(r.text) for r in cove.findall(f"{{{ns}}}rfcsConsulta/{{{ns}}}rfcConsulta")],
        factura={"certificado_origen": _text(first, ns, "certificadoOrigen"),
                 "subdivision": _text(first, ns, "subdivision"),
                 "numero_exportador": _text(first, ns, "numeroExportadorConfiable")},
        mercancias=mercancias,
    )


def from_request(comprobante: Element) -> Record:
    """One ``comprobantes`` of a RecibirCove request: the COVE as the broker signed it, without its number yet."""
    ns = OXML
    factura = comprobante.find(f"{{{ns}}}factura")
    return _cove_record(
        ns, comprobante, origen="recibir-cove",
        e_document=None, numero_adenda=None, numero_operacion=None,
        numero_factura=_text(comprobante, ns, "numeroFacturaOriginal"),
        patentes=[_clean(p.text) for p in comprobante.findall(f"{{{ns}}}patenteAduanal")],
        rfcs=[_clean(r.text) for r in comprobante.findall(f"{{{ns}}}rfcConsulta")],
        factura={"certificado_origen": _text(factura, ns, "certificadoOrigen"),
                 "subdivision": _text(factura, ns, "subdivision"),
                 "numero_exportador": _text(factura, ns, "numeroExportadorAutorizado")},
        mercancias=comprobante.findall(f"{{{ns}}}mercancias"),
        adenda_de=_text(comprobante, ns, "e-document"),
    )


def from_respuesta(response: Element) -> Record:
    """ConsultarRespuestaCove: the operation number and, per invoice, its COVE or VUCEM's errors."""
    ns = OXML
    respuestas = []
    for item in response.findall(f"{{{ns}}}respuestasOperaciones"):
        respuestas.append({
            "numero_factura": _text(item, ns, "numeroFacturaORelacionFacturas"),
            "contiene_error": _text(item, ns, "contieneError") in ("true", "1"),
            "e_document": _upper(_text(item, ns, "eDocument")),
            "numero_adenda": _upper(_text(item, ns, "numeroAdenda")),
            "errores": [_clean(m.text) for m in item.findall(f"{{{ns}}}errores/{{{ns}}}mensaje") if _clean(m.text)],
        })
    return {
        "document": "respuesta-cove",
        "numero_operacion": _text(response, ns, "numeroOperacion"),
        "hora_recepcion": _text(response, ns, "horaRecepcion"),
        "leyenda": _text(response, ns, "leyenda"),
        "respuestas": respuestas,
    }


def _cove_record(ns: str, element: Element, *, origen: str, e_document: str | None, numero_adenda: str | None,
                 numero_operacion: str | None, numero_factura: str | None, patentes: list, rfcs: list,
                 factura: Record, mercancias: list[Element], adenda_de: str | None = None) -> Record:
    lines = [_mercancia(ns, m) for m in mercancias]
    return {
        "document": "cove",
        "origen": origen,
        "e_document": _upper(e_document),
        "numero_adenda": _upper(numero_adenda),
        "adenda_de": _upper(adenda_de),
        "numero_operacion": numero_operacion,
        "tipo_operacion": _text(element, ns, "tipoOperacion"),
        "numero_factura": numero_factura,
        "relacion_facturas": _text(element, ns, "relacionFacturas") == "1",
        "fecha_expedicion": _date(_text(element, ns, "fechaExpedicion")),
        "tipo_figura": _text(element, ns, "tipoFigura"),
        "patentes": [p for p in patentes if p],
        "rfcs_consulta": [r.upper() for r in rfcs if r],
        "observaciones": _text(element, ns, "observaciones"),
        "factura": factura,
        "emisor": _persona(ns, element.find(f"{{{ns}}}emisor")),
        "destinatario": _persona(ns, element.find(f"{{{ns}}}destinatario")),
        "mercancias": lines,
    }


def _persona(ns: str, element: Element | None) -> Record | None:
    if element is None:
        return None
    record = {key: _text(element, ns, tag) for tag, key in _PERSONA.items()}
    if record["identificacion"]:
        record["identificacion"] = record["identificacion"].upper()
    domicilio = element.find(f"{{{ns}}}domicilio")
    record["domicilio"] = None if domicilio is None else {k: _text(domicilio, ns, t) for t, k in _DOMICILIO.items()}
    return record


def _mercancia(ns: str, element: Element) -> Record:
    record = {key: _text(element, ns, tag) for tag, key in _MERCANCIA.items()}
    record["descripciones_especificas"] = [
        {key: _text(d, ns, tag) for tag, key in _ESPECIFICA.items()}
        for d in element.findall(f"{{{ns}}}descripcionesEspecificas")
    ]
    return record


def _text(element: Element | None, ns: str, tag: str) -> str | None:
    if element is None:
        return None
    child = element.find(f"{{{ns}}}{tag}")
    return None if child is None else _clean(child.text)


def _clean(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None


def _date(value: str | None) -> str | None:
    """xs:date may carry an offset (VUCEM writes ``2015-11-05-06:00``); the record keeps the calendar date."""
    return value[:10] if value else None


def correlation_keys(record: Record) -> Keys:
    """A COVE provides its e-document (and adenda); a request and its answer need each other by invoice number."""
    from gateway.kinds.keys import COVE, COVE_ANSWER, COVE_INVOICE, Keys

    if record.get("document") == "respuesta-cove":
        provides, needs = set(), set()
        for answer in record.get("respuestas") or []:
            invoice = invoice_key(answer["numero_factura"])
            if answer["contiene_error"] or not invoice or not answer.get("e_document"):
                continue
            provides |= {(COVE_ANSWER, invoice), (COVE, answer["e_document"])}
            if answer.get("numero_adenda"):
                provides.add((COVE, answer["numero_adenda"]))
            needs.add((COVE_INVOICE, invoice))
        return Keys(frozenset(provides), frozenset(needs))
    provides = {(COVE, value) for value in (record.get("e_document"), record.get("numero_adenda")) if value}
    needs = set()
    if record.get("origen") == "recibir-cove" and record.get("numero_factura"):
        invoice = invoice_key(record["numero_factura"])
        provides.add((COVE_INVOICE, invoice))
        needs.add((COVE_ANSWER, invoice))
    return Keys(frozenset(provides), frozenset(needs))
