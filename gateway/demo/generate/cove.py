"""VUCEM COVE messages written from canonical COVE records: for the demo, the benchmark and the tests.

No broker publishes its COVEs, so the scenario builds them: :func:`cove_record` makes the canonical
record of one invoice's COVE, :func:`edocument_response` writes it as VUCEM's ConsultarEdocument answer,
:func:`recibir_request` as the RecibirCove request the broker signs (cadena original in the order of
VUCEM's Cove02 XSLT) and :func:`respuesta` as the ConsultarRespuestaCove answer that gives it its number.
The e.firma is a test identity's when one is given (``gateway.demo.generate.cfdi.Identity``); VUCEM
checks it, the gateway does not. Everything is deterministic in its inputs.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from gateway.kinds.cove.xsd import EDOC, OXML, SOAP

Record = dict[str, Any]
_DOMICILIO = (("calle", "calle"), ("numeroExterior", "numero_exterior"), ("numeroInterior", "numero_interior"),
              ("colonia", "colonia"), ("localidad", "localidad"), ("municipio", "municipio"),
              ("entidadFederativa", "entidad_federativa"), ("pais", "pais"), ("codigoPostal", "codigo_postal"))


def line(descripcion: str, cantidad: Decimal, valor_unitario: Decimal, usd_factor: Decimal = Decimal(1),
         moneda: str = "USD", unidad: str = "C62_1", numero_parte: str | None = None) -> Record:
    """One mercancía: total = cantidad × valor unitario, USD = total × factor, both to the cent."""
    total = (cantidad * valor_unitario).quantize(Decimal("0.01"))
    return {"descripcion_generica": descripcion, "numero_parte": numero_parte, "clave_unidad_medida": unidad,
            "tipo_moneda": moneda, "cantidad": str(cantidad), "valor_unitario": str(valor_unitario),
            "valor_total": str(total), "valor_dolares": str((total * usd_factor).quantize(Decimal("0.01"))),
            "descripciones_especificas": []}


def persona(tipo: str, identificacion: str, nombre: str, domicilio: Record) -> Record:
    return {"tipo_identificador": tipo, "identificacion": identificacion, "apellido_paterno": None,
            "apellido_materno": None, "nombre": nombre, "domicilio": {k: domicilio.get(k) for _, k in _DOMICILIO}}


def cove_record(e_document: str | None, numero_factura: str, fecha: date, emisor: Record, destinatario: Record,
                mercancias: list[Record], *, tipo_operacion: str = "TOCE.IMP", patentes: tuple[str, ...] = ("3456",),
                rfcs_consulta: tuple[str, ...] = (), tipo_figura: str = "1") -> Record:
    return {
        "document": "cove", "origen": "consultar-edocument" if e_document else "recibir-cove",
        "e_document": e_document, "numero_adenda": None, "adenda_de": None, "numero_operacion": None,
        "tipo_operacion": tipo_operacion, "numero_factura": numero_factura, "relacion_facturas": False,
        "fecha_expedicion": fecha.isoformat(), "tipo_figura": tipo_figura, "patentes": list(patentes),
        "rfcs_consulta": list(rfcs_consulta), "observaciones": None,
        "factura": {"certificado_origen": "0", "subdivision": "0", "numero_exportador": None},
        "emisor": emisor, "destinatario": destinatario, "mercancias": mercancias,
    }


def edocument_response(record: Record) -> bytes:
    """VUCEM's ConsultarEdocument answer carrying the full COVE."""
    e = _maker(EDOC, None)
    cove = e("cove", e("eDocument", record["e_document"]), e("tipoOperacion", record["tipo_operacion"]),
             e("numeroFacturaRelacionFacturas", record["numero_factura"]), e("relacionFacturas", "0"),
             e("automotriz", "0"), e("fechaExpedicion", record["fecha_expedicion"] + "-06:00"),
             e("tipoFigura", record["tipo_figura"]),
             e("patentesAduanales", *[e("patenteAduanal", p) for p in record["patentes"]]),
             e("rfcsConsulta", *[e("rfcConsulta", r) for r in record["rfcs_consulta"]]),
             e("observaciones", record.get("observaciones")))
    factura = e("factura", e("certificadoOrigen", record["factura"]["certificado_origen"]),
                e("subdivision", record["factura"]["subdivision"]),
                e("mercancias", *[_mercancia(e, "mercancia", m) for m in record["mercancias"]]))
    cove.append(e("facturas", factura))
    cove.append(_persona(e, "emisor", record["emisor"]))
    cove.append(_persona(e, "destinatario", record["destinatario"]))
    response = e("response", e("mensaje", "La consulta se realizó exitosamente"), e("contieneError", "false"),
                 e("resultadoBusqueda", cove))
    return _envelope(e("ConsultarEdocumentResponse", response))


def recibir_request(records: list[Record], signer: Any = None) -> bytes:
    """The RecibirCove request (one ``comprobantes`` per record), each signed over its cadena original."""
    e = _maker(OXML, "oxml")
    request = e("solicitarRecibirCoveServicio")
    for record in records:
        cadena = cadena_original(record)
        certificado, firma = _firma(cadena, signer)
        comprobante = e("comprobantes", e("tipoOperacion", record["tipo_operacion"]),
                        *[e("patenteAduanal", p) for p in record["patentes"]],
                        e("fechaExpedicion", record["fecha_expedicion"]),
                        e("observaciones", record.get("observaciones")),
                        *[e("rfcConsulta", r) for r in record["rfcs_consulta"]],
                        e("tipoFigura", record["tipo_figura"]),
                        e("firmaElectronica", e("certificado", certificado), e("cadenaOriginal", cadena),
                          e("firma", firma)),
                        e("numeroFacturaOriginal", record["numero_factura"]),
                        e("factura", e("certificadoOrigen", record["factura"]["certificado_origen"]),
                          e("subdivision", record["factura"]["subdivision"])),
                        _persona(e, "emisor", record["emisor"]), _persona(e, "destinatario", record["destinatario"]),
                        *[_mercancia(e, "mercancias", m) for m in record["mercancias"]])
        request.append(comprobante)
    return _envelope(request, prefix="soapenv")


def respuesta(numero_operacion: int, answers: list[tuple[str, str | None, list[str]]],
              hora: str = "2026-08-01T10:00:00.000-06:00") -> bytes:
    """ConsultarRespuestaCove: per (invoice, e-document or None, errors) one ``respuestasOperaciones``."""
    e = _maker(OXML, None)
    root = e("solicitarConsultarRespuestaCoveServicioResponse", e("numeroOperacion", str(numero_operacion)),
             e("horaRecepcion", hora))
    for invoice, e_document, errors in answers:
        item = e("respuestasOperaciones", e("numeroFacturaORelacionFacturas", invoice),
                 e("contieneError", "true" if errors else "false"))
        if e_document:
            item.append(e("eDocument", e_document))
        if errors:
            item.append(e("errores", *[e("mensaje", m) for m in errors]))
        root.append(item)
    root.append(e("leyenda", "Tiene 240 días a partir de esta fecha para utilizar su Acuse de Valor."))
    return _envelope(root)


def cadena_original(record: Record) -> str:
    """``|`` + each non-empty value in the Cove02 XSLT order + ``|`` (quantity before currency, unlike the XML)."""
    values = [record["tipo_operacion"], record["numero_factura"], "0", record["fecha_expedicion"][:10],
              record["tipo_figura"], record.get("observaciones"), *record["rfcs_consulta"], *record["patentes"],
              record["factura"]["subdivision"], record["factura"]["certificado_origen"],
              record["factura"].get("numero_exportador")]
    for role in ("emisor", "destinatario"):
        party = record[role]
        values += [party["tipo_identificador"], party["identificacion"], party.get("apellido_paterno"),
                   party.get("apellido_materno"), party["nombre"]]
        values += [party["domicilio"].get(k) for k in ("calle", "numero_exterior", "numero_interior", "colonia",
                                                        "localidad", "municipio", "entidad_federativa", "pais",
                                                        "codigo_postal")]
    for m in record["mercancias"]:
        values += [m["descripcion_generica"], m["clave_unidad_medida"], m["cantidad"], m["tipo_moneda"],
                   m["valor_unitario"], m["valor_total"], m["valor_dolares"]]
        for d in m.get("descripciones_especificas") or []:
            values += [d.get("marca"), d.get("modelo"), d.get("submodelo"), d.get("numero_serie")]
    return "|" + "".join(f"{v}|" for v in values if v not in (None, "")) if values else "||"


def _firma(cadena: str, signer: Any) -> tuple[str, str]:
    if signer is not None:
        return signer.certificate_b64, signer.sign(cadena)
    digest = hashlib.sha256(cadena.encode("utf-8")).digest()
    return base64.b64encode(b"TEST-ONLY CERTIFICATE").decode(), base64.b64encode(digest).decode()


def _maker(namespace: str, prefix: str | None):  # noqa: ANN202 - element factory
    nsmap = {prefix: namespace}

    def make(tag: str, *children: Any) -> etree._Element | None:
        if children and all(child is None for child in children):
            return None  # an optional value not given: no element at all
        element = etree.Element(f"{{{namespace}}}{tag}", nsmap=nsmap)
        for child in children:
            if child is None:
                continue
            if isinstance(child, etree._Element):
                element.append(child)
            else:
                element.text = str(child)
        return element

    return make


def _persona(e: Any, tag: str, party: Record) -> etree._Element:
    domicilio = e("domicilio", *[e(t, party["domicilio"].get(k)) for t, k in _DOMICILIO
                                 if party["domicilio"].get(k)])
    return e(tag, e("tipoIdentificador", party["tipo_identificador"]), e("identificacion", party["identificacion"]),
             e("nombre", party["nombre"]), domicilio)


def _mercancia(e: Any, tag: str, m: Record) -> etree._Element:
    return e(tag, e("descripcionGenerica", m["descripcion_generica"]), e("numParte", m.get("numero_parte")),
             e("claveUnidadMedida", m["clave_unidad_medida"]), e("tipoMoneda", m["tipo_moneda"]),
             e("cantidad", m["cantidad"]), e("valorUnitario", m["valor_unitario"]), e("valorTotal", m["valor_total"]),
             e("valorDolares", m["valor_dolares"]),
             *[e("descripcionesEspecificas", *[e(t, d.get(k)) for t, k in (("marca", "marca"), ("modelo", "modelo"),
                                               ("subModelo", "submodelo"), ("numeroSerie", "numero_serie"))])
               for d in m.get("descripciones_especificas") or []])


def _envelope(payload: etree._Element, prefix: str = "S") -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={prefix: SOAP})
    etree.SubElement(envelope, f"{{{SOAP}}}Header")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(payload)
    etree.indent(envelope)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
