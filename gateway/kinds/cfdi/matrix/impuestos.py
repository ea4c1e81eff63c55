"""CFDI 4.0 matrix: taxes of the conceptos and of the comprobante (CFDI40174-40186, 40207-40221)."""

from __future__ import annotations

from decimal import Decimal

from gateway.findings import Finding, info
from gateway.kinds.cfdi.matrix.comprobante import decimals_of
from gateway.kinds.cfdi.matrix.doc import (
    Doc,
    Element,
    at,
    ceil_to,
    floor_to,
    fmt,
    half_unit,
    num,
    persona,
    places,
    raw_places,
    rounded_like,
)
from gateway.kinds.cfdi.matrix.registry import rule

_NAMES = {"001": "ISR", "002": "IVA", "003": "IEPS"}
#: traslado codes, retención codes: Base > 0, Impuesto, TipoFactor, Exento/Tasa rules, TasaOCuota, Importe limits
_TRASLADO = ("CFDI40174", "CFDI40175", "CFDI40176", "CFDI40177", "CFDI40178", "CFDI40179", "CFDI40180")
_RETENCION = ("CFDI40181", "CFDI40182", "CFDI40183", "CFDI40184", "CFDI40185", "CFDI40186")


def _s(element: Element, attr: str) -> str:
    return (element.get(attr) or "").strip()


def _tax_limits(doc: Doc, tax: Element, base: Decimal, tasa: Decimal, sat_code: str, label: str,
                out: list[Finding]) -> None:
    """Importe within [(Base − ½u) × TasaOCuota, (Base + ½u) × TasaOCuota] (Anexo 20); the exact product passes."""
    importe = num(tax, "Importe")
    if importe is None or importe == base * tasa:
        return
    decimals = doc.decimals if doc.decimals is not None else 2
    half = half_unit(places(base))
    lower, upper = floor_to((base - half) * tasa, decimals), ceil_to((base + half) * tasa, decimals)
    if not lower <= importe <= upper:
        at(out, tax, "Importe", "CFDI-AMOUNT", f"El Importe {fmt(importe)} de {label} no corresponde a Base "
           f"{fmt(base)} × TasaOCuota {fmt(tasa)}: debe estar entre {fmt(lower)} y {fmt(upper)}.", sat_code)


def _concept_tax(doc: Doc, tax: Element, retencion: bool, out: list[Finding]) -> None:
    codes = _RETENCION if retencion else _TRASLADO
    label = "la retención" if retencion else "el traslado"
    base = num(tax, "Base")
    if base is not None and base <= 0:
        at(out, tax, "Base", "CFDI-AMOUNT", f"La Base de {label} es {fmt(base)}; debe ser mayor que cero.", codes[0])
    impuesto, factor = _s(tax, "Impuesto"), _s(tax, "TipoFactor")
    if impuesto and not doc.cat.has("c_Impuesto", impuesto):
        at(out, tax, "Impuesto", "CFDI-CATALOG", f"El Impuesto '{impuesto}' de {label} no está en el catálogo "
           "c_Impuesto.", codes[1])
        return
    if factor and factor not in doc.cat.tipo_factor:
        at(out, tax, "TipoFactor", "CFDI-CATALOG", f"El TipoFactor '{factor}' de {label} no está en el catálogo "
           "c_TipoFactor.", codes[2])
        return
    raw_tasa = tax.get("TasaOCuota")
    if retencion:
        if factor == "Exento":
            at(out, tax, "TipoFactor", "CFDI-TAXES", "Una retención no puede tener TipoFactor Exento.", codes[3])
            return
        tasa_code, limits_code = codes[4], codes[5]
    else:
        has_importe = tax.get("Importe") is not None
        if factor == "Exento" and (raw_tasa is not None or has_importe):
            at(out, tax, "TipoFactor", "CFDI-TAXES", "Un traslado Exento no lleva TasaOCuota ni Importe.", codes[3])
            return
        if factor in ("Tasa", "Cuota") and (raw_tasa is None or not has_importe):
            at(out, tax, "TipoFactor", "CFDI-TAXES", f"Un traslado con TipoFactor {factor} debe llevar TasaOCuota e "
               "Importe.", codes[4])
            return
        tasa_code, limits_code = codes[5], codes[6]
    if raw_tasa is None or not factor:
        return
    tasa = num(tax, "TasaOCuota")
    if not _tasa_ok(doc, impuesto, factor, raw_tasa, tasa, retencion):  # type: ignore[arg-type]
        at(out, tax, "TasaOCuota", "CFDI-CATALOG", f"La TasaOCuota {fmt(tasa)} no está en el catálogo "  # type: ignore[arg-type]
           f"c_TasaOCuota para {_NAMES.get(impuesto, impuesto)} {factor} como "
           f"{'retención' if retencion else 'traslado'}.", tasa_code)
        return
    if base is not None:
        _tax_limits(doc, tax, base, tasa, limits_code, label, out)  # type: ignore[arg-type]


_TASA_OK: dict[tuple[int, str, str, str, bool], bool] = {}


def _tasa_ok(doc: Doc, impuesto: str, factor: str, raw: str, tasa: Decimal, retencion: bool) -> bool:
    """c_TasaOCuota admits the rate; cached by the rate as written (hashing a Decimal costs more than a str)."""
    key = (id(doc.cat), impuesto, factor, raw, retencion)
    known = _TASA_OK.get(key)
    if known is None:
        known = doc.cat.tasa(impuesto, factor, tasa, retencion)
        if len(_TASA_OK) < 10000:
            _TASA_OK[key] = known
    return known


@rule(*_TRASLADO)
def traslados_concepto(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        for tax in concepto.traslados:
            _concept_tax(doc, tax, False, out)


@rule(*_RETENCION)
def retenciones_concepto(doc: Doc, out: list[Finding]) -> None:
    for concepto in doc.conceptos:
        for tax in concepto.retenciones:
            _concept_tax(doc, tax, True, out)


_RESICO_ISR = Decimal("0.0125")


@rule("CFDI140224", "CFDI140225")
def retencion_resico(doc: Doc, out: list[Finding]) -> None:
    """RESICO persona física (régimen 626) invoicing a persona moral: the ISR retention at concept level follows
    the emisor's "marca Retención" in SAT's l_RFC — 1: no ISR retention (CFDI140224); 2: ISR at 0.0125
    (CFDI140225). The mark is not in the CFDI: it is read from ``validation.sat_rfc_list`` (column
    ``retencion``) when configured. Without it, what fails under either mark is reported: ISR retained, but
    none at 0.0125 (mark 1 forbids the retention, mark 2 asks for one at 0.0125; under mark 2 another ISR
    retention beside it is allowed); an info finding says the mark was not checked.
    """
    emisor = doc.emisor
    if (emisor is None or _s(emisor, "RegimenFiscal") != "626" or persona(doc.emisor_rfc) != "fisica"
            or persona(doc.receptor_rfc) != "moral"):
        return
    entry = doc.sat.rfcs.get(doc.emisor_rfc) if doc.sat.rfcs is not None else None
    mark = entry.retencion if entry is not None else None
    for concepto in doc.conceptos:
        if concepto.get("ObjetoImp") != "02":
            continue
        isr = [tax for tax in concepto.retenciones if (tax.get("Impuesto") or "").strip() == "001"]
        if mark == "1":
            for tax in isr:
                at(out, tax, "Impuesto", "CFDI-TAXES", f"El emisor {doc.emisor_rfc} (RESICO, régimen 626) tiene la "
                   "marca Retención 1 en la lista l_RFC del SAT: sus conceptos a una persona moral no llevan "
                   "retención de ISR (001).", "CFDI140224")
        elif mark == "2":
            if not any(num(tax, "TasaOCuota") == _RESICO_ISR for tax in isr):
                at(out, concepto.element, "ObjetoImp", "CFDI-TAXES", f"El emisor {doc.emisor_rfc} (RESICO, régimen "
                   "626) tiene la marca Retención 2 en la lista l_RFC del SAT: el concepto debe llevar una retención "
                   "de ISR (001) con TasaOCuota 0.012500.", "CFDI140225")
        elif isr and not any(num(tax, "TasaOCuota") == _RESICO_ISR for tax in isr):
            tasa = num(isr[0], "TasaOCuota")
            at(out, isr[0], "TasaOCuota", "CFDI-TAXES", f"Un emisor RESICO (régimen 626, persona física) que "
               f"factura a una persona moral retiene ISR a 0.012500 o no retiene ISR; aquí la tasa es "
               f"{fmt(tasa) if tasa is not None else '(vacía)'}.", "CFDI140225")
    if mark not in ("1", "2"):
        why = ("sin columna «retencion» para este RFC en validation.sat_rfc_list" if entry is not None
               else "falta validation.sat_rfc_list" if doc.sat.rfcs is None else "el RFC no está en la lista")
        out.append(info("SAT-DATA-UNCHECKED", f"CFDI140224/CFDI140225: no se verificó la marca Retención del "
                        f"emisor {doc.emisor_rfc} en la lista l_RFC del SAT ({why}); solo se verificó que las "
                        "retenciones de ISR, si las hay, incluyan una de 0.012500 / the l_RFC retention mark was "
                        "not checked.",
                        line=doc.root.sourceline, xpath="/cfdi:Comprobante/cfdi:Emisor"))


@rule("CFDI40207", "CFDI40208", "CFDI40210", "CFDI40211")
def retenciones(doc: Doc, out: list[Finding]) -> None:
    items = doc.retenciones
    if not items:
        return
    sums: dict[str, Decimal] = {}
    for concepto in doc.conceptos:
        for tax in concepto.retenciones:
            importe = num(tax, "Importe")
            if importe is not None:
                key = _s(tax, "Impuesto")
                sums[key] = sums.get(key, Decimal(0)) + importe
    seen: set[str] = set()
    for tax in items:
        impuesto = _s(tax, "Impuesto")
        if impuesto and not doc.cat.has("c_Impuesto", impuesto):
            at(out, tax, "Impuesto", "CFDI-CATALOG", f"El Impuesto '{impuesto}' no está en el catálogo c_Impuesto.",
               "CFDI40207")
            continue
        if impuesto in seen:
            at(out, tax, "Impuesto", "CFDI-TAXES", f"Hay más de una retención de {_NAMES.get(impuesto, impuesto)} en "
               "el comprobante; debe haber una por impuesto.", "CFDI40208")
            continue
        seen.add(impuesto)
        decimals_of(doc, tax, "Importe", "CFDI40210", "El Importe de la retención", out)
        importe = num(tax, "Importe")
        if importe is not None:
            expected = rounded_like(sums.get(impuesto, Decimal(0)), importe)
            if importe != expected:
                at(out, tax, "Importe", "CFDI-TAXES", f"La retención de {_NAMES.get(impuesto, impuesto)} del "
                   f"comprobante es {fmt(importe)}, pero las retenciones de los conceptos suman "
                   f"{fmt(expected)}.", "CFDI40211")


_TASAS: dict[str, Decimal | None] = {}


def _group_key(tax: Element) -> tuple[str, str, Decimal | None]:
    """Traslados are summed per impuesto, factor and tasa; an Exento has no tasa (one left there is CFDI40177)."""
    factor = _s(tax, "TipoFactor")
    raw = tax.get("TasaOCuota") if factor != "Exento" else None
    if raw is None:
        return _s(tax, "Impuesto"), factor, None
    tasa = _TASAS.get(raw)
    if tasa is None:
        value = num(tax, "TasaOCuota")
        tasa = value.normalize() if value is not None else None
        if len(_TASAS) < 1000:  # a handful of distinct rates in practice
            _TASAS[raw] = tasa
    return _s(tax, "Impuesto"), factor, tasa


@rule("CFDI40213", "CFDI40214", "CFDI40215", "CFDI40216", "CFDI40217", "CFDI40218", "CFDI40219", "CFDI40220",
      "CFDI40221")
def traslados(doc: Doc, out: list[Finding]) -> None:
    items = doc.traslados
    if not items:
        return
    bases: dict[tuple[str, str, Decimal | None], Decimal] = {}
    importes: dict[tuple[str, str, Decimal | None], Decimal] = {}
    zero = Decimal(0)
    for concepto in doc.conceptos:
        for tax in concepto.traslados:
            key = _group_key(tax)
            bases[key] = bases.get(key, zero) + (num(tax, "Base") or zero)
            importes[key] = importes.get(key, zero) + (num(tax, "Importe") or zero)
    seen: set[tuple[str, str, Decimal | None]] = set()
    allowed = doc.decimals
    for tax in items:
        raw_base, raw_importe = tax.get("Base"), tax.get("Importe")
        missing = [a for a, v in (("Base", raw_base), ("Impuesto", tax.get("Impuesto")),
                                  ("TipoFactor", tax.get("TipoFactor"))) if v is None]
        if missing:
            at(out, tax, missing[0], "CFDI-FIELD", f"Al traslado del comprobante le falta {', '.join(missing)}.",
               "CFDI40213")
            continue
        impuesto, factor = _s(tax, "Impuesto"), _s(tax, "TipoFactor")
        if not doc.cat.has("c_Impuesto", impuesto):
            at(out, tax, "Impuesto", "CFDI-CATALOG", f"El Impuesto '{impuesto}' no está en el catálogo c_Impuesto.",
               "CFDI40217")
            continue
        key = _group_key(tax)
        name = f"{_NAMES.get(impuesto, impuesto)} {factor}" + (f" {fmt(key[2])}" if key[2] is not None else "")
        if key in seen:
            at(out, tax, "Impuesto", "CFDI-TAXES", f"El traslado {name} aparece más de una vez en el comprobante; "
               "debe haber uno por impuesto, factor y tasa.", "CFDI40218")
            continue
        seen.add(key)
        raw_tasa = tax.get("TasaOCuota")
        if raw_tasa is not None and factor in ("Tasa", "Cuota") and key[2] is not None and not _tasa_ok(
                doc, impuesto, factor, raw_tasa, key[2], False):
            at(out, tax, "TasaOCuota", "CFDI-CATALOG", f"La TasaOCuota {fmt(key[2])} no corresponde a {impuesto} "
               f"{factor} en el catálogo c_TasaOCuota.", "CFDI40219")
            continue
        if allowed is not None and raw_places(raw_base) > allowed:  # type: ignore[arg-type]
            at(out, tax, "Base", "CFDI-DECIMALS", f"La Base del traslado {raw_base.strip()} tiene "  # type: ignore[union-attr]
               f"{raw_places(raw_base)} decimales; la moneda {doc.moneda} admite {allowed}.", "CFDI40214")  # type: ignore[arg-type]
        if allowed is not None and raw_importe is not None and raw_places(raw_importe) > allowed:
            at(out, tax, "Importe", "CFDI-DECIMALS", f"El Importe del traslado {raw_importe.strip()} tiene "
               f"{raw_places(raw_importe)} decimales; la moneda {doc.moneda} admite {allowed}.", "CFDI40220")
        base = num(tax, "Base")
        total = bases.get(key, zero)
        if base is not None and base != total and base != (expected := rounded_like(total, base)):
            at(out, tax, "Base", "CFDI-TAXES", f"La Base del traslado {name} es {fmt(base)}, pero las bases de "
               f"los conceptos con ese impuesto suman {fmt(expected)}.",
               "CFDI40216" if factor == "Exento" else "CFDI40215")
        importe = num(tax, "Importe")
        total = importes.get(key, zero)
        if importe is not None and importe != total and importe != (expected := rounded_like(total, importe)):
            at(out, tax, "Importe", "CFDI-TAXES", f"El Importe del traslado {name} es {fmt(importe)}, pero los "
               f"traslados de los conceptos con ese impuesto suman {fmt(expected)}.", "CFDI40221")
