"""Business rules of a CFDI 4.0 that the XSD cannot express.

The XSD accepts two timbres, wrong totals, an export invoice without Comercio Exterior
and RFCs with impossible dates; SAT or the PAC would reject them, so the gateway must too.
Each finding carries SAT's matrix code when SAT names the same rule, so users can match it
to what their PAC says. Money is ``Decimal`` throughout: a float would invent differences.
A number that does not parse is the XSD's business (it already rejects it): the rule that
needs it is skipped quietly rather than reporting the same fault twice.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from gateway.findings import Finding, error, warning
from gateway.kinds.cfdi.catalogs import catalogs
from gateway.kinds.cfdi.effective import PERIODS
from gateway.kinds.cfdi.matrix.doc import Attrs, Doc, cce_mercancias, element_of, precise
from gateway.kinds.cfdi.matrix.doc import Skip as _Skip  # a number a rule needs does not parse: XSD says so
from gateway.kinds.cfdi.matrix.doc import num as _num
from gateway.kinds.cfdi.matrix.doc import rounded_like as _rounded
from gateway.rfc import check_rfc
from gateway.xmlsafe import xpath_of

Element = etree._Element
_ZERO = Decimal(0)
_CENTS = Decimal("0.01")


def check_rules(source: Element | Doc) -> list[Finding]:
    """All business-rule findings for a cfdi:Comprobante Version 4.0 (its root, or the matrix's view of it).

    The rules read the ``Doc`` the SAT matrix also reads, so the tree is walked once for both.
    """
    doc = source if isinstance(source, Doc) else Doc(source, catalogs())
    findings: list[Finding] = []
    with precise():
        for rule in _RULES:
            try:
                findings.extend(rule(doc))
            except (_Skip, ArithmeticError):  # an unparseable or absurd number (1E+70): the XSD reports it
                continue
    return findings


# --- timbre -----------------------------------------------------------------------------------------------------

def _tfd(doc: Doc) -> list[Finding]:
    timbres = doc.timbres
    if len(timbres) == 1:
        return []
    if not timbres:
        where = doc.complemento_nodes[0] if doc.complemento_nodes else doc.root
        return [error("CFDI-TFD-MISSING", "El CFDI no está timbrado: no lleva TimbreFiscalDigital (no tiene UUID).",
                      line=where.sourceline, xpath=xpath_of(where))]
    uuids = ", ".join(t.get("UUID") or "(sin UUID)" for t in timbres)
    message = f"El CFDI lleva {len(timbres)} timbres (UUID {uuids}); debe llevar exactamente uno."
    return [error("CFDI-TFD-MISSING", message, line=timbres[1].sourceline, xpath=xpath_of(timbres[1]))]


# --- totals -----------------------------------------------------------------------------------------------------

def _subtotal(doc: Doc) -> list[Finding]:
    root = doc.root
    declared = _num(root, "SubTotal")
    if declared is None:
        return []
    tipo = doc.tipo
    if tipo in ("T", "P"):
        if declared == 0:
            return []
        return [_at(root, "SubTotal", "CFDI-TOTALS", f"En un comprobante de tipo {tipo} el SubTotal debe ser 0, "
                                                     f"pero es {_fmt(declared)}.", "CFDI40109")]
    if tipo not in ("I", "E", "N"):
        return []
    importes = [_zero(c.element, "Importe") for c in doc.conceptos]
    return _compare(root, "SubTotal", declared, _rounded(sum(importes, _ZERO), declared),
                    "la suma de los Importe de los conceptos", "CFDI40108")


def _descuento(doc: Doc) -> list[Finding]:
    root = doc.root
    declared = _num(root, "Descuento")
    given = [d for d in (_num(c.element, "Descuento") for c in doc.conceptos) if d is not None]
    findings: list[Finding] = []
    if declared is not None or given:
        computed = sum(given, _ZERO)
        if declared is not None:
            computed = _rounded(computed, declared)
        findings += _compare(root, "Descuento", declared or _ZERO, computed,
                             "la suma de los Descuento de los conceptos", None)
    subtotal = _num(root, "SubTotal") if declared is not None else None
    if declared is not None and subtotal is not None and declared > subtotal:
        findings.append(_at(root, "Descuento", "CFDI-TOTALS", f"El Descuento ({_fmt(declared)}) es mayor que el "
                                                               f"SubTotal ({_fmt(subtotal)}).", "CFDI40110"))
    return findings


def _total(doc: Doc) -> list[Finding]:
    root = doc.root
    declared, subtotal = _num(root, "Total"), _num(root, "SubTotal")
    if declared is None or subtotal is None:
        return []
    impuestos = doc.impuestos
    trasladados = _zero(impuestos, "TotalImpuestosTrasladados") if impuestos is not None else _ZERO
    retenidos = _zero(impuestos, "TotalImpuestosRetenidos") if impuestos is not None else _ZERO
    locales = _ZERO
    for local in doc.locales:
        locales += _zero(local, "TotaldeTraslados") - _zero(local, "TotaldeRetenciones")
    computed = subtotal - _zero(root, "Descuento") + trasladados - retenidos + locales
    what = "SubTotal − Descuento + impuestos trasladados − impuestos retenidos"
    if locales:
        what += " + impuestos locales (trasladados − retenidos)"
    return _compare(root, "Total", declared, _rounded(computed, declared), what, "CFDI40119")


def _impuestos(doc: Doc) -> list[Finding]:
    impuestos = doc.impuestos
    if impuestos is None:
        return []
    return [*_tax_total(impuestos, "TotalImpuestosTrasladados", doc.traslados, "los traslados",
                        "CFDI40205", "CFDI40212"),
            *_tax_total(impuestos, "TotalImpuestosRetenidos", doc.retenciones, "las retenciones",
                        "CFDI40203", "CFDI40206")]


def _tax_total(impuestos: Element, attr: str, taxes: list[Attrs], label: str, sat_sum: str,
               sat_missing: str) -> list[Finding]:
    importes = [_num(t, "Importe") for t in taxes]
    computed = sum((i for i in importes if i is not None), _ZERO)
    declared = _num(impuestos, attr)
    if declared is None:
        # SAT requires the total whenever there is a tax that is not Exento, even one of 0.00 (IVA 0%)
        if not any((t.get("TipoFactor") or "").strip() != "Exento" for t in taxes):
            return []
        return [_at(impuestos, attr, "CFDI-TOTALS", f"Falta {attr} en Impuestos aunque {label} suman "
                                                     f"{_fmt(computed)}.", sat_missing)]
    return _compare(impuestos, attr, declared, _rounded(computed, declared),
                    f"la suma de los Importe de {label} del comprobante", sat_sum)


# --- comercio exterior ------------------------------------------------------------------------------------------

def _cce_missing(doc: Doc) -> list[Finding]:
    """Exportacion 02 needs the Comercio Exterior version in force on the invoice's Fecha (``effective``)."""
    if doc.get("Exportacion") != "02":
        return []
    if doc.cce_in_force:
        return []
    fecha = doc.fecha
    day = f"el {fecha:%d/%m/%Y}" if fecha is not None else "hoy"
    message = ("Exportacion es 02 (exportación definitiva con clave A1) y el CFDI no lleva el complemento de "
               f"Comercio Exterior vigente {day}.")
    for present, key in ((doc.cce11, "cce11"), (doc.cce, "cce20")):
        if present:
            period = PERIODS[key]
            message += f" Lleva {period.what}, {period.describe()}."
    return [_at(doc.root, "Exportacion", "CFDI-CCE-MISSING", message, "CFDI40122")]


def _cce_usd(doc: Doc) -> list[Finding]:
    findings: list[Finding] = []
    for cce in doc.cce:
        declared = _num(cce, "TotalUSD")
        if declared is None:
            continue
        computed = sum((_zero(m, "ValorDolares") for m in cce_mercancias(doc, cce)), _ZERO)
        if computed.quantize(_CENTS, ROUND_HALF_UP) != declared.quantize(_CENTS, ROUND_HALF_UP):
            findings.append(_at(cce, "TotalUSD", "CFDI-CCE-USD",
                                f"El TotalUSD del Comercio Exterior es {_fmt(declared)}, pero la suma de ValorDolares "
                                f"de las mercancías es {_fmt(computed)} (diferencia {_fmt(declared - computed)}).",
                                "CCE122"))
    return findings


def _cce_noidentificacion(doc: Doc) -> list[Finding]:
    if not doc.cce:
        return []
    conceptos = {c.get("NoIdentificacion") for c in doc.conceptos}
    conceptos.discard("")
    findings: list[Finding] = []
    for cce in doc.cce:
        for mercancia in cce_mercancias(doc, cce):
            noid = (mercancia.get("NoIdentificacion") or "").strip()
            if noid not in conceptos:
                known = ", ".join(sorted(conceptos)) or "ninguno"
                findings.append(_at(mercancia, "NoIdentificacion", "CCE-NOIDENTIFICACION",
                                    f"La mercancía {noid or '(sin NoIdentificacion)'} (fracción "
                                    f"{mercancia.get('FraccionArancelaria') or 'sin fracción'}) no corresponde a "
                                    f"ningún concepto del CFDI (NoIdentificacion de los conceptos: {known}).",
                                    "CCE152"))
    return findings


# --- RFC --------------------------------------------------------------------------------------------------------

def _rfcs(doc: Doc) -> list[Finding]:
    findings: list[Finding] = []
    for element, label in ((doc.emisor, "del emisor"), (doc.receptor, "del receptor")):
        raw = element.get("Rfc") if element is not None else None
        if raw is None:
            continue
        rfc = raw.strip()
        reason = check_rfc(rfc, check_digit=False)
        if reason:
            findings.append(_at(element, "Rfc", "RFC-INVALID", f"El RFC {label} «{rfc}» no es válido: {reason}.", None))
        elif (reason := check_rfc(rfc)) is not None:
            findings.append(_at(element, "Rfc", "RFC-INVALID",
                                f"El RFC {label} «{rfc}» tiene bien la forma, pero {reason}; el SAT ha emitido "
                                "algunos RFC así, por eso es solo una advertencia: confírmelo con la constancia de "
                                "situación fiscal.",
                                None, make=warning))
    return findings


# --- helpers ----------------------------------------------------------------------------------------------------

def _zero(element: Element | Attrs, attr: str) -> Decimal:
    """The attribute as a Decimal, 0 if absent (optional amounts such as Descuento)."""
    value = _num(element, attr)
    return _ZERO if value is None else value


def _compare(element: Element, attr: str, declared: Decimal, computed: Decimal, what: str,
             sat_code: str | None) -> list[Finding]:
    if declared == computed:
        return []
    return [_at(element, attr, "CFDI-TOTALS", f"El {attr} declarado es {_fmt(declared)}, pero {what} da "
                                               f"{_fmt(computed)} (diferencia {_fmt(declared - computed)}).", sat_code)]


def _at(node: Element | Attrs, attr: str, code: str, message: str, sat_code: str | None,
        make: Callable[..., Finding] = error) -> Finding:
    element = element_of(node)
    return make(code, message, sat_code, line=element.sourceline, xpath=f"{xpath_of(element)}/@{attr}")


def _fmt(value: Decimal) -> str:
    return format(value, "f")


_RULES: tuple[Callable[[Doc], list[Finding]], ...] = (
    _tfd, _subtotal, _descuento, _total, _impuestos, _cce_missing, _cce_usd, _cce_noidentificacion, _rfcs,
)
