"""Matrix rules that need SAT-side data (l_RFC, LCO, FIX, TIGIE), run only when the data is configured."""

from __future__ import annotations

from gateway.findings import Finding
from gateway.kinds.cfdi.matrix.doc import GENERIC_FOREIGN, GENERIC_NATIONAL, Doc, Element, at, fmt, num
from gateway.kinds.cfdi.matrix.registry import rule

_X = "{http://www.sat.gob.mx/ComercioExterior20}"


def _name(value: str | None) -> str:
    return " ".join((value or "").upper().split())


def _listed(doc: Doc, element: Element, rfc: str, nombre_attr: str, cp_attr: str, who: str,
            codes: tuple[str, str, str | None], out: list[Finding]) -> None:
    """RFC in l_RFC (codes[0]), name as registered (codes[1]), postal code as registered (codes[2])."""
    assert doc.sat.rfcs is not None
    entry = doc.sat.rfcs.get(rfc)
    if entry is None:
        at(out, element, "Rfc" if nombre_attr == "Nombre" else nombre_attr, "SAT-LIST", f"El RFC {who} {rfc} no "
           "está en la lista de RFC inscritos no cancelados (l_RFC) configurada.", codes[0])
        return
    if entry.nombre and _name(element.get(nombre_attr)) != _name(entry.nombre):
        at(out, element, nombre_attr, "SAT-LIST", f"El nombre {who} «{element.get(nombre_attr)}» no es el "
           f"registrado para el RFC {rfc} («{entry.nombre}»).", codes[1])
    cp = (element.get(cp_attr) or "").strip() if cp_attr else ""
    if codes[2] and entry.codigo_postal and cp and cp != entry.codigo_postal:
        at(out, element, cp_attr, "SAT-LIST", f"El domicilio fiscal {who} ({cp}) no es el registrado para el RFC "
           f"{rfc} ({entry.codigo_postal}).", codes[2])


@rule("CFDI40138", "CFDI40139", needs="rfc")
def emisor_en_lista(doc: Doc, out: list[Finding]) -> None:
    if doc.emisor is not None and doc.emisor_rfc:
        _listed(doc, doc.emisor, doc.emisor_rfc, "Nombre", "", "del emisor",
                ("CFDI40138", "CFDI40139", None), out)


@rule("CFDI40143", "CFDI40145", "CFDI40148", "CFDI40159", needs="rfc")
def receptor_en_lista(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    rfc = doc.receptor_rfc
    if receptor is None or not rfc or rfc in (GENERIC_NATIONAL, GENERIC_FOREIGN):
        return
    _listed(doc, receptor, rfc, "Nombre", "DomicilioFiscalReceptor", "del receptor",
            ("CFDI40143", "CFDI40145", "CFDI40148"), out)
    entry = doc.sat.rfcs.get(rfc) if doc.sat.rfcs is not None else None
    regimen = (receptor.get("RegimenFiscalReceptor") or "").strip()
    if entry is not None and entry.regimenes and regimen and regimen not in entry.regimenes:
        at(out, receptor, "RegimenFiscalReceptor", "SAT-LIST", f"El RFC {rfc} no tiene registrado el régimen "
           f"{regimen} (tiene {', '.join(sorted(entry.regimenes))}).", "CFDI40159")


@rule("CFDI40189", "CFDI40190", "CFDI40193", needs="rfc")
def terceros_en_lista(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        node = concepto.terceros
        if node is None:
            continue
        rfc = (node.get("RfcACuentaTerceros") or "").strip().upper()
        if rfc:
            _listed(doc, node, rfc, "NombreACuentaTerceros", "DomicilioFiscalACuentaTerceros",
                    "del tercero", ("CFDI40189", "CFDI40190", "CFDI40193"), out)


@rule("CFDI40187", needs="lco")
def terceros_en_lco(doc: Doc, out: list[Finding]) -> None:
    assert doc.sat.lco is not None
    for concepto in doc.conceptos:
        node = concepto.terceros
        rfc = (node.get("RfcACuentaTerceros") or "").strip().upper() if node is not None else ""
        if rfc and rfc not in doc.sat.lco:
            at(out, node, "RfcACuentaTerceros", "SAT-LIST", f"El RfcACuentaTerceros {rfc} no está en la lista de "  # type: ignore[arg-type]
               "contribuyentes con certificado (LCO) configurada.", "CFDI40187")


@rule("CCE107", needs="rfc")
def receptor_cce_en_lista(doc: Doc, out: list[Finding]) -> None:
    assert doc.sat.rfcs is not None
    rfc = doc.receptor_rfc
    if doc.cce and doc.receptor is not None and rfc != GENERIC_FOREIGN and rfc not in doc.sat.rfcs:
        at(out, doc.receptor, "Rfc", "SAT-LIST", f"Con Comercio Exterior el RFC del receptor debe ser XEXX010101000 "
           f"o uno inscrito en l_RFC; {rfc or '(vacío)'} no está en la lista configurada.", "CCE107")


@rule("CCE121", needs="fix")
def tipo_cambio_usd(doc: Doc, out: list[Finding]) -> None:
    if not doc.cce or doc.fecha is None:
        return
    found = doc.sat.fix_rate(doc.fecha.date())
    for cce in doc.cce:
        declared = num(cce, "TipoCambioUSD")
        if declared is None:
            continue
        if found is None:
            at(out, cce, "TipoCambioUSD", "CCE-FIX", f"La tabla de tipos de cambio FIX configurada no tiene un tipo "
               f"para el {doc.fecha.date().isoformat()} ni anterior; no se puede confirmar el TipoCambioUSD.",
               "CCE121")
            continue
        published, rate = found
        if declared.quantize(rate) != rate:
            at(out, cce, "TipoCambioUSD", "CCE-FIX", f"El TipoCambioUSD {fmt(declared)} no es el tipo de cambio FIX "
               f"de Banxico vigente el {doc.fecha.date().isoformat()} ({fmt(rate)}, del "
               f"{published.isoformat()}).", "CCE121")


@rule("CCE161", "CCE167", needs="tigie")
def fracciones(doc: Doc, out: list[Finding]) -> None:
    assert doc.sat.fracciones is not None
    for cce in doc.cce:
        for mercancias in cce:
            if mercancias.tag != _X + "Mercancias":
                continue
            for mercancia in mercancias:
                fraccion = (mercancia.get("FraccionArancelaria") or "").strip()
                entry = doc.sat.fracciones.get(fraccion) if fraccion else None
                if not fraccion:
                    continue
                if entry is None or (doc.fecha is not None and not entry.vigente(doc.fecha.date())):
                    at(out, mercancia, "FraccionArancelaria", "CCE-CATALOG", f"La fracción {fraccion} no está "
                       "vigente en la fecha del CFDI según la tabla de fracciones (TIGIE) configurada.",
                       "CCE161")
                    continue
                unidad = (mercancia.get("UnidadAduana") or "").strip()
                if unidad and unidad != entry.umt:
                    at(out, mercancia, "UnidadAduana", "CCE-CATALOG", f"La UnidadAduana {unidad} no es la unidad de "
                       f"medida de la tarifa (UMT {entry.umt}) de la fracción {fraccion}.", "CCE167")
