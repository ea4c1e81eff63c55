"""IMMEX return clocks: how long each temporary import may stay in Mexico, kept as data with its sources.

A temporary import (IN, AF, a V1 received by transfer) must leave — returned, exported inside a product or
changed to another regime — before its deadline, or it becomes a definitive import owing taxes, surcharges
and fines (Ley Aduanera art. 108). The rules are one table (:data:`RULES`), each with its legal basis as a
user reads it, the reference keys it comes from (``shared/reference/pedimento-cove.md`` §8.1) and how sure
that source is. The company facts that move the clock (the program's validity, a certification that
extends insumos to 36 months) come from ``[immex]`` in the configuration (:class:`CompanyFacts`).

Nothing is made up: without a usable start date, or for activo fijo without the program's validity date,
the partida carries its basis and a ``null`` deadline, and the pedimento gets an IMMEX-CLOCK warning.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.findings import Finding, warning


@dataclass(frozen=True)
class ClockRule:
    id: str
    claves: tuple[str, ...]       # claves de pedimento (Anexo 22 Ap. 2) of temporary imports it applies to
    months: int | None            # None: the program's validity (``until_program``) or not known to the gateway
    basis: str                    # the legal basis as the canonical record states it
    sources: tuple[str, ...]      # reference keys (pedimento-cove.md §10)
    confidence: str               # confirmed | partial (a secondary source) | inferred (not stated for this clave)
                                  # | unsourced (temporary, but no source gives its limit: no deadline)
    until_program: bool = False   # the goods may stay while the IMMEX program is in force


RULES: tuple[ClockRule, ...] = (
    ClockRule("insumos", ("IN",), 18, "LA art. 108 fr. I (18 meses)", ("BADO108", "TLCAS53", "PLZ"), "confirmed"),
    ClockRule("insumos-certificada", ("IN",), 36,
              "LA art. 108 fr. I, ampliado por RGCE regla 7.3.3 fr. XXV (36 meses, empresa certificada)",
              ("PLZ",), "partial"),
    ClockRule("activo-fijo", ("AF",), None, "LA art. 108 fr. III (vigencia del programa IMMEX)",
              ("IDC2024", "IDC2021b", "PLZ"), "confirmed", until_program=True),
    # V1 received by transfer is a temporary import of the receiving IMMEX (reference §4); its limit is the
    # same art. 108 by the nature of the goods: AF identifier (507) for activo fijo, insumos otherwise.
    ClockRule("transferencia-insumos", ("V1",), 18, "LA art. 108 fr. I (18 meses; importación temporal virtual V1)",
              ("A22J", "BADO108"), "inferred"),
    ClockRule("transferencia-activo-fijo", ("V1",), None,
              "LA art. 108 fr. III (vigencia del programa IMMEX; importación temporal virtual V1 de activo fijo)",
              ("A22J", "IDC2024"), "inferred", until_program=True),
    # E1 / E2 (Anexo 22 Ap. 2): extraction from a depósito fiscal to be imported temporarily under IMMEX
    ClockRule("deposito-insumos", ("E1",), 18,
              "LA art. 108 fr. I (18 meses; extracción de depósito fiscal para IMMEX, E1)", ("A22J", "BADO108"),
              "inferred"),
    ClockRule("deposito-activo-fijo", ("E2",), None,
              "LA art. 108 fr. III (vigencia del programa IMMEX; extracción de depósito fiscal de activo fijo, E2)",
              ("A22J", "IDC2024"), "inferred", until_program=True),
    # the temporales of Anexo 22 Ap. 2 to return in the same state (régimen ITR: convenciones, envases, bienes de
    # no residentes, eventos, filmación, vehículos de prueba, contenedores, misiones, muestras): their limit
    # depends on the supuesto and no source read gives it, so they are marked temporary with no deadline
    ClockRule("retorno-mismo-estado", ("AD", "AJ", "BA", "BC", "BD", "BE", "BH", "BI", "BP", "S2"), None,
              "LA art. 106 (importación temporal para retornar en el mismo estado; plazo según el supuesto)",
              ("A22J",), "unsourced"),
)
_BY_ID = {rule.id: rule for rule in RULES}

#: the start the reference names (regla 4.3.1 RGCE 2015: activation of the selección automatizada) is not in
#: the pedimento's records; these declared dates stand for it, best first (506 tipo de fecha)
START_DATES = (("entry", "fecha de entrada (506 tipo 1)"),
               ("original_payment", "fecha de pago del pedimento original (506 tipo 7)"),
               ("payment", "fecha de pago (506 tipo 2)"))


@dataclass(frozen=True)
class CompanyFacts:
    """``[immex]``: what the company's own program changes in the clock."""

    program_valid_until: date | None = None  # end of the IMMEX program's validity (activo fijo stays until then)
    certified: bool = False                  # empresa certificada (regla 7.3.3 fr. XXV): insumos 36 months


def temporary_rule(record: dict[str, Any], company: CompanyFacts) -> ClockRule | None:
    """The rule for a pedimento's clave (a rectification's: the clave it corrects), or None if not temporary."""
    clave = _effective_clave(record)
    if str(record.get("operation_type") or "") not in ("1", ""):
        return None  # the export side of a V1 transfer, a return: a discharge, not a temporary import
    if clave == "IN":
        return _BY_ID["insumos-certificada" if company.certified else "insumos"]
    if clave == "AF":
        return _BY_ID["activo-fijo"]
    if clave == "V1":
        fixed = any(i.get("code") == "AF" for i in record.get("identifiers") or [])
        return _BY_ID["transferencia-activo-fijo" if fixed else "transferencia-insumos"]
    return next((rule for rule in RULES if clave in rule.claves), None)


def apply(record: dict[str, Any], company: CompanyFacts) -> list[Finding]:
    """Give every partida of a temporary import its ``return_clock``; return the warnings (no start, no end)."""
    rule = temporary_rule(record, company)
    if rule is None:
        return []
    start, start_basis = start_date(record)
    findings: list[Finding] = []
    deadline: date | None = None
    if start is None:
        findings.append(warning("IMMEX-CLOCK", f"Importación temporal {_effective_clave(record)}: el pedimento no "
                                "declara una fecha válida de entrada ni de pago (506); no se calcula su plazo de "
                                f"retorno ({rule.basis}).", record="506"))
    elif rule.months is not None:
        deadline = add_months(start, rule.months)
    elif not rule.until_program:
        findings.append(warning("IMMEX-CLOCK", f"Importación temporal {_effective_clave(record)}: su plazo de "
                                f"retorno depende del supuesto ({rule.basis}) y no está en la tabla de reglas del "
                                "gateway; no se calcula su fecha de retorno.", record="501", field=6))
    elif company.program_valid_until is not None:
        deadline = company.program_valid_until
    else:
        findings.append(warning("IMMEX-CLOCK", "Importación temporal de activo fijo: el plazo es la vigencia del "
                                "programa IMMEX y la configuración no la declara ([immex] program_valid_until); "
                                "no se calcula su fecha de retorno.", record="501", field=6))
    clock = {"rule": rule.id, "start_date": start.isoformat() if start else None, "start_basis": start_basis,
             "return_deadline": deadline.isoformat() if deadline else None, "basis": rule.basis,
             "months": rule.months, "sources": list(rule.sources), "confidence": rule.confidence}
    for partida in record.get("partidas") or []:
        partida["return_clock"] = dict(clock, sources=list(rule.sources))
    return findings


def start_date(record: dict[str, Any]) -> tuple[date | None, str | None]:
    """The clock's start and which declared date stands for it; a rectification never restarts the clock."""
    dates = dict(record.get("dates") or {})
    if record.get("clave") == "R1":
        dates.pop("payment", None)  # the rectification's own payment: the goods entered with the original
        corrected = ((record.get("rectification") or {}).get("corrects") or {}).get("payment_date")
        dates.setdefault("original_payment", corrected)
    for name, basis in START_DATES:
        when = parse_date(dates.get(name))
        if when is not None:
            return when, basis
    return None, None


def original_key(discharge: dict[str, Any], discharged_on: date | None) -> str | None:
    """The original's business key: the year of its payment (512.7), else the latest year the number's
    first digit allows (Y of YNNNNNN is the year's last digit) up to the discharge's own year."""
    number, patente, aduana = (discharge.get(k) or "" for k in ("pedimento", "patente", "aduana_seccion"))
    if not (len(number) == 7 and number.isdigit() and patente and aduana):
        return None
    paid = parse_date(discharge.get("payment_date"))
    year = paid.year if paid else None
    if year is None and discharged_on is not None:
        year = discharged_on.year - (discharged_on.year - int(number[0])) % 10
    return f"{year}-{aduana}-{patente}-{number}" if year else None


def discharge_date(record: dict[str, Any]) -> date | None:
    """When a discharging pedimento discharges: its payment date, else its presentation or entry date."""
    dates = record.get("dates") or {}
    return next((d for d in (parse_date(dates.get(n)) for n in ("payment", "presentation", "entry")) if d), None)


def name_originals(record: dict[str, Any]) -> None:
    """Each 512 of the record gets ``original_key``: the business key of the pedimento it discharges."""
    on = discharge_date(record)
    for discharge in record.get("discharges") or []:
        discharge["original_key"] = original_key(discharge, on)


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def add_months(start: date, months: int) -> date:
    """Calendar months; a day the target month lacks becomes its last day (31-ago + 18 meses = 29-feb)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _effective_clave(record: dict[str, Any]) -> str | None:
    clave = record.get("clave")
    if clave == "R1":
        return ((record.get("rectification") or {}).get("corrects") or {}).get("clave")
    return clave
