"""CFDI 4.0 (+ TFD 1.1, Comercio Exterior 2.0) to the canonical record of docs/schema/cfdi.schema.json.

Values are copied as written, only stripped (blank becomes None), so amounts keep their
decimals and never pass through float; RFCs and UUIDs are upper-cased because they are join
keys. Each element's fields are declared once as attribute -> key tables, so adding a field
is one entry here plus one in the schema.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.xmlsafe import children_by_tag

CFDI = "http://www.sat.gob.mx/cfd/4"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
CCE20 = "http://www.sat.gob.mx/ComercioExterior20"

Element = etree._Element
Record = dict[str, Any]

_TIMBRE = {"UUID": "uuid", "FechaTimbrado": "fecha_timbrado", "RfcProvCertif": "rfc_prov_certif",
           "NoCertificadoSAT": "no_certificado_sat"}
_COMPROBANTE = {
    "Version": "version", "Serie": "serie", "Folio": "folio", "Fecha": "fecha", "LugarExpedicion": "lugar_expedicion",
    "TipoDeComprobante": "tipo_comprobante", "Exportacion": "exportacion", "Moneda": "moneda",
    "TipoCambio": "tipo_cambio", "SubTotal": "subtotal", "Descuento": "descuento", "Total": "total",
    "MetodoPago": "metodo_pago", "FormaPago": "forma_pago", "NoCertificado": "no_certificado",
}
_EMISOR = {"Rfc": "rfc", "Nombre": "nombre", "RegimenFiscal": "regimen_fiscal"}
_RECEPTOR = {"Rfc": "rfc", "Nombre": "nombre", "DomicilioFiscalReceptor": "domicilio_fiscal",
             "RegimenFiscalReceptor": "regimen_fiscal", "UsoCFDI": "uso_cfdi", "ResidenciaFiscal": "residencia_fiscal",
             "NumRegIdTrib": "num_reg_id_trib"}
_IMPUESTOS = {"TotalImpuestosTrasladados": "total_trasladados", "TotalImpuestosRetenidos": "total_retenidos"}
_CONCEPTO = {
    "ClaveProdServ": "clave_prod_serv", "NoIdentificacion": "no_identificacion", "Cantidad": "cantidad",
    "ClaveUnidad": "clave_unidad", "Unidad": "unidad", "Descripcion": "descripcion", "ValorUnitario": "valor_unitario",
    "Importe": "importe", "Descuento": "descuento", "ObjetoImp": "objeto_imp",
}
_CCE = {
    "Version": "version", "MotivoTraslado": "motivo_traslado", "ClaveDePedimento": "clave_pedimento",
    "CertificadoOrigen": "certificado_origen", "NumCertificadoOrigen": "num_certificado_origen",
    "NumeroExportadorConfiable": "numero_exportador_confiable", "Incoterm": "incoterm",
    "Observaciones": "observaciones", "TipoCambioUSD": "tipo_cambio_usd", "TotalUSD": "total_usd",
}
_DOMICILIO = {
    "Calle": "calle", "NumeroExterior": "numero_exterior", "NumeroInterior": "numero_interior", "Colonia": "colonia",
    "Localidad": "localidad", "Referencia": "referencia", "Municipio": "municipio", "Estado": "estado",
    "Pais": "pais", "CodigoPostal": "codigo_postal",
}
_PROPIETARIO = {"NumRegIdTrib": "num_reg_id_trib", "ResidenciaFiscal": "residencia_fiscal"}
_DESTINATARIO = {"NumRegIdTrib": "num_reg_id_trib", "Nombre": "nombre"}
_MERCANCIA = {
    "NoIdentificacion": "no_identificacion", "FraccionArancelaria": "fraccion_arancelaria",
    "CantidadAduana": "cantidad_aduana", "UnidadAduana": "unidad_aduana",
    "ValorUnitarioAduana": "valor_unitario_aduana", "ValorDolares": "valor_dolares",
}
_DESCRIPCION = {"Marca": "marca", "Modelo": "modelo", "SubModelo": "submodelo", "NumeroSerie": "numero_serie"}
_C, _T, _X = f"{{{CFDI}}}", f"{{{TFD}}}", f"{{{CCE20}}}"


def normalise(root: Element) -> Record:
    """The canonical, JSON-ready record of a cfdi:Comprobante Version 4.0.

    Children are grouped by tag in one pass per element rather than found with ElementPath
    (``find`` costs microseconds per call, and a record needs some twenty of them); where the
    schema allows one node, the first in document order is taken, as ``find`` would.
    """
    top = children_by_tag(root)
    complementos = [children_by_tag(c) for c in top.get(_C + "Complemento", ())]
    timbre = _first_of(complementos, _T + "TimbreFiscalDigital")
    record: Record = _upper(_fields(timbre, _TIMBRE), "uuid")
    record.update(_fields(root, _COMPROBANTE))
    record["emisor"] = _upper(_fields(_first(top, _C + "Emisor"), _EMISOR), "rfc")
    record["receptor"] = _upper(_fields(_first(top, _C + "Receptor"), _RECEPTOR), "rfc")
    record["cfdi_relacionados"] = [_relacionados(r) for r in top.get(_C + "CfdiRelacionados", ())]
    record["impuestos"] = _fields(_first(top, _C + "Impuestos"), _IMPUESTOS)
    record["conceptos"] = [_concepto(c) for group in top.get(_C + "Conceptos", ())
                           for c in children_by_tag(group).get(_C + "Concepto", ())]
    record["pedimentos"] = list(dict.fromkeys(p for c in record["conceptos"] for p in c["pedimentos"]))
    cce = _first_of(complementos, _X + "ComercioExterior")
    record["comercio_exterior"] = None if cce is None else _comercio_exterior(cce)
    return record


def _first(groups: dict[str, list[Element]], tag: str) -> Element | None:
    found = groups.get(tag)
    return found[0] if found else None


def _first_of(parents: list[dict[str, list[Element]]], tag: str) -> Element | None:
    """The first child named ``tag`` of any of the (grouped) parents, in document order."""
    for groups in parents:
        found = groups.get(tag)
        if found:
            return found[0]
    return None


def _relacionados(element: Element) -> Record:
    uuids = [_text(r.get("UUID")) for r in children_by_tag(element).get(_C + "CfdiRelacionado", ())]
    return {"tipo_relacion": _text(element.get("TipoRelacion")), "uuids": [u.upper() for u in uuids if u]}


def _concepto(element: Element) -> Record:
    record = _fields(element, _CONCEPTO)
    groups = children_by_tag(element)
    found = list(groups.get(_C + "InformacionAduanera", ()))
    for parte in groups.get(_C + "Parte", ()):
        found += children_by_tag(parte).get(_C + "InformacionAduanera", ())
    numbers = (_text(p.get("NumeroPedimento")) for p in found)
    record["pedimentos"] = list(dict.fromkeys(n for n in numbers if n))
    return record


def _comercio_exterior(cce: Element) -> Record:
    record = _fields(cce, _CCE)
    groups = children_by_tag(cce)
    emisor = _first(groups, _X + "Emisor")
    record["emisor"] = {"curp": _text(emisor.get("Curp")) if emisor is not None else None,
                        "domicilio": _domicilio(emisor)}
    receptor = _first(groups, _X + "Receptor")
    record["receptor"] = {"num_reg_id_trib": _text(receptor.get("NumRegIdTrib")) if receptor is not None else None,
                          "domicilio": _domicilio(receptor)}
    record["propietarios"] = [_fields(p, _PROPIETARIO) for p in groups.get(_X + "Propietario", ())]
    record["destinatarios"] = [
        {**_fields(d, _DESTINATARIO),
         "domicilios": [_fields(x, _DOMICILIO) for x in children_by_tag(d).get(_X + "Domicilio", ())]}
        for d in groups.get(_X + "Destinatario", ())
    ]
    record["mercancias"] = [_mercancia(m) for group in groups.get(_X + "Mercancias", ())
                            for m in children_by_tag(group).get(_X + "Mercancia", ())]
    return record


def _mercancia(element: Element) -> Record:
    record = _fields(element, _MERCANCIA)
    found = children_by_tag(element).get(_X + "DescripcionesEspecificas", ())
    record["descripciones_especificas"] = [_fields(d, _DESCRIPCION) for d in found]
    return record


def _domicilio(parent: Element | None) -> Record | None:
    element = None if parent is None else _first(children_by_tag(parent), _X + "Domicilio")
    return None if element is None else _fields(element, _DOMICILIO)


def _fields(element: Element | None, table: dict[str, str]) -> Record:
    """Every key of ``table``, valued from the element's attribute (None if absent, blank or no element)."""
    if element is None:
        return dict.fromkeys(table.values())
    get = element.get  # not element.items(): that would copy the 2 kB Sello and Certificado every time
    # _text inlined: a record has some hundred fields, and a Python call costs more than the strip
    return {key: (value.strip() or None) if (value := get(attr)) else None for attr, key in table.items()}


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value else None


def _upper(record: Record, key: str) -> Record:
    if record.get(key):
        record[key] = record[key].upper()
    return record
