"""Rules of one pedimento: layout (types, lengths), sequence and nesting, number, catalogs, fracción,
totals, IMMEX and RFC. They run on :class:`~gateway.kinds.pedimento.normalise.Rec` records, so an M-file
block and a Data Stage set are judged by the same code; ``location`` says where each record came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.findings import Finding, error, warning
from gateway.kinds.pedimento import tariff
from gateway.kinds.pedimento.catalogs import Catalog, in_force, numeric_code
from gateway.kinds.pedimento.clock import CompanyFacts
from gateway.kinds.pedimento.layout import LAYOUTS, Field
from gateway.kinds.pedimento.normalise import Rec
from gateway.rfc import check_rfc

MAX_FINDINGS = 200  # per pedimento: a garbled file must not produce a million findings

#: claves that only an IMMEX (or RFE) holder uses, and the operation type each allows
IMMEX_CLAVES: dict[str, set[str]] = {"IN": {"1"}, "AF": {"1"}, "RT": {"2"}, "V1": {"1", "2"}, "V5": {"1", "2"},
                                     "F4": {"1", "2"}, "F5": {"1"}, "BM": {"2"}, "BO": {"2"}}
_YEAR_EXCEPTION_IDS = {"PC", "RC"}  # consolidados may keep the previous year's digit
_DIGITS = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_FRACCION = re.compile(r"^\d{8}$")
_NICO = re.compile(r"^\d{2}$")


@dataclass
class Tolerances:
    """How far computed and declared values may differ before PED-TOTALS (from ``[validation.tolerances]``)."""

    usd: Decimal = Decimal("1.00")  # Σ partidas USD vs Σ invoices USD, absolute
    mxn: Decimal = Decimal("1")  # pesos per line (amounts are whole pesos, each rounded)
    relative: Decimal = Decimal("0.005")  # commercial value vs price × quantity and vs USD × exchange rate


@dataclass
class RuleContext:
    company_rfc: str | None = None
    immex_program: str | None = None
    tolerances: Tolerances = field(default_factory=Tolerances)
    company: CompanyFacts = field(default_factory=CompanyFacts)  # [immex]: what moves the return clock
    #: ``[validation] catalogs_dir``: Anexo 22 appendices imported there replace the package's (None: the package's)
    catalogs_dir: Path | None = None


class _Sink(list):
    """Findings with a ceiling; past it one last finding says the rest was cut."""

    def add(self, finding: Finding) -> None:
        if len(self) < MAX_FINDINGS:
            self.append(finding)
        elif len(self) == MAX_FINDINGS:
            self.append(warning("PED-LAYOUT", f"Se omitieron más hallazgos de este pedimento (más de {MAX_FINDINGS})."))


def check(records: list[Rec], ctx: RuleContext, *, expect_envelope: bool = True, check_layout: bool = True,
          partial: bool = False) -> list[Finding]:
    """Every rule over one pedimento's records.

    ``expect_envelope`` asks for 500 first and 800 last (M file); ``check_layout`` checks the M-file types and
    lengths (not for VUCEM answers, whose amounts have decimals); ``partial`` is for answers that hold only
    part of a declaration (VUCEM serves the header and the partidas separately).
    """
    out = _Sink()
    if check_layout:
        for rec in records:
            _layout(rec, out)
    if not partial:
        _sequence(records, out, expect_envelope)
    by_type: dict[str, list[Rec]] = {}
    for rec in records:
        by_type.setdefault(rec.type, []).append(rec)
    when = _payment_date(by_type)
    _number(by_type, when, out)
    _discharge_numbers(by_type, out)
    books = in_force(ctx.catalogs_dir)  # once per pedimento; then a dict lookup per field
    _catalogs(records, when, out, books)
    _fracciones(by_type, when, out)
    _totals(by_type, ctx.tolerances, out, books, partial)
    _immex(by_type, ctx, out)
    _rfc(by_type, out)
    return list(out)


# layout ---------------------------------------------------------------------------------------------------

def _layout(rec: Rec, out: _Sink) -> None:
    layout = LAYOUTS.get(rec.type)
    where = rec.location
    if layout is None:
        out.add(error("PED-LAYOUT", f"Tipo de registro desconocido {rec.type!r}.", **where))
        return
    count = rec.count
    if count is not None and count != layout.arity:
        out.add(error("PED-LAYOUT", f"El registro {rec.type} ({layout.title}) tiene {count} campos; deben ser "
                      f"{layout.arity}.", **where))
        return
    values = rec.values
    for number, spec, fast in _specs(layout):
        value = values.get(spec.name, "")
        if fast(value) if value else not spec.required:
            continue
        problem = field_problem(spec, value)
        if problem:
            out.add(error("PED-LAYOUT", f"Registro {rec.type}, campo {number} ({spec.name.replace('_', ' ')}): "
                          f"{problem}.", field=number, **where))


_SPECS: dict[str, list[tuple[int, Field, Any]]] = {}


def _specs(layout: Any) -> list[tuple[int, Field, Any]]:
    """(field number, spec, compiled fullmatch) per field of a record type, built once."""
    found = _SPECS.get(layout.record)
    if found is None:
        found = _SPECS[layout.record] = [(n, spec, _fast(spec).fullmatch)
                                         for n, spec in enumerate(layout.fields, start=2)]
    return found


_FAST: dict[tuple[str, int, int], re.Pattern[str]] = {}


def _fast(spec: Field) -> re.Pattern[str]:
    """One compiled pattern per (type, size, decimals) accepting the common valid values at C speed."""
    key = (spec.type, spec.size, spec.decimals)
    pattern = _FAST.get(key)
    if pattern is None:
        pattern = _FAST[key] = re.compile({
            "N": rf"\d{{1,{spec.size}}}",
            "D": rf"\d{{1,{spec.size}}}(?:\.\d{{1,{spec.decimals}}})?" if spec.decimals else
                 rf"\d{{1,{spec.size}}}",
            "F": r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])",  # days 29-31 take the full check
        }.get(spec.type, rf"[^\x00-\x1f]{{0,{spec.size}}}"))
    return pattern


def field_problem(spec: Field, value: str) -> str | None:
    """None when ``value`` fits the field's type and maximum length, else the reason."""
    if value == "":
        return "es obligatorio y está vacío" if spec.required else None
    if _fast(spec).fullmatch(value):
        return None
    if any(ord(c) < 32 for c in value):
        return "contiene caracteres de control"
    if spec.type == "N":
        if not _DIGITS.match(value):
            return f"{value!r} no es un número entero"
        if len(value) > spec.size:
            return f"{value!r} excede {spec.size} dígitos"
    elif spec.type == "D":
        if not _DECIMAL.match(value):
            return f"{value!r} no es un número decimal (con punto)"
        whole, _, decimals = value.partition(".")
        if len(whole) > spec.size or len(decimals) > spec.decimals:
            return f"{value!r} excede {spec.size} enteros y {spec.decimals} decimales"
    elif spec.type == "F":
        if not (len(value) == 8 and value.isdigit() and _valid_date(value)):
            return f"{value!r} no es una fecha AAAAMMDD válida"
    elif len(value) > spec.size:
        return f"tiene {len(value)} caracteres; el máximo es {spec.size}"
    return None


def _valid_date(value: str) -> bool:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


# sequence -------------------------------------------------------------------------------------------------

_HEADER = {"501", "502", "503", "504", "505", "506", "507", "508", "509", "510", "511", "512", "513", "514", "515",
           "516", "520"}
_CHILDREN = {"552", "553", "554", "555", "556", "557", "558", "560"}


def _sequence(records: list[Rec], out: _Sink, expect_envelope: bool) -> None:
    if not records:
        out.add(error("PED-SEQUENCE", "El pedimento no tiene registros."))
        return
    types = [r.type for r in records]
    if expect_envelope:
        if types[0] != "500":
            out.add(error("PED-SEQUENCE", "El pedimento debe empezar con el registro 500.", **records[0].location))
        if types[-1] != "800":
            out.add(error("PED-SEQUENCE", "El pedimento debe terminar con el registro 800.", **records[-1].location))
        for rec in records[1:-1]:
            if rec.type in {"500", "800", "801"}:
                out.add(error("PED-SEQUENCE", f"Registro {rec.type} dentro del pedimento.", **rec.location))
    count_501 = types.count("501")
    if count_501 != 1:
        out.add(error("PED-SEQUENCE", f"El pedimento debe tener exactamente un registro 501 (datos generales); "
                      f"tiene {count_501}.", **records[0].location))
    head = next((r for r in records if r.type == "500"), None) or next((r for r in records if r.type == "501"), None)
    number = head.get("pedimento") if head else ""
    seen_partida = False
    partidas: dict[str, str] = {}
    expected = 1
    has_556: set[str] = set()
    has_557: set[str] = set()
    for rec in records:
        layout = LAYOUTS.get(rec.type)
        if layout is None:
            continue
        own = rec.get("pedimento") if layout.confirmed else _verbatim_pedimento(rec, layout.pedimento_field)
        if layout.pedimento_field and number and own and own != number:
            out.add(error("PED-SEQUENCE", f"El registro {rec.type} es del pedimento {own}, no del {number} que "
                          "lo contiene.", **rec.location))
        if rec.type == "551":
            seen_partida = True
            partida = rec.get("partida")
            if partida in partidas:
                out.add(error("PED-SEQUENCE", f"La partida {partida} está repetida.", **rec.location))
            elif partida.isdigit() and int(partida) != expected:
                out.add(error("PED-SEQUENCE", f"La partida {partida} está fuera de orden: se esperaba la {expected} "
                              "(las partidas se numeran 1..n).", **rec.location))
            partidas.setdefault(partida, rec.get("fraccion"))
            expected += 1
        elif rec.type in _HEADER and seen_partida:
            out.add(error("PED-SEQUENCE", f"El registro {rec.type} (nivel pedimento) aparece después de las "
                          "partidas.", **rec.location))
        elif rec.type in _CHILDREN:
            partida, fraccion = (rec.get("partida"), rec.get("fraccion")) if layout.confirmed else \
                (_verbatim(rec, 2), _verbatim(rec, 1))
            if partida not in partidas:
                out.add(error("PED-SEQUENCE", f"El registro {rec.type} hace referencia a la partida "
                              f"{partida or '(vacía)'}, que no existe (o aparece antes que ella).", **rec.location))
            elif fraccion != partidas[partida]:
                out.add(error("PED-SEQUENCE", f"El registro {rec.type} de la partida {partida} declara la fracción "
                              f"{fraccion}, pero la partida es de la fracción {partidas[partida]}.", **rec.location))
            if rec.type == "556":
                has_556.add(partida)
            elif rec.type == "557":
                has_557.add(partida)
    if not partidas and "551" not in types:
        out.add(error("PED-SEQUENCE", "El pedimento no tiene partidas (registro 551).", **records[0].location))
    for partida in sorted(has_556 - has_557, key=lambda p: (len(p), p)):
        out.add(error("PED-SEQUENCE", f"La partida {partida} declara tasas (556) sin contribuciones (557).",
                      record="556"))
    if "509" in types and "510" not in types:
        out.add(error("PED-SEQUENCE", "El pedimento declara tasas (509) sin contribuciones (510).", record="509"))


def _verbatim(rec: Rec, index: int) -> str:
    return rec.verbatim[index] if len(rec.verbatim) > index else ""


def _verbatim_pedimento(rec: Rec, field_number: int) -> str:
    return _verbatim(rec, field_number - 2) if field_number >= 2 else ""


# number ---------------------------------------------------------------------------------------------------

def _payment_date(by_type: dict[str, list[Rec]]) -> date | None:
    found: date | None = None
    for rec in by_type.get("506", []):
        value = rec.get("fecha")
        if len(value) != 8 or not value.isdigit() or not _valid_date(value):
            continue
        when = date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if numeric_code(rec.get("tipo_fecha")) == "2":
            return when
        found = found or when
    return found


def _number(by_type: dict[str, list[Rec]], when: date | None, out: _Sink) -> None:
    head = (by_type.get("500") or by_type.get("501") or [None])[0]
    if head is None:
        return
    number, patente, aduana = head.get("pedimento"), head.get("patente"), head.get("aduana_seccion")
    where = head.location
    if not re.fullmatch(r"\d{7}", number):
        out.add(error("PED-NUMBER", f"El número de pedimento {number!r} debe tener 7 dígitos (YNNNNNN).", **where))
        return
    if number[1:] == "000000":
        out.add(error("PED-NUMBER", f"El consecutivo del pedimento {number} debe empezar en 000001.", **where))
    if patente and not re.fullmatch(r"\d{4}", patente):
        out.add(error("PED-NUMBER", f"La patente {patente!r} debe tener 4 dígitos.", **where))
    if aduana and not re.fullmatch(r"\d{3}", aduana):
        out.add(error("PED-NUMBER", f"La aduana-sección {aduana!r} debe tener 3 dígitos (aduana y sección).",
                      **where))
    general = (by_type.get("501") or [None])[0]
    if general is not None and head.type == "500":
        for name in ("patente", "aduana_seccion"):
            if general.get(name) and head.get(name) and general.get(name) != head.get(name):
                out.add(error("PED-NUMBER", f"El registro 501 declara {name.replace('_', '-')} {general.get(name)} y "
                              f"el 500 {head.get(name)}.", **general.location))
    if when is None:
        return
    if number[0] != str(when.year)[-1]:
        ids = {r.get("clave") for r in by_type.get("507", [])}
        clave = general.get("clave_pedimento") if general else ""
        previous_year = number[0] == str(when.year - 1)[-1]
        message = (f"El primer dígito del pedimento {number} ({number[0]}) debe ser el último dígito del año de "
                   f"pago {when.year} ({str(when.year)[-1]}).")
        if previous_year and (ids & _YEAR_EXCEPTION_IDS or clave == "R1"):
            out.add(warning("PED-NUMBER", message + " Se acepta: consolidado iniciado o pedimento original "
                            "del año anterior.", **where))
        else:
            out.add(error("PED-NUMBER", message, **where))


def _discharge_numbers(by_type: dict[str, list[Rec]], out: _Sink) -> None:
    """512: the original pedimento a discharge names must be a pedimento number, or it can never be found."""
    for index, rec in enumerate(by_type.get("512", []), start=1):
        where = rec.location
        number, patente, aduana = rec.get("pedimento_original"), rec.get("patente_original"), \
            rec.get("aduana_original")
        label = f"Descargo {index} (512)"
        if not re.fullmatch(r"\d{7}", number):
            out.add(error("PED-NUMBER", f"{label}: el pedimento original {number or '(vacío)'!r} debe tener 7 dígitos "
                          "(YNNNNNN).", field=4, **where))
            continue
        if number[1:] == "000000":
            out.add(error("PED-NUMBER", f"{label}: el consecutivo del pedimento original {number} debe empezar en "
                          "000001.", field=4, **where))
        if not re.fullmatch(r"\d{4}", patente):
            out.add(error("PED-NUMBER", f"{label}: la patente original {patente or '(vacía)'!r} debe tener 4 dígitos.",
                          field=3, **where))
        if not re.fullmatch(r"\d{3}", aduana):
            out.add(error("PED-NUMBER", f"{label}: la aduana-sección original {aduana or '(vacía)'!r} debe tener 3 "
                          "dígitos (aduana y sección).", field=5, **where))
        paid = rec.get("fecha_pago_original")
        if len(paid) == 8 and paid.isdigit() and _valid_date(paid) and number[0] != paid[3]:
            out.add(warning("PED-NUMBER", f"{label}: el primer dígito del pedimento original {number} ({number[0]}) "
                            f"no es el último dígito del año de su pago ({paid[:4]}, 512 campo 7).", field=4, **where))


# catalogs -------------------------------------------------------------------------------------------------

#: (record, field) → catalog name; numeric catalogs compare without leading zeros
_CATALOG_FIELDS: dict[tuple[str, str], str] = {
    ("501", "clave_pedimento"): "claves_pedimento",
    ("501", "pais"): "paises",
    ("501", "medio_transporte_salida"): "medios_transporte",
    ("501", "medio_transporte_arribo"): "medios_transporte",
    ("501", "medio_transporte_entrada_salida"): "medios_transporte",
    ("501", "destino"): "destinos",
    ("505", "incoterm"): "incoterms",
    ("505", "moneda"): "monedas",
    ("505", "pais"): "paises",
    ("506", "tipo_fecha"): "tipos_fecha",
    ("507", "clave"): "identificadores",
    ("509", "contribucion"): "contribuciones",
    ("509", "tipo_tasa"): "tipos_tasa",
    ("510", "contribucion"): "contribuciones",
    ("510", "forma_pago"): "formas_pago",
    ("512", "unidad"): "unidades",
    ("551", "umc"): "unidades",
    ("551", "umt"): "unidades",
    ("551", "vinculacion"): "vinculacion",
    ("551", "metodo_valoracion"): "metodos_valoracion",
    ("551", "pais_origen_destino"): "paises",
    ("551", "pais_vendedor_comprador"): "paises",
    ("554", "clave"): "identificadores",
    ("556", "contribucion"): "contribuciones",
    ("556", "tipo_tasa"): "tipos_tasa",
    ("557", "contribucion"): "contribuciones",
    ("557", "forma_pago"): "formas_pago",
}
_NUMERIC = {"medios_transporte", "destinos", "tipos_fecha", "contribuciones", "tipos_tasa", "formas_pago",
            "unidades", "metodos_valoracion", "vinculacion"}
_ADUANA_FIELDS = {("500", "aduana_seccion"), ("501", "aduana_seccion"), ("501", "aduana_entrada_salida"),
                  ("512", "aduana_original")}


_BY_RECORD: dict[str, list[tuple[str, str]]] = {}
for (_rtype, _name), _cat in _CATALOG_FIELDS.items():
    _BY_RECORD.setdefault(_rtype, []).append((_name, _cat))


def _catalogs(records: list[Rec], when: date | None, out: _Sink, books: dict[str, Catalog]) -> None:
    aduanas = books["aduanas"]
    for rec in records:
        for name, cat_name in _BY_RECORD.get(rec.type, ()):
            value = rec.get(name)
            if not value:
                continue
            cat = books[cat_name]
            code = numeric_code(value) if cat_name in _NUMERIC and value.isdigit() else value
            if code not in cat:
                _unknown(rec, name, value, cat, when, out)
        for rtype, name in _ADUANA_FIELDS:
            if rtype == rec.type and (value := rec.get(name)) and value[:2] not in aduanas:
                _unknown(rec, name, value, aduanas, when, out)


def _unknown(rec: Rec, name: str, value: str, cat: Catalog, when: date | None, out: _Sink) -> None:
    number = _field_number(rec.type, name)
    label = f"Registro {rec.type}, {name.replace('_', ' ')}: la clave {value!r} no está en el catálogo " \
            f"{cat.title} (Anexo 22, apéndice {cat.appendix}, vigente desde {cat.valid_from})"
    if not cat.complete:
        out.add(warning("PED-CATALOG", label + "; el catálogo del gateway es parcial, revise la clave.",
                        field=number, **rec.location))
    elif when is not None and when.isoformat() < cat.valid_from:
        out.add(warning("PED-CATALOG", label + f"; el pedimento es de {when.isoformat()}, anterior a esa versión.",
                        field=number, **rec.location))
    else:
        out.add(error("PED-CATALOG", label + ".", field=number, **rec.location))


def _field_number(record: str, name: str) -> int | None:
    layout = LAYOUTS.get(record)
    if layout is None:
        return None
    return next((i for i, f in enumerate(layout.fields, start=2) if f.name == name), None)


# fracción -------------------------------------------------------------------------------------------------

NICO_SINCE = date(2020, 12, 28)  # LIGIE with NICO in force (DOF 1-jul-2020)


def _fracciones(by_type: dict[str, list[Rec]], when: date | None, out: _Sink) -> None:
    for rec in by_type.get("551", []):
        fraccion, nico = rec.get("fraccion"), rec.get("nico")
        if fraccion and not _FRACCION.match(fraccion):
            out.add(error("PED-FRACCION", f"Partida {rec.get('partida')}: la fracción arancelaria {fraccion!r} debe "
                          "tener 8 dígitos.", field=3, **rec.location))
        if not nico:
            message = f"Partida {rec.get('partida')}: falta el NICO (2 dígitos) de la fracción {fraccion}."
            if when is not None and when >= NICO_SINCE:
                out.add(error("PED-FRACCION", message, field=5, **rec.location))
            else:  # before the NICO existed, or a partida answered without its pedimento's date
                out.add(warning("PED-FRACCION", message + " (el NICO rige desde el 28-dic-2020; no se pudo exigir)",
                                field=5, **rec.location))
        elif not _NICO.match(nico):
            out.add(error("PED-FRACCION", f"Partida {rec.get('partida')}: el NICO {nico!r} debe tener 2 dígitos.",
                          field=5, **rec.location))
        elif _FRACCION.match(fraccion) and (when is None or when >= NICO_SINCE):
            _tariff(rec, fraccion, nico, out)
    for rec in by_type.get("512", []):
        fraccion = rec.get("fraccion")
        if fraccion and not _FRACCION.match(fraccion):
            out.add(error("PED-FRACCION", f"Descargo: la fracción {fraccion!r} debe tener 8 dígitos.", field=8,
                          **rec.location))


_SPECIAL = {"00000000", "99999999"}  # tránsitos and global complementario (reference §5)


def _tariff(rec: Rec, fraccion: str, nico: str, out: _Sink) -> None:
    """Existence in SAT's c_FraccionArancelaria: an unknown fracción is an error, an unknown NICO a warning."""
    if fraccion in _SPECIAL or not tariff.codes():
        return
    if fraccion + nico in tariff.codes():
        return
    where = {"field": 3, **rec.location}
    if fraccion not in tariff.fracciones():
        out.add(error("PED-FRACCION", f"Partida {rec.get('partida')}: la fracción {fraccion} no existe en la tarifa "
                      "(catálogo c_FraccionArancelaria del SAT).", **where))
    else:
        out.add(warning("PED-FRACCION", f"Partida {rec.get('partida')}: el NICO {nico} no existe para la fracción "
                        f"{fraccion} en el catálogo c_FraccionArancelaria del SAT.", **{**where, "field": 5}))


# totals ---------------------------------------------------------------------------------------------------

def _num(value: str) -> Decimal | None:
    """The field as a number; None if empty, not a finite number ("NaN", "Infinity") or beyond any amount (1E+999999999,
    whose sums overflow): the layout reports them."""
    try:
        number = Decimal(value) if value else None
    except InvalidOperation:
        return None
    if number is None or not number.is_finite() or (number and not -_EXPONENT <= number.adjusted() <= _EXPONENT):
        return None
    return number


_EXPONENT = 40  # no amount, rate or quantity of a pedimento has 40 digits


def _totals(by_type: dict[str, list[Rec]], tol: Tolerances, out: _Sink, books: dict[str, Catalog],
            partial: bool = False) -> None:
    partidas = by_type.get("551", [])
    invoices = by_type.get("505", [])
    general = (by_type.get("501") or [None])[0]
    rate = _num(general.get("tipo_cambio")) if general else None
    if partidas and invoices:
        usd_p = sum((_num(p.get("valor_usd")) or Decimal(0) for p in partidas), Decimal(0))
        usd_i = sum((_num(i.get("valor_usd")) or Decimal(0) for i in invoices), Decimal(0))
        if abs(usd_p - usd_i) > tol.usd:
            out.add(error("PED-TOTALS", f"La suma del valor en dólares de las partidas ({usd_p}) difiere de la suma "
                          f"de las facturas 505 ({usd_i}) en {abs(usd_p - usd_i)} USD (tolerancia {tol.usd}).",
                          record="505"))
    if not (partial and "510" not in by_type):  # a partida served alone has no cuadro de liquidación
        _contribution_totals(by_type, tol, out, books["contribuciones"])
    for p in partidas:
        number = p.get("partida")
        commercial, price, qty, usd = (_num(p.get("valor_comercial")), _num(p.get("precio_unitario")),
                                       _num(p.get("cantidad_umc")), _num(p.get("valor_usd")))
        if commercial is not None and price is not None and qty:
            expected = price * qty
            if abs(commercial - expected) > max(tol.mxn, tol.relative * commercial):
                out.add(error("PED-TOTALS", f"Partida {number}: el valor comercial {commercial} no corresponde al "
                              f"precio unitario {price} × cantidad UMC {qty} = {expected:.2f}.", field=9, **p.location))
        if commercial is not None and usd is not None and rate:
            expected = usd * rate
            if abs(commercial - expected) > max(tol.mxn, tol.relative * commercial):
                out.add(warning("PED-TOTALS", f"Partida {number}: el valor comercial {commercial} MXN no corresponde a "
                                f"{usd} USD × tipo de cambio {rate} = {expected:.0f} MXN.", field=10, **p.location))


def _contribution_totals(by_type: dict[str, list[Rec]], tol: Tolerances, out: _Sink, names: Catalog) -> None:
    """Per contribution declared at partida level: Σ 557 must equal the 510 total of that contribution."""
    partida_sum: dict[str, Decimal] = {}
    partida_lines: dict[str, int] = {}
    for rec in by_type.get("557", []):
        code = numeric_code(rec.get("contribucion"))
        partida_sum[code] = partida_sum.get(code, Decimal(0)) + (_num(rec.get("importe")) or Decimal(0))
        partida_lines[code] = partida_lines.get(code, 0) + 1
    header_sum: dict[str, Decimal] = {}
    for rec in by_type.get("510", []):
        code = numeric_code(rec.get("contribucion"))
        header_sum[code] = header_sum.get(code, Decimal(0)) + (_num(rec.get("importe")) or Decimal(0))
    for code, total in partida_sum.items():
        declared = header_sum.get(code)
        name = names.values.get(code, code)
        if declared is None:
            if total:
                out.add(error("PED-TOTALS", f"La contribución {code} ({name}) suma {total} en las partidas (557) y "
                              "no aparece en el cuadro de liquidación (510).", record="510"))
            continue
        if abs(declared - total) > tol.mxn * partida_lines[code]:
            out.add(error("PED-TOTALS", f"La contribución {code} ({name}) declara {declared} en el 510 y las "
                          f"partidas (557) suman {total}.", record="510"))


# IMMEX ----------------------------------------------------------------------------------------------------

def _immex(by_type: dict[str, list[Rec]], ctx: RuleContext, out: _Sink) -> None:
    general = (by_type.get("501") or [None])[0]
    if general is None:
        return
    clave, operation = general.get("clave_pedimento"), numeric_code(general.get("tipo_operacion"))
    allowed = IMMEX_CLAVES.get(clave)
    if allowed is None:
        return
    where = general.location
    if operation and operation not in allowed:
        kinds = " o ".join({"1": "importación (1)", "2": "exportación (2)"}[o] for o in sorted(allowed))
        out.add(error("PED-IMMEX", f"La clave {clave} es de {kinds}, pero el tipo de operación es {operation}.",
                      field=5, **where))
    programs = [r for r in by_type.get("507", []) if r.get("clave") == "IM"]
    if not programs:
        out.add(error("PED-IMMEX", f"Pedimento con clave IMMEX {clave} sin el identificador IM (número de programa "
                      "IMMEX) en el registro 507.", field=6, **where))
    elif ctx.immex_program and all(p.get("complemento1") != ctx.immex_program for p in programs):
        declared = ", ".join(p.get("complemento1") or "(vacío)" for p in programs)
        out.add(error("PED-IMMEX", f"El identificador IM declara el programa {declared}; el programa IMMEX de la "
                      f"empresa es {ctx.immex_program}.", field=4, **programs[0].location))
    rfc = general.get("rfc")
    if ctx.company_rfc and rfc and rfc != ctx.company_rfc:
        out.add(error("PED-IMMEX", f"Pedimento IMMEX ({clave}) a nombre del RFC {rfc}; la empresa configurada es "
                      f"{ctx.company_rfc}.", field=9, **where))


# RFC ------------------------------------------------------------------------------------------------------

def _rfc(by_type: dict[str, list[Rec]], out: _Sink) -> None:
    for rec in by_type.get("501", []):
        for name, number in (("rfc", 9), ("rfc_cfdi_servicios", 30)):
            value = rec.get(name)
            if not value:
                continue
            reason = check_rfc(value, check_digit=False)
            if reason is not None:
                out.add(error("RFC-INVALID", f"El RFC {value} {reason}.", field=number, **rec.location))
            elif (reason := check_rfc(value)) is not None:
                out.add(warning("RFC-INVALID", f"El RFC {value}: {reason}.", field=number, **rec.location))


def locations(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.location for f in findings]
