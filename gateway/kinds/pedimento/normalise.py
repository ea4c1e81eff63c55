"""Records of one pedimento → the canonical customs declaration (``docs/schema/pedimento.schema.json``).

Every source (M file, Data Stage, VUCEM) first becomes the same list of :class:`Rec` — the M-file record
type and its fields by layout name — so the same pedimento normalises to the same record whatever form it
arrived in; only ``origin`` tells the forms apart. Amounts are decimal strings with the scale of the layout
(pesos whole, USD with 2 decimals, exchange rate with 5), dates ISO 8601.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.kinds.pedimento.layout import LAYOUTS

SCHEMA_VERSION = "1.0"

#: 506 tipo de fecha → canonical name
DATE_TYPES = {"1": "entry", "2": "payment", "3": "extraction", "5": "presentation", "6": "us_ca_import",
              "7": "original_payment"}
#: claves whose régimen follows from the clave alone (Ap. 2 / Ap. 16, reference §4)
_REGIME = {"IN": "ITE", "AF": "ITE", "RT": "ITE", "A3": "IMD", "F5": "IMD", "A4": "DFI", "T3": "TRA", "T7": "TRA",
           "H1": "ITR"}
_COVE = r"COVE"


@dataclass
class Rec:
    """One record of a pedimento: its type (500…801) and its fields by layout name (or verbatim)."""

    type: str
    values: dict[str, str] = field(default_factory=dict)
    verbatim: list[str] = field(default_factory=list)  # records whose layout is only inferred
    location: dict[str, Any] = field(default_factory=dict)
    count: int | None = None  # fields as sent, record type included (None when the source has no arity)

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()


def from_fields(record: str, fields: list[str], location: dict[str, Any]) -> Rec:
    """An M-file line (fields after the record type) → Rec, by the layout of its record type."""
    layout = LAYOUTS.get(record)
    if layout is None or not layout.confirmed:
        return Rec(record, verbatim=[f.strip() for f in fields], location=location, count=len(fields) + 1)
    return Rec(record, {f.name: v for f, v in zip(layout.fields, fields, strict=False)}, location=location,
               count=len(fields) + 1)


def records_from_lines(lines: list, first_line: int | None = None) -> list[Rec]:
    """M-file lines (``mfile.Line``) → records, each located by line and record type; ``first_line`` is where
    the block starts in its M file, so a part's findings also name the line of the original file."""
    def where(number: int, record: str) -> dict[str, Any]:
        found: dict[str, Any] = {"line": number, "record": record}
        if first_line is not None:
            found["file_line"] = first_line + number - 1
        return found

    return [from_fields(line.record, line.fields[1:], where(line.number, line.record)) for line in lines]


def decimal_text(value: str, decimals: int) -> str | None:
    """``"17.1234"`` with 5 decimals → ``"17.12340"``; empty → None; not a number → the text as given."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    try:
        rounded = number.quantize(Decimal(1).scaleb(-decimals)) if decimals else number.to_integral_value()
    except InvalidOperation:  # more digits than the context holds (1E+70): kept as written, the layout reports it
        return value
    return format(rounded, "f")


def iso_date(value: str) -> str | None:
    value = (value or "").strip()
    if len(value) == 8 and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
        except ValueError:
            return value
    return value or None


_DECIMALS = {(layout.record, f.name): f.decimals for layout in LAYOUTS.values() for f in layout.fields}


def _money(rec: Rec, name: str) -> str | None:
    return decimal_text(rec.get(name), _DECIMALS[(rec.type, name)])


def _code(value: str) -> str | None:
    """Numeric catalog keys without leading zeros (``"06"`` → ``"6"``), text codes as given."""
    value = (value or "").strip()
    if not value:
        return None
    return value.lstrip("0") or "0" if value.isdigit() else value


def _text(value: str) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def document_kind(number: str) -> str:
    """505.4 holds a COVE (acuse de valor), a CFDI UUID or another equivalent document number."""
    text = number.strip()
    if text.upper().startswith("COVE"):
        return "cove"
    if len(text) == 36 and text.count("-") == 4:
        return "cfdi"
    return "other"


def pedimento_year(dates: dict[str, str | None]) -> int | None:
    """The year of the key: payment (validation) date first, then any other declared date."""
    for name in ("payment", "entry", "presentation", "extraction"):
        value = dates.get(name)
        if value and len(value) >= 4 and value[:4].isdigit():
            return int(value[:4])
    return None


def numbers(year: int | None, aduana: str, patente: str, pedimento: str) -> tuple[str | None, str | None]:
    """(15-digit, printed) forms: AA AD PPPP YNNNNNN, printed with two spaces between groups."""
    if year is None or len(aduana) < 2 or not patente or len(pedimento) != 7:
        return None, None
    aa, ad, pppp = f"{year % 100:02d}", aduana[:2], patente.zfill(4)
    return f"{aa}{ad}{pppp}{pedimento}", f"{aa}  {ad}  {pppp}  {pedimento}"


def build(records: list[Rec], origin: dict[str, Any]) -> dict[str, Any]:
    """The canonical declaration of one pedimento (records in file order)."""
    by_type: dict[str, list[Rec]] = {}
    for rec in records:
        by_type.setdefault(rec.type, []).append(rec)
    head = (by_type.get("500") or [Rec("500")])[0]
    gen = (by_type.get("501") or [Rec("501")])[0]
    patente = gen.get("patente") or head.get("patente")
    pedimento = gen.get("pedimento") or head.get("pedimento")
    aduana = gen.get("aduana_seccion") or head.get("aduana_seccion")
    dates: dict[str, str | None] = {}
    date_list = []
    for rec in by_type.get("506", []):
        kind = DATE_TYPES.get(_code(rec.get("tipo_fecha")) or "", f"type_{_code(rec.get('tipo_fecha'))}")
        value = iso_date(rec.get("fecha"))
        dates.setdefault(kind, value)
        date_list.append({"type": _code(rec.get("tipo_fecha")), "date": value})
    year = pedimento_year(dates)
    number15, printed = numbers(year, aduana, patente, pedimento)
    operation_type = _code(gen.get("tipo_operacion"))
    clave = gen.get("clave_pedimento") or None
    identifiers = [_identifier(r) for r in by_type.get("507", [])]
    immex = next((i["complement1"] for i in identifiers if i["code"] == "IM"), None)
    partidas = _partidas(records)
    return {
        "schema_version": SCHEMA_VERSION,
        "key": {"year": year, "aduana_seccion": aduana or None, "patente": patente or None,
                "pedimento": pedimento or None},
        "number": number15,
        "printed_number": printed,
        "operation_type": operation_type,
        "operation": {"1": "IMP", "2": "EXP"}.get(operation_type or ""),
        "clave": clave,
        "regime": _regime(clave, operation_type),
        "aduana_entrada_salida": gen.get("aduana_entrada_salida") or None,
        "importer_exporter": {
            "rfc": gen.get("rfc") or None, "curp": gen.get("curp") or None, "name": _text(gen.get("nombre")),
            "address": {"street": _text(gen.get("calle")), "interior": _text(gen.get("num_interior")),
                        "exterior": _text(gen.get("num_exterior")), "postal_code": _text(gen.get("cp")),
                        "municipality": _text(gen.get("municipio")), "state": gen.get("entidad") or None,
                        "country": gen.get("pais") or None},
        },
        "agent_curp": gen.get("curp_agente") or None,
        "cfdi_services_rfc": gen.get("rfc_cfdi_servicios") or None,
        "exchange_rate": _money(gen, "tipo_cambio"),
        "incrementables": {"freight": _money(gen, "fletes"), "insurance": _money(gen, "seguros"),
                           "packaging": _money(gen, "embalajes"), "other": _money(gen, "otros_incrementables")},
        "decrementables": {"freight": _money(gen, "dec_fletes"), "insurance": _money(gen, "dec_seguros"),
                           "loading": _money(gen, "dec_carga"), "unloading": _money(gen, "dec_descarga"),
                           "other": _money(gen, "dec_otros")},
        "gross_weight_kg": _money(gen, "peso_bruto"),
        "transport": {"exit": _code(gen.get("medio_transporte_salida")),
                      "arrival": _code(gen.get("medio_transporte_arribo")),
                      "entry_exit": _code(gen.get("medio_transporte_entrada_salida")),
                      "destination": _code(gen.get("destino"))},
        "dates": dates,
        "date_list": date_list,
        "invoices": [_invoice(r) for r in by_type.get("505", [])],
        "identifiers": identifiers,
        "immex_program": immex,
        "rates": [_rate(r) for r in by_type.get("509", [])],
        "contributions": [_contribution(r) for r in by_type.get("510", [])],
        "discharges": [_discharge(r) for r in by_type.get("512", [])],
        "rectification": _rectification(by_type.get("701", [])),
        "partidas": partidas,
        "other_records": [{"record": r.type, "fields": r.verbatim} for r in records
                          if r.verbatim and r.type not in {"552", "555", "558", "560"}],
        "totals": _totals(partidas, by_type),
        "origin": origin,
    }


def _regime(clave: str | None, operation_type: str | None) -> str | None:
    if clave == "A1":
        return {"1": "IMD", "2": "EXD"}.get(operation_type or "")
    return _REGIME.get(clave or "")


def _invoice(rec: Rec) -> dict[str, Any]:
    number = rec.get("documento")
    kind = document_kind(number)
    return {
        "number": number or None,
        "document_type": kind,
        "cove": number if kind == "cove" else None,
        "cfdi_uuid": number.upper() if kind == "cfdi" else None,
        "date": iso_date(rec.get("fecha")),
        "incoterm": rec.get("incoterm") or None,
        "currency": rec.get("moneda") or None,
        "value_currency": _money(rec, "valor_moneda"),
        "value_usd": _money(rec, "valor_usd"),
        "country": rec.get("pais") or None,
        "state": rec.get("entidad") or None,
        "supplier": {"tax_id": rec.get("id_fiscal") or None, "name": _text(rec.get("nombre")),
                     "address": {"street": _text(rec.get("calle")), "interior": _text(rec.get("num_interior")),
                                 "exterior": _text(rec.get("num_exterior")), "postal_code": _text(rec.get("cp")),
                                 "municipality": _text(rec.get("municipio"))}},
    }


def _identifier(rec: Rec) -> dict[str, Any]:
    return {"code": rec.get("clave") or None, "complement1": rec.get("complemento1") or None,
            "complement2": rec.get("complemento2") or None, "complement3": rec.get("complemento3") or None}


def _rate(rec: Rec) -> dict[str, Any]:
    return {"code": _code(rec.get("contribucion")), "rate": _money(rec, "tasa"),
            "rate_type": _code(rec.get("tipo_tasa"))}


def _contribution(rec: Rec) -> dict[str, Any]:
    return {"code": _code(rec.get("contribucion")), "payment_form": _code(rec.get("forma_pago")),
            "amount": _money(rec, "importe")}


def _discharge(rec: Rec) -> dict[str, Any]:
    return {"patente": rec.get("patente_original") or None, "pedimento": rec.get("pedimento_original") or None,
            "aduana_seccion": rec.get("aduana_original") or None, "clave": rec.get("clave_original") or None,
            "payment_date": iso_date(rec.get("fecha_pago_original")), "fraccion": rec.get("fraccion") or None,
            "unit": _code(rec.get("unidad")), "quantity": decimal_text(rec.get("cantidad"), 6)}


def _rectification(recs: list[Rec]) -> dict[str, Any] | None:
    """701 (layout inferred, kept verbatim): the fields as sent, in Data Stage column order."""
    if not recs:
        return None
    fields = recs[0].verbatim

    def get(i: int) -> str | None:
        return fields[i] if len(fields) > i and fields[i] else None

    # inferred order after tipo: patente, pedimento, sección, clave, fecha de pago, then the corrected
    # pedimento's number, patente, sección, clave and fecha de pago (Data Stage 701 column order)
    corrects = {"pedimento": get(5), "patente": get(6), "aduana_seccion": get(7), "clave": get(8),
                "payment_date": iso_date(get(9) or "")}
    if not corrects["pedimento"]:
        return {"fields": fields, "corrects": None}
    paid = corrects["payment_date"] or ""
    year = paid[:4] if len(paid) >= 4 and paid[:4].isdigit() else ""
    corrects["key"] = "-".join([year, corrects["aduana_seccion"] or "", corrects["patente"] or "",
                                corrects["pedimento"] or ""]) if year else None
    return {"fields": fields, "corrects": corrects}


def _partidas(records: list[Rec]) -> list[dict[str, Any]]:
    partidas: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec.type == "551":
            number = _code(rec.get("partida")) or ""
            partidas.setdefault(number, _partida(rec))
        elif rec.type in {"553", "554", "556", "557"}:
            target = partidas.get(_code(rec.get("partida")) or "")
            if target is None:
                continue  # reported by the rules (child without its partida)
            if rec.type == "553":
                target["permits"].append({"code": rec.get("clave_permiso") or None,
                                          "discharge_signature": rec.get("firma_descargo") or None,
                                          "number": rec.get("numero_permiso") or None,
                                          "value_usd": _money(rec, "valor_usd"),
                                          "quantity": decimal_text(rec.get("cantidad"), 6)})
            elif rec.type == "554":
                target["identifiers"].append(_identifier(rec))
            elif rec.type == "556":
                target["rates"].append(_rate(rec))
            else:
                target["contributions"].append(_contribution(rec))
        elif rec.type in {"552", "555", "558", "560"} and len(rec.verbatim) > 2:
            target = partidas.get(_code(rec.verbatim[2]) or "")
            if target is not None:
                target["other_records"].append({"record": rec.type, "fields": rec.verbatim})
    return list(partidas.values())


def _partida(rec: Rec) -> dict[str, Any]:
    fraccion, nico = rec.get("fraccion"), rec.get("nico")
    return {
        "number": int(rec.get("partida")) if rec.get("partida").isdigit() else rec.get("partida"),
        "fraccion": fraccion or None,
        "nico": nico or None,
        "tariff_code": f"{fraccion}{nico}" if fraccion and nico else fraccion or None,
        "description": _text(rec.get("descripcion")),
        "unit_price": _money(rec, "precio_unitario"),
        "customs_value": _money(rec, "valor_aduana"),
        "commercial_value": _money(rec, "valor_comercial"),
        "value_usd": _money(rec, "valor_usd"),
        "umc": _code(rec.get("umc")),
        "umc_quantity": _money(rec, "cantidad_umc"),
        "umt": _code(rec.get("umt")),
        "umt_quantity": _money(rec, "cantidad_umt"),
        "value_added": _money(rec, "valor_agregado"),
        "vinculacion": rec.get("vinculacion") or None,
        "valuation_method": _code(rec.get("metodo_valoracion")),
        "product_code": _text(rec.get("codigo_producto")),
        "brand": _text(rec.get("marca")),
        "model": _text(rec.get("modelo")),
        "country_origin_destination": rec.get("pais_origen_destino") or None,
        "country_seller_buyer": rec.get("pais_vendedor_comprador") or None,
        "states": {"origin": rec.get("entidad_origen") or None, "destination": rec.get("entidad_destino") or None,
                   "buyer": rec.get("entidad_comprador") or None, "seller": rec.get("entidad_vendedor") or None},
        "permits": [],
        "identifiers": [],
        "rates": [],
        "contributions": [],
        "other_records": [],
    }


def _sum(values: list[str | None], decimals: int) -> str:
    total = Decimal(0)
    for value in values:
        try:
            number = Decimal(value) if value else Decimal(0)
        except InvalidOperation:
            continue
        if number.is_finite():  # "NaN", "Infinity": not amounts (the layout reports them)
            total += number
    try:
        return format(total.quantize(Decimal(1).scaleb(-decimals)), "f")
    except InvalidOperation:  # more digits than the context holds (1E+70)
        return format(total, "f")


def _totals(partidas: list[dict[str, Any]], by_type: dict[str, list[Rec]]) -> dict[str, str]:
    return {
        "partidas_value_usd": _sum([p["value_usd"] for p in partidas], 2),
        "invoices_value_usd": _sum([_money(r, "valor_usd") for r in by_type.get("505", [])], 2),
        "customs_value": _sum([p["customs_value"] for p in partidas], 0),
        "commercial_value": _sum([p["commercial_value"] for p in partidas], 0),
    }
