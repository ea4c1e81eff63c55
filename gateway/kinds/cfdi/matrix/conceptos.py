"""CFDI 4.0 matrix: conceptos, their partes, terceros and pedimentos (CFDI40162-40200, 140226-7)."""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from gateway.findings import Finding, warning
from gateway.kinds.cfdi.matrix.doc import Concepto, Doc, Element, at, fmt, num, places, within_product
from gateway.kinds.cfdi.matrix.registry import rule

_TERCERO_EXTRANJERO = "EXT990101NI1"  # SAT's generic RFC for a foreign tercero
_PEDIMENTO = re.compile(r"([0-9]{2})  ([0-9]{2})  ([0-9]{4})  ([0-9]{7})")


def _importe_limits(doc: Doc, element: Element, sat_code: str, label: str, out: list[Finding]) -> None:
    """Importe within [(Cantidad − ½u)(ValorUnitario − ½u), (Cantidad + ½u)(ValorUnitario + ½u)] (Anexo 20)."""
    cantidad, unitario, importe = num(element, "Cantidad"), num(element, "ValorUnitario"), num(element, "Importe")
    if cantidad is None or unitario is None or importe is None:
        return
    limits = within_product(importe, cantidad, unitario, doc.decimals if doc.decimals is not None else 2)
    if limits is not None:
        at(out, element, "Importe", "CFDI-AMOUNT", f"El Importe {fmt(importe)} {label} no corresponde a Cantidad "
           f"{fmt(cantidad)} × ValorUnitario {fmt(unitario)}: debe estar entre {fmt(limits[0])} y "
           f"{fmt(limits[1])}.", sat_code)


@rule("CFDI40162", "CFDI40165")
def claves(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        clave = concepto.get("ClaveProdServ")
        if clave and not doc.cat.has("c_ClaveProdServ", clave):
            at(out, concepto.element, "ClaveProdServ", "CFDI-CATALOG", f"La ClaveProdServ '{clave}' no está en el "
               "catálogo c_ClaveProdServ.", "CFDI40162")
        unidad = concepto.get("ClaveUnidad")
        if unidad and not doc.cat.has("c_ClaveUnidad", unidad):
            at(out, concepto.element, "ClaveUnidad", "CFDI-CATALOG", f"La ClaveUnidad '{unidad}' no está en el "
               "catálogo c_ClaveUnidad.", "CFDI40165")


@rule("CFDI40163", "CFDI40164")
def columnas_clave_prod_serv(doc: Doc, out: list[Finding]) -> None:
    """What c_ClaveProdServ's columns ask of a concepto: a complement, an IVA or IEPS traslado.

    In SAT's catalog the complement column is empty and IEPS is "Opcional" on every key; IVA is "Sí" on four
    (``sat_columns``). SAT does not say how a concepto that is not an object of tax (ObjetoImp other than 02)
    is treated: it is accepted, so only a concepto that declares taxes must declare the required one.
    """
    table = doc.columns.prod_serv
    for concepto in doc.conceptos:
        flags = table.get(concepto.get("ClaveProdServ"))
        if flags is None:
            continue
        clave = concepto.get("ClaveProdServ")
        if flags.complemento and not _has_complement(doc, concepto, flags.complemento):
            at(out, concepto.element, "ClaveProdServ", "CFDI-CATALOG", f"La ClaveProdServ {clave} exige el "
               f"complemento {flags.complemento} según el catálogo c_ClaveProdServ, y el CFDI no lo lleva.",
               "CFDI40163")
        if concepto.get("ObjetoImp") != "02":
            continue
        declared = {t.get("Impuesto", "").strip() for t in concepto.traslados}
        for needed, impuesto, name in ((flags.iva, "002", "IVA"), (flags.ieps, "003", "IEPS")):
            if needed and impuesto not in declared:
                at(out, concepto.element, "ClaveProdServ", "CFDI-TAXES", f"La ClaveProdServ {clave} exige un "
                   f"traslado de {name} ({impuesto}) según el catálogo c_ClaveProdServ, y el concepto no lo "
                   "declara.", "CFDI40164")


def _has_complement(doc: Doc, concepto: Concepto, name: str) -> bool:
    """Whether the CFDI or the concepto carries the complement SAT's column names (compared by its element
    name, without blanks or case: "Comercio Exterior" is cce20:ComercioExterior)."""
    wanted = "".join(name.split()).lower()
    nodes = list(doc.complementos)
    if concepto.complemento is not None:
        nodes += [c for c in concepto.complemento if isinstance(c.tag, str)]
    return any(etree.QName(node).localname.lower() == wanted for node in nodes)


@rule("CFDI40166", "CFDI40167")
def valor_e_importe(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        unitario = num(concepto.element, "ValorUnitario")
        if doc.tipo in ("I", "E", "N") and unitario is not None and unitario <= 0:
            at(out, concepto.element, "ValorUnitario", "CFDI-AMOUNT", f"El ValorUnitario del concepto "
               f"{concepto.get('NoIdentificacion') or concepto.get('Descripcion')[:40]} es {fmt(unitario)}; "
               f"en un comprobante de tipo {doc.tipo} debe ser mayor que cero.", "CFDI40166")
        _importe_limits(doc, concepto.element, "CFDI40167", "del concepto", out)


@rule("CFDI40168", "CFDI40169")
def descuento_concepto(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        descuento, importe = num(concepto.element, "Descuento"), num(concepto.element, "Importe")
        if descuento is None or importe is None:
            continue
        if places(descuento) > places(importe):
            at(out, concepto.element, "Descuento", "CFDI-DECIMALS", f"El Descuento {fmt(descuento)} del concepto "
               f"tiene más decimales que su Importe {fmt(importe)}.", "CFDI40168")
        if descuento > importe:
            at(out, concepto.element, "Descuento", "CFDI-AMOUNT", f"El Descuento {fmt(descuento)} del concepto es "
               f"mayor que su Importe {fmt(importe)}.", "CFDI40169")


@rule("CFDI40170", "CFDI40171", "CFDI40172", "CFDI40173", "CFDI140226", "CFDI140227")
def objeto_imp(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        objeto = concepto.get("ObjetoImp")
        element = concepto.element
        if objeto and not doc.cat.has("c_ObjetoImp", objeto):
            at(out, element, "ObjetoImp", "CFDI-CATALOG", f"El ObjetoImp '{objeto}' no está en el catálogo "
               "c_ObjetoImp.", "CFDI40170")
            continue
        if objeto == "02" and concepto.impuestos is None:
            at(out, element, "ObjetoImp", "CFDI-TAXES", "El concepto es objeto de impuesto (ObjetoImp 02) y no "
               "lleva el nodo Impuestos.", "CFDI40171")
        elif objeto in ("01", "03", "04") and concepto.impuestos is not None:
            at(out, concepto.impuestos, None, "CFDI-TAXES", f"Con ObjetoImp {objeto} el concepto no debe llevar el "
               "nodo Impuestos.", "CFDI40172")
        if concepto.impuestos is not None and not concepto.traslados and not concepto.retenciones:
            at(out, concepto.impuestos, None, "CFDI-TAXES", "El nodo Impuestos del concepto no lleva traslados ni "
               "retenciones.", "CFDI40173")
        taxes = {(t.get("Impuesto") or "").strip() for t in (*concepto.traslados, *concepto.retenciones)}
        if objeto in ("06", "08") and taxes & {"002", "003"}:
            at(out, element, "ObjetoImp", "CFDI-TAXES", f"Con ObjetoImp {objeto} el concepto no debe trasladar ni "
               "retener IVA (002) ni IEPS (003).", "CFDI140226")
        elif objeto == "07" and "002" in taxes:
            at(out, element, "ObjetoImp", "CFDI-TAXES", "Con ObjetoImp 07 (no traslado del IVA) el concepto no "
               "debe trasladar ni retener IVA (002).", "CFDI140227")


@rule("CFDI40188", "CFDI40191", "CFDI140223")
def a_cuenta_de_terceros(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        node = concepto.terceros
        if node is None:
            continue
        rfc = (node.get("RfcACuentaTerceros") or "").strip().upper()
        if rfc and rfc in (doc.emisor_rfc, doc.receptor_rfc):
            at(out, node, "RfcACuentaTerceros", "CFDI-FIELD", f"El RfcACuentaTerceros {rfc} es el del emisor o el "
               "del receptor; debe ser el de un tercero.", "CFDI40188")
        regimen = (node.get("RegimenFiscalACuentaTerceros") or "").strip()
        if regimen and not doc.cat.has("c_RegimenFiscal", regimen):
            at(out, node, "RegimenFiscalACuentaTerceros", "CFDI-CATALOG", f"El RegimenFiscalACuentaTerceros "
               f"'{regimen}' no está en el catálogo c_RegimenFiscal.", "CFDI40191")
        elif rfc == _TERCERO_EXTRANJERO and regimen != "616":
            at(out, node, "RegimenFiscalACuentaTerceros", "CFDI-FIELD", f"El tercero tiene el RFC genérico "
               f"{_TERCERO_EXTRANJERO}: su RegimenFiscalACuentaTerceros debe ser 616, no '{regimen}'.", "CFDI140223")


def _pedimentos(doc: Doc, nodes: list[Element], invalid: str, with_cce: str, out: list[Finding]) -> None:
    for node in nodes:
        numero = node.get("NumeroPedimento") or ""
        if doc.cce or doc.cce11:  # any version: the pedimento goes in the complement, not here
            at(out, node, "NumeroPedimento", "CFDI-PEDIMENTO", f"El CFDI lleva Comercio Exterior, así que no debe "
               f"registrar el pedimento {numero.strip()} en InformacionAduanera.", with_cce)
            continue
        reason = _pedimento_problem(numero, doc)
        if reason:
            at(out, node, "NumeroPedimento", "CFDI-PEDIMENTO", f"El número de pedimento '{numero}' no es válido: "
               f"{reason}.", invalid)
        elif (doubt := _year_digit_doubt(numero)) is not None:
            at(out, node, "NumeroPedimento", "CFDI-PEDIMENTO", f"El pedimento '{numero}': {doubt}.", None,
               make=warning)


def _pedimento_problem(numero: str, doc: Doc) -> str | None:
    match = _PEDIMENTO.fullmatch(numero)
    if match is None:
        return "debe ser AA  DD  PPPP  NNNNNNN (año, aduana, patente y número, separados por dos espacios)"
    year = match.group(1)
    if doc.fecha is not None:
        full = 2000 + int(year)
        if full > doc.fecha.year or full < doc.fecha.year - 10:
            return f"el año 20{year} no puede ser posterior a la Fecha del CFDI ni de más de diez años antes"
    return None


def _year_digit_doubt(numero: str) -> str | None:
    """Why the number's first digit deserves a look, or None; never a rejection.

    Anexo 20 (NumeroPedimento) and Anexo 22: the 7-digit number starts with the last digit of the current year,
    "salvo que se trate de un pedimento consolidado iniciado en el año inmediato anterior o del pedimento
    original de una rectificación". The year before is a consolidado: fine. Any other digit can only be the
    original of a rectification, of whatever year, which SAT allows: a warning to confirm, not an error.
    """
    year, consecutivo = numero[1], numero[14]  # the form is already checked: AA  DD  PPPP  YNNNNNN
    if consecutivo in (year, str((int(year) - 1) % 10)):
        return None
    return (f"el número empieza con {consecutivo} y el año de validación termina en {year}; SAT lo admite solo si "
            "es el pedimento original de una rectificación (Anexo 22): confírmelo con el agente aduanal")


@rule("CFDI40194", "CFDI40195")
def pedimento_concepto(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        _pedimentos(doc, concepto.aduanera, "CFDI40194", "CFDI40195", out)


@rule("CFDI40196", "CFDI40197", "CFDI40198", "CFDI40199", "CFDI40200")
def partes(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        for parte in concepto.partes:
            clave = (parte.get("ClaveProdServ") or "").strip()
            if clave and not doc.cat.has("c_ClaveProdServ", clave):
                at(out, parte, "ClaveProdServ", "CFDI-CATALOG", f"La ClaveProdServ '{clave}' de la parte no está en "
                   "el catálogo c_ClaveProdServ.", "CFDI40196")
            unitario = num(parte, "ValorUnitario")
            if unitario is not None and unitario <= 0:
                at(out, parte, "ValorUnitario", "CFDI-AMOUNT", f"El ValorUnitario de la parte es {fmt(unitario)}; "
                   "debe ser mayor que cero.", "CFDI40197")
            _importe_limits(doc, parte, "CFDI40198", "de la parte", out)
            aduanera = [c for c in parte if c.tag == "{http://www.sat.gob.mx/cfd/4}InformacionAduanera"]
            _pedimentos(doc, aduanera, "CFDI40199", "CFDI40200", out)


def concepto_label(concepto: Concepto) -> str:
    return concepto.get("NoIdentificacion") or concepto.get("Descripcion")[:40]


ZERO = Decimal(0)
