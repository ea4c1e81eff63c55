"""CFDI 4.0 matrix: the comprobante's own attributes (CFDI40101-40137, 40222)."""

from __future__ import annotations

import re

from gateway.findings import Finding
from gateway.kinds.cfdi.matrix.doc import GENERIC_NATIONAL, Doc, at, fmt, num, raw_places
from gateway.kinds.cfdi.matrix.registry import rule

_FECHA = re.compile(r"(20[1-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_TIPO_CAMBIO = re.compile(r"[0-9]{1,18}(\.[0-9]{1,6})?")


def _catalog(doc: Doc, catalog: str, attr: str, sat_code: str, label: str, out: list[Finding]) -> None:
    value = doc.get(attr)
    if value and not doc.cat.has(catalog, value):
        at(out, doc.root, attr, "CFDI-CATALOG", f"{label} '{value}' no está en el catálogo {catalog} del SAT.",
           sat_code)


@rule("CFDI40101")
def fecha(doc: Doc, out: list[Finding]) -> None:
    raw = doc.get("Fecha")
    if raw and (not _FECHA.fullmatch(raw) or doc.fecha is None):
        at(out, doc.root, "Fecha", "CFDI-FIELD", f"La Fecha '{raw}' no es una fecha y hora válida "
           "(AAAA-MM-DDThh:mm:ss, con día que exista en el calendario).", "CFDI40101")


@rule("CFDI40103", "CFDI40104", "CFDI40105")
def forma_pago(doc: Doc, out: list[Finding]) -> None:
    value = doc.get("FormaPago")
    if not value:
        return
    if doc.tipo in ("T", "N", "P"):
        at(out, doc.root, "FormaPago", "CFDI-FIELD", f"Un comprobante de tipo {doc.tipo} no lleva FormaPago "
           f"(lleva '{value}').", "CFDI40103")
        return
    if not doc.cat.has("c_FormaPago", value):
        at(out, doc.root, "FormaPago", "CFDI-CATALOG", f"La FormaPago '{value}' no está en el catálogo "
           "c_FormaPago.", "CFDI40104")
    elif doc.get("MetodoPago") == "PPD" and value != "99":
        at(out, doc.root, "FormaPago", "CFDI-FIELD", f"Con MetodoPago PPD (pago en parcialidades o diferido) la "
           f"FormaPago debe ser 99 (por definir), no '{value}'.", "CFDI40105")


def _decimals(doc: Doc, element: object, attr: str, sat_code: str, label: str, out: list[Finding]) -> None:
    raw = element.get(attr)  # type: ignore[attr-defined]
    allowed = doc.decimals
    if raw is None or allowed is None:
        return
    if raw_places(raw) > allowed:
        at(out, element, attr, "CFDI-DECIMALS", f"{label} {raw.strip()} tiene {raw_places(raw)} decimales; la "  # type: ignore[arg-type]
           f"moneda {doc.moneda} admite {allowed}.", sat_code)


@rule("CFDI40107")
def subtotal_decimales(doc: Doc, out: list[Finding]) -> None:
    _decimals(doc, doc.root, "SubTotal", "CFDI40107", "El SubTotal", out)


@rule("CFDI40111")
def descuento_por_tipo(doc: Doc, out: list[Finding]) -> None:
    if doc.tipo in ("I", "E", "N", ""):
        return
    for concepto in doc.conceptos:
        if concepto.element.get("Descuento") is not None:
            at(out, concepto.element, "Descuento", "CFDI-FIELD", f"Un comprobante de tipo {doc.tipo} no admite "
               "Descuento en sus conceptos.", "CFDI40111")


@rule("CFDI40112")
def descuento_decimales(doc: Doc, out: list[Finding]) -> None:
    _decimals(doc, doc.root, "Descuento", "CFDI40112", "El Descuento", out)


@rule("CFDI40113")
def moneda(doc: Doc, out: list[Finding]) -> None:
    _catalog(doc, "c_Moneda", "Moneda", "CFDI40113", "La Moneda", out)


@rule("CFDI40114", "CFDI40115", "CFDI40116", "CFDI40117")
def tipo_cambio(doc: Doc, out: list[Finding]) -> None:
    raw = doc.root.get("TipoCambio")
    value = raw.strip() if raw is not None else None
    if doc.moneda == "XXX":
        if value is not None:
            at(out, doc.root, "TipoCambio", "CFDI-FIELD", "Con Moneda XXX (sin moneda) no se registra TipoCambio.",
               "CFDI40116")
        return
    if value is None:
        if doc.moneda and doc.moneda != "MXN":
            at(out, doc.root, "Moneda", "CFDI-FIELD", f"Falta el TipoCambio: es obligatorio con Moneda "
               f"{doc.moneda}.", "CFDI40115")
        return
    if not _TIPO_CAMBIO.fullmatch(value):
        at(out, doc.root, "TipoCambio", "CFDI-FIELD", f"El TipoCambio '{value}' no cumple el patrón del SAT "
           "(hasta 18 enteros y 6 decimales).", "CFDI40117")
    elif doc.moneda == "MXN" and num(doc.root, "TipoCambio") != 1:
        at(out, doc.root, "TipoCambio", "CFDI-FIELD", f"Con Moneda MXN el TipoCambio debe ser 1, no {value}.",
           "CFDI40114")


@rule("CFDI40121")
def tipo_de_comprobante(doc: Doc, out: list[Finding]) -> None:
    _catalog(doc, "c_TipoDeComprobante", "TipoDeComprobante", "CFDI40121", "El TipoDeComprobante", out)


@rule("CFDI40123")
def exportacion(doc: Doc, out: list[Finding]) -> None:
    _catalog(doc, "c_Exportacion", "Exportacion", "CFDI40123", "La clave de Exportacion", out)


@rule("CFDI40124", "CFDI40125")
def metodo_pago(doc: Doc, out: list[Finding]) -> None:
    value = doc.get("MetodoPago")
    if not value:
        return
    if doc.tipo in ("T", "P"):
        at(out, doc.root, "MetodoPago", "CFDI-FIELD", f"Un comprobante de tipo {doc.tipo} no lleva MetodoPago "
           f"(lleva '{value}').", "CFDI40125")
    elif not doc.cat.has("c_MetodoPago", value):
        at(out, doc.root, "MetodoPago", "CFDI-CATALOG", f"El MetodoPago '{value}' no está en el catálogo "
           "c_MetodoPago (PUE o PPD).", "CFDI40124")


@rule("CFDI40126")
def lugar_expedicion(doc: Doc, out: list[Finding]) -> None:
    value = doc.get("LugarExpedicion")
    if value and value not in doc.cat.codigo_postal:
        at(out, doc.root, "LugarExpedicion", "CFDI-CATALOG", f"El LugarExpedicion '{value}' no es un código "
           "postal del catálogo c_CodigoPostal.", "CFDI40126")


@rule("CFDI40130")
def informacion_global_requerida(doc: Doc, out: list[Finding]) -> None:
    if doc.tipo != "I" or doc.global_ is not None or doc.receptor is None:
        return
    nombre = " ".join((doc.receptor.get("Nombre") or "").upper().split())
    if doc.receptor_rfc == GENERIC_NATIONAL and nombre in ("PUBLICO EN GENERAL", "PÚBLICO EN GENERAL"):
        at(out, doc.root, None, "CFDI-FIELD", "Factura global (Ingreso a XAXX010101000, PUBLICO EN GENERAL) "
           "sin el nodo InformacionGlobal.", "CFDI40130")


#: CFDI40136: "no es igual al año en curso o no contiene un valor de hasta 5 ejercicios anteriores"
GLOBAL_YEARS_BACK = 5


@rule("CFDI40131", "CFDI40132", "CFDI40133", "CFDI40134", "CFDI40135", "CFDI40136")
def informacion_global(doc: Doc, out: list[Finding]) -> None:
    node = doc.global_
    if node is None:
        return
    periodicidad = (node.get("Periodicidad") or "").strip()
    meses = (node.get("Meses") or "").strip()
    if periodicidad and not doc.cat.has("c_Periodicidad", periodicidad):
        at(out, node, "Periodicidad", "CFDI-CATALOG", f"La Periodicidad '{periodicidad}' no está en el catálogo "
           "c_Periodicidad.", "CFDI40131")
    elif periodicidad == "05":
        regimen = (doc.emisor.get("RegimenFiscal") or "").strip() if doc.emisor is not None else ""
        if regimen != "621":
            at(out, node, "Periodicidad", "CFDI-FIELD", f"La Periodicidad 05 (bimestral) es solo para el régimen "
               f"621 (Incorporación Fiscal); el emisor tiene {regimen or 'ninguno'}.", "CFDI40132")
    if meses and not doc.cat.has("c_Meses", meses):
        at(out, node, "Meses", "CFDI-CATALOG", f"Meses '{meses}' no está en el catálogo c_Meses.", "CFDI40133")
    elif periodicidad in ("01", "02", "03", "04") and meses and not "01" <= meses <= "12":
        at(out, node, "Meses", "CFDI-FIELD", f"Con Periodicidad {periodicidad} Meses debe ser 01 a 12, no "
           f"{meses}.", "CFDI40134")
    elif periodicidad == "05" and meses and not "13" <= meses <= "18":
        at(out, node, "Meses", "CFDI-FIELD", f"Con Periodicidad 05 (bimestral) Meses debe ser 13 a 18, no "
           f"{meses}.", "CFDI40135")
    year = (node.get("Año") or "").strip()
    fecha = doc.fecha
    if year.isdigit() and fecha is not None and not fecha.year - GLOBAL_YEARS_BACK <= int(year) <= fecha.year:
        at(out, node, "Año", "CFDI-FIELD", f"El Año {year} de la factura global debe ser el del comprobante "
           f"({fecha.year}) o uno de los {GLOBAL_YEARS_BACK} ejercicios anteriores.", "CFDI40136")


@rule("CFDI40137")
def tipo_relacion(doc: Doc, out: list[Finding]) -> None:
    for node in doc.relacionados:
        value = (node.get("TipoRelacion") or "").strip()
        if value and not doc.cat.has("c_TipoRelacion", value):
            at(out, node, "TipoRelacion", "CFDI-CATALOG", f"El TipoRelacion '{value}' no está en el catálogo "
               "c_TipoRelacion.", "CFDI40137")


@rule("CFDI40222")
def cce_con_exportacion_01(doc: Doc, out: list[Finding]) -> None:
    if (doc.cce or doc.cce11) and doc.get("Exportacion") == "01":
        at(out, doc.root, "Exportacion", "CFDI-FIELD", "Exportacion es 01 (no aplica) y el CFDI lleva el "
           "complemento de Comercio Exterior: sobra el complemento o la clave es otra.", "CFDI40222")


@rule("CFDI40201")
def impuestos_por_tipo(doc: Doc, out: list[Finding]) -> None:
    if doc.impuestos is not None and doc.tipo in ("T", "P"):
        at(out, doc.impuestos, None, "CFDI-TAXES", f"Un comprobante de tipo {doc.tipo} no lleva el nodo "
           "Impuestos.", "CFDI40201")


@rule("CFDI40202", "CFDI40204")
def impuestos_decimales(doc: Doc, out: list[Finding]) -> None:
    if doc.impuestos is not None:
        _decimals(doc, doc.impuestos, "TotalImpuestosRetenidos", "CFDI40202", "TotalImpuestosRetenidos", out)
        _decimals(doc, doc.impuestos, "TotalImpuestosTrasladados", "CFDI40204",
                  "TotalImpuestosTrasladados", out)


def decimals_of(doc: Doc, element: object, attr: str, sat_code: str, label: str, out: list[Finding]) -> None:
    """Shared with the other modules: ``attr`` has at most the currency's decimals."""
    _decimals(doc, element, attr, sat_code, label, out)


__all__ = ["decimals_of", "fmt"]
