"""VUCEM pedimento web-service answers (ConsultarPedimentoCompleto, ConsultarPartida) → pedimento records.

The answers carry catalog keys with their descriptions; the records keep the keys so the same rules and
normaliser apply. ConsultarPedimentoCompleto has no partidas (VUCEM serves them one by one through
ConsultarPartida) and no patente (it is part of the request, not of the answer).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from gateway.findings import Finding, error
from gateway.kinds.pedimento.normalise import Rec
from gateway.xmlsafe import parse

NAMESPACE = b"ventanillaunica.gob.mx/pedimentos/ws/oxml/"
ROOTS = {"consultarPedimentoCompletoRespuesta": "ConsultarPedimentoCompleto",
         "consultarPartidaRespuesta": "ConsultarPartida"}
_VALUATION = (("TRANSACCION DE LAS MERCANCIAS", "1"), ("IDENTICAS", "2"), ("SIMILARES", "3"),
              ("PRECIO UNITARIO", "4"), ("RECONSTRUIDO", "5"), ("ULTIMO RECURSO", "6"), ("COMERCIAL", "0"))


def sniff(head: bytes) -> bool:
    return head[:1] == b"<" and NAMESPACE in head and any(root.encode() in head for root in ROOTS)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _kids(element: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if element is None else [c for c in element if _local(c) == name]


def _kid(element: etree._Element | None, name: str) -> etree._Element | None:
    found = _kids(element, name)
    return found[0] if found else None


def _text(element: etree._Element | None, *path: str) -> str:
    for name in path:
        element = _kid(element, name)
    return " ".join((element.text or "").split()) if element is not None else ""


def _date8(value: str) -> str:
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    return "".join(match.groups()) if match else value


def records(data: bytes, findings: list[Finding]) -> tuple[list[Rec], dict[str, Any]] | None:
    """The records of the answer, or None (with findings) when it holds no declaration."""
    parsed = parse(data)
    findings.extend(parsed.findings)
    if parsed.root is None:
        return None
    answer = next((e for e in parsed.root.iter() if _local(e) in ROOTS), None)
    if answer is None:
        findings.append(error("FILE-UNKNOWN-KIND", "La respuesta de VUCEM no es ConsultarPedimentoCompleto ni "
                              "ConsultarPartida.", line=parsed.root.sourceline))
        return None
    service = ROOTS[_local(answer)]
    if _text(answer, "tieneError").lower() == "true":
        messages = "; ".join(" ".join((e.text or "").split()) for e in answer.iter() if _local(e) == "mensaje")
        findings.append(error("PED-SEQUENCE", f"VUCEM respondió con error: {messages or 'sin mensaje'}.",
                              line=answer.sourceline))
        return None
    origin: dict[str, Any] = {"format": "vucem", "service": service,
                              "operation_number": _text(answer, "numeroOperacion") or None}
    if service == "ConsultarPartida":
        partida = _kid(answer, "partida")
        if partida is None:
            findings.append(error("PED-SEQUENCE", "La respuesta ConsultarPartida no trae la partida.",
                                  line=answer.sourceline))
            return None
        return _partida(partida, ""), origin
    ped = _kid(answer, "pedimento")
    if ped is None:
        findings.append(error("PED-SEQUENCE", "La respuesta no trae el pedimento.", line=answer.sourceline))
        return None
    return _pedimento(ped, origin), origin


def _where(element: etree._Element) -> dict[str, Any]:
    return {"line": element.sourceline, "xpath": element.getroottree().getpath(element)}


def _pedimento(ped: etree._Element, origin: dict[str, Any]) -> list[Rec]:
    number = _text(ped, "pedimento")
    head, party = _kid(ped, "encabezado"), _kid(ped, "importadorExportador")
    address = _kid(party, "domicilio")
    aduana = _text(party, "aaduanaDespacho", "clave") or _text(head, "aduanaDespacho", "clave")
    general = {
        "pedimento": number, "patente": "", "aduana_seccion": aduana,
        "tipo_operacion": _text(head, "tipoOperacion", "clave"),
        "clave_pedimento": _text(head, "claveDocumento", "clave"),
        "aduana_entrada_salida": _text(head, "aduanaEntradaSalida", "clave"), "rfc": _text(party, "rfc"),
        "curp_agente": _text(head, "curpApoderadomandatario"), "tipo_cambio": _text(head, "tipoCambio"),
        "fletes": _text(party, "fletes"), "seguros": _text(party, "seguros"), "embalajes": _text(party, "embalajes"),
        "otros_incrementables": _text(party, "incrementables"), "peso_bruto": _text(head, "pesoBruto"),
        "medio_transporte_salida": _text(head, "medioTrasnporteSalida", "clave"),
        "medio_transporte_arribo": _text(head, "medioTrasnporteArribo", "clave"),
        "medio_transporte_entrada_salida": _text(head, "medioTrasnporteEntrada", "clave"),
        "destino": _text(head, "destino", "clave"), "nombre": _text(party, "razonSocial"),
        "calle": _text(address, "calle"), "num_interior": _text(address, "numeroInterior"),
        "num_exterior": _text(address, "numeroExterior"), "cp": _text(address, "codigoPostal"),
        "municipio": _text(address, "ciudadMunicipio"), "pais": _text(party, "pais", "clave"),
    }
    recs = [Rec("501", general, location=_where(ped))]
    for item in _kids(party, "fechas"):
        recs.append(Rec("506", {"pedimento": number, "tipo_fecha": _text(item, "tipo", "clave"),
                                "fecha": _date8(_text(item, "fecha"))}, location=_where(item)))
    for item in _kids(ped, "facturas"):
        recs.append(Rec("505", {
            "pedimento": number, "fecha": _date8(_text(item, "fecha")), "documento": _text(item, "numero"),
            "incoterm": _text(item, "terminoFacturacion", "clave"), "moneda": _text(item, "moneda", "clave"),
            "valor_usd": _text(item, "valorDolares"), "valor_moneda": _text(item, "valorMonedaExtranjera"),
            "id_fiscal": _text(item, "identificadorFiscalProveedorComprador"),
            "nombre": _text(item, "proveedorComprador")}, location=_where(item)))
    for group in _kids(ped, "identificadores"):
        for item in _kids(group, "identificadores"):
            recs.append(Rec("507", {"pedimento": number, "clave": _text(item, "claveIdentificador", "clave"),
                                    "complemento1": _text(item, "complemento1"),
                                    "complemento2": _text(item, "complemento2"),
                                    "complemento3": _text(item, "complemento3")}, location=_where(item)))
    for item in _kids(ped, "tasas"):
        code = _text(item, "contribucion", "clave")
        recs.append(Rec("509", {"pedimento": number, "contribucion": code, "tasa": _text(item, "tasaAplicable"),
                                "tipo_tasa": _text(item, "tipoTasa", "clave")}, location=_where(item)))
        recs.append(Rec("510", {"pedimento": number, "contribucion": code,
                                "forma_pago": _text(item, "formaPago", "clave"), "importe": _text(item, "importe")},
                        location=_where(item)))
    origin.update({"partidas_declared": int(n) if (n := _text(ped, "partidas")).isdigit() else None,
                   "value_usd": _text(head, "valorDolares") or None,
                   "customs_value": _text(head, "valorAduanalTotal") or None,
                   "commercial_value": _text(head, "valorComercialTotal") or None})
    return recs


def _partida(item: etree._Element, number: str) -> list[Rec]:
    fraccion, partida = _text(item, "fraccionArancelaria"), _text(item, "numeroPartida")
    method_text = _text(item, "metodoValoracion").upper()
    method = next((code for words, code in _VALUATION if words in method_text), method_text)
    link_text = _text(item, "vinculacion").upper()
    link = "0" if link_text.startswith("NO EXISTE") else "1" if "NO AFECTA" in link_text else \
        "2" if "AFECTA" in link_text else link_text
    where = _where(item)
    recs = [Rec("551", {
        "pedimento": number, "fraccion": fraccion, "partida": partida, "nico": _text(item, "nico"),
        "descripcion": _text(item, "descripcionMercancia"), "precio_unitario": _text(item, "precioUnitario"),
        "valor_aduana": _text(item, "valorAduana"), "valor_comercial": _text(item, "valorComercial"),
        "valor_usd": _text(item, "valorDolares"), "cantidad_umc": _text(item, "cantidadUnidadMedidaComercial"),
        "umc": _text(item, "unidadMedidaComercial", "clave"),
        "cantidad_umt": _text(item, "cantidadUnidadMedidaTarifa"), "umt": _text(item, "unidadMedidaTarifa", "clave"),
        "valor_agregado": _text(item, "valorAgregado"), "vinculacion": link, "metodo_valoracion": method,
        "pais_origen_destino": _text(item, "paisOrigenDestino", "clave"),
        "pais_vendedor_comprador": _text(item, "paisVendedorComprador", "clave")}, location=where)]
    key = {"pedimento": number, "fraccion": fraccion, "partida": partida}
    for ident in _kids(item, "identificadores"):
        recs.append(Rec("554", {**key, "clave": _text(ident, "claveIdentificador", "clave"),
                                "complemento1": _text(ident, "complemento1"),
                                "complemento2": _text(ident, "complemento2"),
                                "complemento3": _text(ident, "complemento3")}, location=_where(ident)))
    for tax in _kids(item, "gravamenes"):
        code = _text(tax, "claveGravamen", "clave")
        for rate in _kids(tax, "tasas"):
            recs.append(Rec("556", {**key, "contribucion": code, "tasa": _text(rate, "tasaAplicable"),
                                    "tipo_tasa": _text(rate, "clave", "clave")}, location=_where(rate)))
        for amount in _kids(tax, "importes"):
            recs.append(Rec("557", {**key, "contribucion": code, "forma_pago": _text(amount, "formaPago", "clave"),
                                    "importe": _text(amount, "importe")}, location=_where(amount)))
    return recs
