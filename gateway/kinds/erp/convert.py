"""From a raw export value to a canonical one: trim, default, pattern, value map, type, factor, limits.

Each field rule is compiled once into a function (500,000 rows × a dozen fields must stay cheap). A bad
value raises ``ValueProblem`` with the message users read; RFC check-digit mismatches are only warnings
(SAT has issued such RFCs), collected in the list the caller passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from gateway import fraccion
from gateway.kinds.erp import transforms
from gateway.kinds.erp.catalogs import codes, miss
from gateway.kinds.erp.mapping import FieldRule, Source
from gateway.limits import current
from gateway.rfc import check_rfc

Converter = Callable[[Any, list[tuple[str, str]]], str | None]

_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
_COUNTRY = re.compile(r"[A-Z]{3}")
_PEDIMENTO_SEPARATORS = str.maketrans("", "", " -")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SERIAL = re.compile(r"\d{1,6}")
_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's 1900 date system, its 29-feb-1900 bug included (serial 60)


class ValueProblem(ValueError):
    """A value that cannot become canonical; ``code`` is ERP-ROW, ERP-CATALOG or RFC-INVALID."""

    def __init__(self, message: str, code: str = "ERP-ROW") -> None:
        super().__init__(message)
        self.code = code


def compile_rule(rule: FieldRule, source: Source) -> Converter:
    """The function turning this field's raw value into its canonical string (or None when absent)."""
    parse = _TYPES[rule.target.type](rule, source)
    target = rule.target
    trim, default, required, pattern = rule.trim, rule.default, rule.required, rule.pattern
    value_map, keep_unknown = rule.map, rule.map_unknown == "keep"
    enum = target.enum
    label = target.label or target.name
    step = transforms.chain(rule.transforms)
    catalog = rule.catalog if rule.catalog and rule.catalog != "tigie" else ""  # tigie: per row, in rows.py
    in_catalog = codes(catalog) if catalog else None

    def convert(raw: Any, warnings: list[tuple[str, str]]) -> str | None:
        if raw.__class__ is str:
            if _SURROGATE.search(raw):  # a JSON "\ud800": no text, and no UTF-8 to forward it in
                raise ValueProblem(f"{label}: contiene un carácter inválido (sustituto UTF-16 suelto)")
            text = raw.strip() if trim else raw
        elif raw is None:
            text = ""
        else:
            text = raw  # a typed XLSX cell (number, date): the type parser takes it as is
        if step is not None and not isinstance(text, (date, datetime)):
            try:
                text = step(_text(text))
            except transforms.TransformProblem as problem:
                raise ValueProblem(f"{label}: {problem}") from None
        if text == "":
            if default is None:
                if required:
                    raise ValueProblem(f"falta {label} (campo obligatorio)")
                return None
            text = default
        if pattern is not None and not pattern.fullmatch(_text(text)):
            raise ValueProblem(f"{label} '{_text(text)}' no cumple el patrón {pattern.pattern}")
        if value_map is not None:
            mapped = value_map.get(_text(text))
            if mapped is None:
                if not keep_unknown:
                    known = ", ".join(list(value_map)[:12])
                    raise ValueProblem(f"{label} '{_text(text)}' no está en la tabla de valores del mapeo ({known})")
            else:
                text = mapped
        value = parse(text, warnings)
        if enum is not None and value not in enum:
            raise ValueProblem(f"{label} '{value}' no es válido; se espera {' | '.join(enum)}")
        if in_catalog is not None and value not in in_catalog:
            raise ValueProblem(miss(catalog, label, value), code="ERP-CATALOG")
        return value

    return convert


def _string(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    def parse(value: Any, warnings: list) -> str:
        if value.__class__ is str:
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # a part number stored as a number in a spreadsheet
        if isinstance(value, datetime):
            return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        return str(value)

    return parse


def _decimal(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    thousands, comma = source.thousands, source.decimal == ","
    factor, target = rule.multiply, rule.target
    label = target.label or target.name

    def parse(value: Any, warnings: list) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise ValueProblem(f"{label} '{value}' no es un número")
        if isinstance(value, str):
            text = value.replace(thousands, "") if thousands else value
            if comma:
                text = text.replace(",", ".")
        else:
            text = repr(value) if isinstance(value, float) else str(value)
        number = _number(text, value, label)
        if factor is not None:
            number *= factor
        if target.minimum is not None and (number < target.minimum or (target.exclusive and number == target.minimum)):
            relation = "mayor que" if target.exclusive else "al menos"
            raise ValueProblem(f"{label} {number} fuera de rango: debe ser {relation} {target.minimum}")
        if target.maximum is not None and number > target.maximum:
            raise ValueProblem(f"{label} {number} fuera de rango: debe ser como máximo {target.maximum}")
        return format(number, "f")

    return parse


def _integer(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    label = rule.target.label or rule.target.name

    def parse(value: Any, warnings: list) -> str:
        number = _number(str(value), value, label)
        if number != number.to_integral_value():
            raise ValueProblem(f"{label} '{value}' no es un número entero")
        return str(int(number))

    return parse


#: what a canonical amount or quantity can hold: Anexo 24 amounts have at most 14 integer digits, factors and
#: unit quantities at most 6-8 decimals; beyond this a value is a typing or export error, never an amount
MAX_INTEGER_DIGITS = 18
MAX_DECIMALS = 10


def _number(text: str, value: Any, label: str) -> Decimal:
    """A finite decimal within the canonical range, else a row error (NaN, Infinity, 1e999, 40 digits, 1e-30)."""
    shown = _text(value)[:40]
    if sum(c.isdigit() for c in text) > current().max_number_digits:
        raise ValueProblem(f"{label} '{shown}…' tiene más dígitos de los que admite un número "
                           f"(limits.max_number_digits = {current().max_number_digits})")
    if not _NUMBER.fullmatch(text.strip()):  # Decimal() also takes "1_000", " Inf", "NaN": not amounts
        raise ValueProblem(f"{label} '{shown}' no es un número")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(f"{label} '{shown}' no es un número") from None
    if not number.is_finite():
        raise ValueProblem(f"{label} '{shown}' no es un número")
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueProblem(f"{label} '{shown}' fuera de rango: más de {MAX_INTEGER_DIGITS} dígitos enteros")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS and number != number.quantize(_QUANTUM, ROUND_DOWN):
        raise ValueProblem(f"{label} '{shown}' tiene más de {MAX_DECIMALS} decimales")
    return number


_QUANTUM = Decimal(1).scaleb(-MAX_DECIMALS)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _date(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    formats = rule.date_formats
    label = rule.target.label or rule.target.name

    serials = source.format == "xlsx" or "excel" in formats

    def parse(value: Any, warnings: list) -> str:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if serials and _SERIAL.fullmatch(text := _text(value)):
            return _from_serial(int(text), label)
        text = str(value)
        for fmt in formats:
            if fmt == "excel":
                continue
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        raise ValueProblem(f"{label} '{text}' no es una fecha con el formato {' o '.join(formats)}")

    return parse


def _from_serial(serial: int, label: str) -> str:
    """A date Excel stored as its serial number (a cell without a date format shows 46022 for 2026-01-01)."""
    if not 1 <= serial <= 2958465:  # 31-dec-9999
        raise ValueProblem(f"{label} {serial} no es un número de serie de fecha de Excel")
    return (_EXCEL_EPOCH + timedelta(days=serial)).isoformat()


def _fraccion(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    def parse(value: Any, warnings: list) -> str:
        code = fraccion.digits(_text(value))
        if len(code) == 10:  # fracción + NICO in one code: the fracción is the first 8 digits
            code = code[:8]
        problem = fraccion.check_fraccion(code)
        if problem:
            raise ValueProblem(problem)
        return code

    return parse


def _nico(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    def parse(value: Any, warnings: list) -> str:
        code = fraccion.digits(_text(value))
        if len(code) == 10:  # fracción + NICO in one code: the NICO is the last 2 digits
            code = code[8:]
        elif len(code) == 1:
            code = "0" + code  # a spreadsheet dropped the leading zero
        problem = fraccion.check_nico(code)
        if problem:
            raise ValueProblem(problem)
        return code

    return parse


def _text(value: Any) -> str:
    """A value as users see it: a spreadsheet's 1234.0 in a code column is 1234."""
    if value.__class__ is str:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rfc(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    label = rule.target.label or rule.target.name

    def parse(value: Any, warnings: list) -> str:
        rfc = str(value).strip().upper()
        problem = check_rfc(rfc, check_digit=False)
        if problem:
            raise ValueProblem(f"{label} '{rfc}' {problem}", code="RFC-INVALID")
        digit = check_rfc(rfc)
        if digit:
            warnings.append(("RFC-INVALID", f"{label} '{rfc}': {digit}"))
        return rfc

    return parse


def _pedimento(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    def parse(value: Any, warnings: list) -> str:
        number = _text(value).translate(_PEDIMENTO_SEPARATORS)
        if not (len(number) == 15 and number.isdigit()):
            raise ValueProblem(f"el pedimento '{value}' debe tener 15 dígitos: año (2), aduana (2), patente (4) y "
                               "número (7), p. ej. 25 47 3420 5001234")
        return number

    return parse


def _uuid(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    def parse(value: Any, warnings: list) -> str:
        uuid = str(value).strip().upper()
        if not _UUID.fullmatch(uuid):
            raise ValueProblem(f"el UUID del CFDI '{value}' no tiene la forma 8-4-4-4-12 hexadecimal")
        return uuid

    return parse


def _country(rule: FieldRule, source: Source) -> Callable[[Any, list], str]:
    label = rule.target.label or rule.target.name

    def parse(value: Any, warnings: list) -> str:
        code = str(value).strip().upper()
        if not _COUNTRY.fullmatch(code):
            raise ValueProblem(f"{label} '{value}' debe ser la clave de 3 letras (ISO 3166, Anexo 22 apéndice 4); "
                               "use map para convertir claves de 2 letras")
        return code

    return parse


_TYPES: dict[str, Callable[[FieldRule, Source], Callable[[Any, list], str]]] = {
    "string": _string, "decimal": _decimal, "integer": _integer, "date": _date, "fraccion": _fraccion,
    "nico": _nico, "rfc": _rfc, "pedimento": _pedimento, "uuid": _uuid, "country": _country,
}
