"""Rules of a COVE the XSD cannot express: identifier shapes (COVE-ID) and arithmetic (COVE-TOTALS).

VUCEM writes unit values with up to six decimals (91 × 0.318681 = 28.999971 for a line of 29), so a
line's quantity × unit value is compared with its total within what rounding the unit value explains,
and never less than one cent. All lines of a COVE in one currency share one USD factor (valorDolares /
valorTotal); a line whose factor differs from the median line's by more than a cent of its value is reported.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from statistics import median_low
from typing import Any

from gateway.findings import Finding, error, warning
from gateway.rfc import check_rfc

COVE_ID = re.compile(r"^COVE[0-9A-Z]{9}$")
ADENDA_ID = re.compile(r"^ADEN\d{9}$")
CENT = Decimal("0.01")


def check_cove(record: dict[str, Any], xpath: str) -> list[Finding]:
    findings: list[Finding] = []
    findings += _ids(record.get("e_document"), record.get("numero_adenda"), xpath)
    if record.get("adenda_de"):
        findings += _ids(record["adenda_de"], None, xpath)
    findings += _lines(record.get("mercancias") or [], xpath)
    findings += _parties(record, xpath)
    return findings


def check_respuesta(record: dict[str, Any], xpath: str) -> list[Finding]:
    """VUCEM's errors per invoice: a response in which every invoice failed issued no COVE at all."""
    findings: list[Finding] = []
    answers = record.get("respuestas") or []
    failed = [a for a in answers if a["contiene_error"]]
    severity = error if answers and len(failed) == len(answers) else warning
    for index, answer in enumerate(answers, start=1):
        where = f"{xpath}/oxml:respuestasOperaciones[{index}]"
        if answer["contiene_error"]:
            detail = "; ".join(answer["errores"]) or "sin detalle"
            findings.append(severity(
                "COVE-VUCEM-ERROR",
                f"VUCEM no emitió COVE para la factura {answer['numero_factura']} (operación "
                f"{record.get('numero_operacion')}): {detail}", xpath=where, factura=answer["numero_factura"]))
        else:
            findings += _ids(answer.get("e_document"), answer.get("numero_adenda"), where)
            if not answer.get("e_document"):
                findings.append(error("COVE-ID", f"La factura {answer['numero_factura']} no tiene error pero VUCEM "
                                      "no devolvió su e-document (COVE).", xpath=where))
    if not answers:
        findings.append(error("COVE-VUCEM-ERROR", f"La respuesta de la operación {record.get('numero_operacion')} "
                              "no trae ninguna factura.", xpath=xpath))
    return findings


def _ids(e_document: str | None, adenda: str | None, xpath: str) -> list[Finding]:
    findings = []
    if e_document is not None and not COVE_ID.match(e_document):
        findings.append(error("COVE-ID", f"El e-document '{e_document}' no es un COVE válido: se esperan 'COVE' y "
                              "9 letras mayúsculas o dígitos (13 caracteres).", xpath=f"{xpath}/eDocument"))
    if adenda is not None and not ADENDA_ID.match(adenda):
        findings.append(error("COVE-ID", f"El número de adenda '{adenda}' no es válido: se esperan 'ADEN' y 9 "
                              "dígitos.", xpath=f"{xpath}/numeroAdenda"))
    return findings


def _lines(lines: list[dict[str, Any]], xpath: str) -> list[Finding]:
    findings: list[Finding] = []
    parsed = []
    for index, line in enumerate(lines, start=1):
        where = f"{xpath}/mercancia[{index}]"
        try:
            cantidad, unitario, total, usd = (Decimal(line[k]) for k in
                                             ("cantidad", "valor_unitario", "valor_total", "valor_dolares"))
        except (InvalidOperation, TypeError):
            continue  # the XSD reports numbers that do not parse
        if not (cantidad.is_finite() and unitario.is_finite() and total.is_finite() and usd.is_finite()):
            continue  # "NaN", "Infinity": not xs:decimal either
        if cantidad <= 0 or total < 0 or usd < 0:
            findings.append(error("COVE-TOTALS", f"Mercancía {index}: cantidad {line['cantidad']}, valor total "
                                  f"{line['valor_total']} y valor en dólares {line['valor_dolares']} deben ser "
                                  "positivos.", xpath=where, mercancia=index))
            continue
        computed = cantidad * unitario
        allowed = max(CENT, cantidad * _half_unit(line["valor_unitario"]))
        if abs(computed - total) > allowed:
            findings.append(error(
                "COVE-TOTALS", f"Mercancía {index} ({line['descripcion_generica']}): cantidad {line['cantidad']} × "
                f"valor unitario {line['valor_unitario']} = {_fmt(computed)}, pero el valor total declarado es "
                f"{line['valor_total']} (diferencia {_fmt(total - computed)}).", xpath=f"{where}/valorTotal",
                mercancia=index))
        parsed.append((index, line, total, usd))
    findings += _usd_factor(parsed, xpath)
    return findings


def _usd_factor(parsed: list[tuple[int, dict[str, Any], Decimal, Decimal]], xpath: str) -> list[Finding]:
    """Within one currency every line converts to USD with the same factor (USD itself: 1)."""
    findings: list[Finding] = []
    by_currency: dict[str, list[tuple[int, dict[str, Any], Decimal, Decimal]]] = {}
    for item in parsed:
        by_currency.setdefault(item[1]["tipo_moneda"] or "", []).append(item)
    for currency, items in by_currency.items():
        factors = [usd / total for _, _, total, usd in items if total]
        if not factors:
            continue
        # the median line's factor: one wrong line does not shift the factor the others are held to
        factor = Decimal(1) if currency == "USD" else median_low(factors)
        for index, line, line_total, line_usd in items:
            expected = line_total * factor
            if abs(expected - line_usd) > CENT + line_total * Decimal("0.00005"):
                findings.append(error(
                    "COVE-TOTALS", f"Mercancía {index}: el valor en dólares {line['valor_dolares']} no corresponde a "
                    f"su valor total {line['valor_total']} {currency} con el factor de la factura ({_fmt(factor, 6)}"
                    f" USD por {currency}): se esperaba {_fmt(expected)} (diferencia {_fmt(line_usd - expected)}).",
                    xpath=f"{xpath}/mercancia[{index}]/valorDolares", mercancia=index))
    return findings


def _parties(record: dict[str, Any], xpath: str) -> list[Finding]:
    findings = []
    for role, label in (("emisor", "emisor"), ("destinatario", "destinatario")):
        party = record.get(role) or {}
        if party.get("tipo_identificador") == "1" and party.get("identificacion"):
            problem = check_rfc(party["identificacion"], check_digit=False)
            if problem:
                findings.append(error("RFC-INVALID", f"El RFC del {label} del COVE, {party['identificacion']}, "
                                      f"{problem}.", xpath=f"{xpath}/{role}/identificacion"))
    return findings


def _half_unit(lexical: str) -> Decimal:
    """Half a unit of the last decimal written: 0.318681 may stand for anything within ±0.0000005."""
    decimals = len(lexical.split(".", 1)[1]) if "." in lexical else 0
    return Decimal(5).scaleb(-(decimals + 1))


def _fmt(value: Decimal, places: int = 2) -> str:
    return str(value.quantize(Decimal(1).scaleb(-places)))
