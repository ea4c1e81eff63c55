"""Valid pedimentos made from Python values, written as an M file (VOCE-SAAI M3 v9.0 records).

No real validation file is public, so the tests, the benchmark, the demo and the COVE correlation work
build their own: :class:`Pedimento` holds the values a broker declares (header, 505 invoices with a COVE
or CFDI UUID, partidas with their contributions and identifiers), :func:`sample_pedimento` makes a
consistent one (totals add up, IMMEX identifier, catalog codes that exist) and :func:`mfile` writes the
records (500 … 800 per pedimento, one 801). Everything is deterministic in its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass
class Invoice:
    """A 505 record: the invoice (CFDI or foreign invoice) and its acuse de valor."""

    number: str  # 505.4: COVE (e.g. COVE26A0000001) or CFDI UUID
    date: date
    value_usd: Decimal
    value_currency: Decimal | None = None  # defaults to value_usd (currency USD)
    currency: str = "USD"
    incoterm: str = "FCA"
    country: str = "USA"
    supplier_tax_id: str = "US123456789"
    supplier_name: str = "ACME WIRING SYSTEMS INC"
    street: str = "MAIN STREET"
    exterior: str = "500"
    postal_code: str = "78045"
    municipality: str = "LAREDO"


@dataclass
class Partida:
    """A 551 record with its children (554 identifiers, 556 rates, 557 contributions)."""

    fraccion: str
    nico: str
    description: str
    value_usd: Decimal
    umc_quantity: Decimal
    umc: str = "6"
    umt: str = "6"
    umt_quantity: Decimal | None = None  # defaults to umc_quantity
    commercial_value: int | None = None  # MXN; defaults to value_usd × exchange rate
    customs_value: int | None = None  # MXN; defaults to commercial_value
    unit_price: Decimal | None = None  # MXN per UMC; defaults to commercial / quantity
    product_code: str = ""
    country_origin: str = "USA"
    country_seller: str = "USA"
    valuation_method: str = "1"
    vinculacion: str = "0"
    value_added: int = 0
    identifiers: list[tuple[str, str, str, str]] = field(default_factory=list)
    rates: list[tuple[str, str, str]] = field(default_factory=list)  # (contribución, tasa, tipo de tasa)
    contributions: list[tuple[str, str, int]] = field(default_factory=list)  # (contribución, forma de pago, importe)


@dataclass
class Pedimento:
    patente: str
    number: str  # 7 digits YNNNNNN
    aduana: str  # aduana-sección, 3 characters
    clave: str
    operation_type: str  # 1 importación, 2 exportación
    rfc: str
    name: str
    exchange_rate: Decimal
    payment_date: date
    entry_date: date | None = None
    invoices: list[Invoice] = field(default_factory=list)
    partidas: list[Partida] = field(default_factory=list)
    identifiers: list[tuple[str, str, str, str]] = field(default_factory=list)
    rates: list[tuple[str, str, str]] = field(default_factory=list)
    contributions: list[tuple[str, str, int]] = field(default_factory=list)
    movement: str = "1"
    aduana_entry: str | None = None
    gross_weight: Decimal = Decimal("1250.500")
    transport: tuple[str, str, str] = ("7", "7", "7")
    destination: str = "9"
    freight: int = 0
    insurance: int = 0
    extra_records: list[str] = field(default_factory=list)  # verbatim lines placed before the partidas
    trailing_records: list[str] = field(default_factory=list)  # verbatim lines after the partidas (701, 702…)

    def commercial(self, partida: Partida) -> int:
        if partida.commercial_value is not None:
            return partida.commercial_value
        return int(_q(partida.value_usd * self.exchange_rate, 0))


def _fmt(value: Decimal | int | None, places: int = 0) -> str:
    if value is None:
        return ""
    return str(_q(Decimal(value), places)) if places else str(int(value))


def _d(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def pedimento_lines(p: Pedimento) -> list[str]:
    """The records of one pedimento, 500 to 800, as text lines (no line ends)."""
    n = p.number
    lines = [f"500|{p.movement}|{p.patente}|{n}|{p.aduana}|"]
    lines.append("|".join([
        "501", p.patente, n, p.aduana, p.operation_type, p.clave, p.aduana_entry or p.aduana, "", p.rfc, "",
        _fmt(p.exchange_rate, 5), str(p.freight), str(p.insurance), "0", "0", "", _fmt(p.gross_weight, 3),
        p.transport[0], p.transport[1], p.transport[2], p.destination, p.name, "AV INDUSTRIA", "", "100", "66600",
        "APODACA", "NLE", "MEX", "", "", "", "", "", ""]))  # decrementables not declared (Data Stage has none)
    for inv in p.invoices:
        lines.append("|".join([
            "505", n, _d(inv.date), inv.number, inv.incoterm, inv.currency, _fmt(inv.value_usd, 2),
            _fmt(inv.value_currency if inv.value_currency is not None else inv.value_usd, 2), inv.country, "",
            inv.supplier_tax_id, inv.supplier_name, inv.street, "", inv.exterior, inv.postal_code, inv.municipality]))
    if p.entry_date:
        lines.append(f"506|{n}|1|{_d(p.entry_date)}")
    lines.append(f"506|{n}|2|{_d(p.payment_date)}")
    for code, c1, c2, c3 in p.identifiers:
        lines.append(f"507|{n}|{code}|{c1}|{c2}|{c3}")
    for code, rate, kind in p.rates:
        lines.append(f"509|{n}|{code}|{rate}|{kind}")
    for code, form, amount in p.contributions:
        lines.append(f"510|{n}|{code}|{form}|{amount}")
    lines.extend(p.extra_records)
    for number, part in enumerate(p.partidas, start=1):
        commercial = p.commercial(part)
        customs = part.customs_value if part.customs_value is not None else commercial
        price = part.unit_price if part.unit_price is not None else Decimal(commercial) / part.umc_quantity
        umt_qty = part.umt_quantity if part.umt_quantity is not None else part.umc_quantity
        key = f"{n}|{part.fraccion}|{number}"
        lines.append("|".join([
            "551", n, part.fraccion, str(number), part.nico, part.description, _fmt(price, 5), str(customs),
            str(commercial), _fmt(part.value_usd, 2), _fmt(part.umc_quantity, 3), part.umc, _fmt(umt_qty, 5),
            part.umt, str(part.value_added), part.vinculacion, part.valuation_method, part.product_code, "", "",
            part.country_origin, part.country_seller, "", "", "", ""]))
        for code, c1, c2, c3 in part.identifiers:
            lines.append(f"554|{key}|{code}|{c1}|{c2}|{c3}")
        for code, rate, kind in part.rates:
            lines.append(f"556|{key}|{code}|{rate}|{kind}")
        for code, form, amount in part.contributions:
            lines.append(f"557|{key}|{code}|{form}|{amount}")
    lines.extend(p.trailing_records)
    lines.append(f"800|{n}|1|{'FIRMA' + n + 'X' * 20}|00001000000512345678")
    return lines


def file_name(patente: str, consecutive: int = 1, julian_day: int = 245) -> str:
    return f"m{patente.zfill(4)}{consecutive:03d}.{julian_day:03d}"


def mfile(pedimentos: list[Pedimento], name: str | None = None, prevalidador: str = "010",
          newline: str = "\n") -> tuple[str, bytes]:
    """(file name, bytes) of an M file holding ``pedimentos``; the name follows the first patente."""
    name = name or file_name(pedimentos[0].patente)
    records: list[str] = []
    for p in pedimentos:
        records.extend(pedimento_lines(p))
    records.append(f"801|{name}|{len(pedimentos)}|{len(records)}|{prevalidador}")
    return name, (newline.join(records) + newline).encode("ascii")


#: (fracción, NICO, description, UMC/UMT, USD per unit): IMMEX inputs of an automotive wire-harness plant
PRODUCTS = (
    ("85443099", "99", "ARNES ELECTRICO PARA VEHICULO AUTOMOTOR", "6", Decimal("25.00")),
    ("73181599", "99", "TORNILLO HEXAGONAL DE ACERO M8", "6", Decimal("0.50")),
    ("39269099", "99", "CLIP DE PLASTICO PARA ARNES", "6", Decimal("0.12")),
    ("85369099", "99", "TERMINAL ELECTRICA DE COBRE", "6", Decimal("0.08")),
    ("74130002", "00", "CABLE DE COBRE TRENZADO", "1", Decimal("9.40")),
)

COMPANY_RFC = "EKU9003173C9"
IMMEX_PROGRAM = "1234-2006"


def sample_pedimento(seq: int = 1, partidas: int = 3, *, clave: str = "IN", operation_type: str = "1",
                     patente: str = "3456", aduana: str = "240", payment_date: date = date(2026, 8, 20),
                     rfc: str = COMPANY_RFC, program: str | None = IMMEX_PROGRAM, invoices: int = 1,
                     exchange_rate: Decimal = Decimal("17.12340"), use_cfdi: bool = False) -> Pedimento:
    """A consistent IMMEX pedimento: USD Σ partidas = Σ invoices, 557 IVA per partida = 510 IVA, DTA fixed."""
    year_digit = str(payment_date.year)[-1]
    number = f"{year_digit}{seq:06d}"
    lines: list[Partida] = []
    for i in range(partidas):
        fraccion, nico, text, unit, price = PRODUCTS[(seq + i) % len(PRODUCTS)]
        quantity = Decimal(100 + (seq * 37 + i * 113) % 4900)
        value_usd = _q(price * quantity, 2)
        part = Partida(fraccion, nico, text, value_usd, quantity, umc=unit, umt=unit,
                       product_code=f"MP-{seq:04d}-{i + 1:03d}", identifiers=[("TL", "USA", "", "")])
        commercial = int(_q(value_usd * exchange_rate, 0))
        iva = int(_q(Decimal(commercial) * Decimal("0.16"), 0))
        part.rates = [("3", "16.0000000000", "1"), ("6", "0.0000000000", "1")]
        form = "21" if clave in {"IN", "AF"} else "0"
        part.contributions = [("3", form, iva), ("6", "5" if clave in {"IN", "AF"} else "0", 0)]
        lines.append(part)
    total_usd = sum((p.value_usd for p in lines), Decimal(0))
    invoice_list: list[Invoice] = []
    remaining = total_usd
    for k in range(invoices):
        value = remaining if k == invoices - 1 else _q(total_usd / invoices, 2)
        remaining -= value
        if use_cfdi:
            doc = f"{seq:08X}-{k:04X}-4{seq % 4096:03X}-8{k % 4096:03X}-{seq * 7919 + k:012X}"
        else:
            doc = f"COVE{payment_date.year % 100:02d}{seq:05d}{k:02d}A"[:13]
        invoice_list.append(Invoice(doc, date(payment_date.year, payment_date.month, 1), value))
    iva_total = sum(c[2] for p in lines for c in p.contributions if c[0] == "3")
    form = "21" if clave in {"IN", "AF"} else "0"
    contributions = [("1", "0", 462), ("3", form, iva_total), ("6", "5" if clave in {"IN", "AF"} else "0", 0)]
    identifiers = [("IM", program, "", "")] if program else []
    return Pedimento(patente=patente, number=number, aduana=aduana, clave=clave, operation_type=operation_type,
                     rfc=rfc, name="MAQUILADORA EJEMPLO SA DE CV", exchange_rate=exchange_rate,
                     payment_date=payment_date, entry_date=payment_date, invoices=invoice_list, partidas=lines,
                     identifiers=identifiers, rates=[("1", "8.0000000000", "4")], contributions=contributions)


def sample_mfile(count: int = 2, partidas: int = 3, **kwargs: object) -> tuple[str, bytes]:
    """An M file with ``count`` consistent pedimentos (consecutive numbers from 1)."""
    return mfile([sample_pedimento(seq, partidas, **kwargs) for seq in range(1, count + 1)])  # type: ignore[arg-type]


__all__ = ["Invoice", "Partida", "Pedimento", "datastage_files", "datastage_rows", "datastage_zip", "file_name",
           "mfile", "pedimento_lines", "replace", "sample_mfile", "sample_pedimento"]


# the same pedimentos as a SAT Data Stage set -----------------------------------------------------------------

#: header of each generated Data Stage file (SAT column names, reference §3)
DATASTAGE_HEADERS = {
    "501": ["Patente", "Pedimento", "SeccionAduanera", "TipoOperacion", "ClaveDocumento", "SeccionAduaneraEntrada",
            "CurpContribuyente", "Rfc", "CurpAgenteA", "TipoCambio", "TotalFletes", "TotalSeguros", "TotalEmbalajes",
            "TotalIncrementables", "TotalDeducibles", "PesoBrutoMercancia", "MedioTransporteSalida",
            "MedioTransporteArribo", "MedioTransporteEntrada_Salida", "DestinoMercancia", "NombreContribuyente",
            "CalleContribuyente", "NumInteriorContribuyente", "NumExteriorContribuyente", "CPContribuyente",
            "MunicipioContribuyente", "EntidadFedContribuyente", "PaisContribuyente", "TipoPedimento",
            "FechaRecepcionPedimento", "FechaPagoReal"],
    "505": ["Patente", "Pedimento", "SeccionAduanera", "FechaFacturacion", "NumeroFactura", "TerminoFacturacion",
            "MonedaFacturacion", "ValorDolares", "ValorMonedaExtranjera", "PaisFacturacion", "EntidadFedFacturacion",
            "IndentFiscalProveedor", "ProveedorMercancia", "CalleProveedor", "NumInteriorProveedor",
            "NumExteriorProveedor", "CpProveedor", "MunicipioProveedor", "FechaPagoReal"],
    "506": ["Patente", "Pedimento", "SeccionAduanera", "TipoFecha", "FechaOperacion", "FechaValidacionPagoR"],
    "507": ["Patente", "Pedimento", "SeccionAduanera", "ClaveCaso", "IndentificadorCaso", "TipoPedimento",
            "ComplementoCaso", "FechaValidacionPagoR"],
    "509": ["Patente", "Pedimento", "SeccionAduanera", "ClaveContribucion", "TasaContribucion", "TipoTasa",
            "TipoPedimento", "FechaPagoReal"],
    "510": ["Patente", "Pedimento", "SeccionAduanera", "ClaveContribucion", "FormaPago", "ImportePago",
            "TipoPedimento", "FechaPagoReal"],
    "551": ["Patente", "Pedimento", "SeccionAduanera", "Fraccion", "SecuenciaFraccion", "SubdivisionFraccion",
            "DescripcionMercancia", "PrecioUnitario", "ValorAduana", "ValorComercial", "ValorDolares",
            "CantidadUMComercial", "UnidadMedidaComercial", "CantidadUMTarifa", "UnidadMedidaTarifa", "ValorAgregado",
            "ClaveVinculacion", "MetodoValorizacion", "CodigoMercanciaProducto", "MarcaMercanciaProducto",
            "ModeloMercanciaProducto", "PaisOrigenDestino", "PaisCompradorVendedor", "EntidadFedOrigen",
            "EntidadFedDestino", "EntidadFedComprador", "EntidadFedVendedor", "TipoOperacion", "ClaveDocumento",
            "FechaPagoReal"],
    "554": ["Patente", "Pedimento", "SeccionAduanera", "Fraccion", "SecuenciaFraccion", "ClaveCaso",
            "IdentificadorCaso", "ComplementoCaso", "FechaPagoReal"],
    "556": ["Patente", "Pedimento", "SeccionAduanera", "Fraccion", "SecuenciaFraccion", "ClaveContribucion",
            "TasaContribucion", "TipoTasa", "FechaPagoReal"],
    "557": ["Patente", "Pedimento", "SeccionAduanera", "Fraccion", "SecuenciaFraccion", "ClaveContribucion",
            "FormaPago", "ImportePago", "FechaPagoReal"],
}


#: columns of the record files the generated pedimentos leave empty (reference §3)
_OTHER_COLUMNS = {
    "502": ["RfcTransportista", "CurpTransportista", "NombreTransportista", "PaisTransporte",
            "IdentificadorTransporte"],
    "503": ["NumeroGuia", "TipoGuia"], "504": ["NumContenedor", "TipoContenedor"],
    "508": ["InstitucionEmisora", "NumeroCuenta", "FolioConstancia", "FechaConstancia", "TipoCuenta",
            "ClaveGarantia", "ValorUnitarioTitulo", "TotalGarantia", "CantidadUnidades", "TitulosAsignados"],
    "511": ["SecuenciaObservacion", "Observaciones", "TipoPedimento"],
    "512": ["PatenteAduanalOrig", "PedimentoOriginal", "SeccionAduaneraDespOrig", "DocumentoOriginal",
            "FechaOperacionOrig", "FraccionOriginal", "UnidadMedida", "MercanciaDescargada", "TipoPedimento"],
    "520": ["IndentFiscalDestinatario", "NombreDestinatarioMercancia", "CalleDestinatario",
            "NumInteriorDestinatario", "NumExteriorDestinatario", "CpDestinatario", "MunicpioDestinatario",
            "PaisDestinatario"],
    "552": ["Fraccion", "SecuenciaFraccion", "NumeroSerie", "KilometrajeVehiculo"],
    "553": ["Fraccion", "SecuenciaFraccion", "ClavePermiso", "FirmaDescargo", "NumeroPermiso",
            "ValorComercialDolares", "CantidadMercanciaUMT"],
    "555": ["Fraccion", "SecuenciaFraccion", "InstitucionEmisor", "NumeroCuenta", "FolioConstancia",
            "FechaConstancia", "ClaveGarantia", "ValorUnitarioTitulo", "TotalGarantia", "CantidadUnidades",
            "TitulosAsignados"],
    "558": ["Fraccion", "SecuenciaFraccion", "SecuenciaObservacion", "Observaciones"],
    "701": ["ClaveDocumento", "FechaPago", "PedimentoAnterior", "PatenteAnterior", "SeccionAnterior",
            "ClaveDocumentoAnterior", "FechaOperacionAnterior", "PedimentoOriginal", "PatenteOriginal",
            "SeccionOriginal"],
    "702": ["ClaveContribucion", "FormaPago", "ImportePago", "TipoPedimento"],
}


def datastage_rows(p: Pedimento) -> dict[str, list[str]]:
    """The Data Stage rows (without header) of one pedimento, per record type; dates as SAT writes them."""
    paid = p.payment_date.strftime("%Y-%m-%d") + " 17:48:15"
    key = [p.patente, p.number, p.aduana]
    rows: dict[str, list[list[str]]] = {reg: [] for reg in DATASTAGE_HEADERS}
    rows["501"].append(key + [
        p.operation_type, p.clave, p.aduana_entry or p.aduana, "", p.rfc, "", _fmt(p.exchange_rate, 5), str(p.freight),
        str(p.insurance), "0", "0", "", _fmt(p.gross_weight, 3), *p.transport, p.destination, p.name, "AV INDUSTRIA",
        "", "100", "66600", "APODACA", "NLE", "MEX", "1", p.payment_date.strftime("%Y-%m-%d") + " 17:40:22", paid])
    for inv in p.invoices:
        rows["505"].append(key + [
            inv.date.strftime("%Y-%m-%d") + " 00:00:00", inv.number, inv.incoterm, inv.currency, _fmt(inv.value_usd, 2),
            _fmt(inv.value_currency if inv.value_currency is not None else inv.value_usd, 2), inv.country, "",
            inv.supplier_tax_id, inv.supplier_name, inv.street, "", inv.exterior, inv.postal_code, inv.municipality,
            paid])
    if p.entry_date:
        rows["506"].append(key + ["1", p.entry_date.strftime("%Y-%m-%d") + " 00:00:00", paid])
    rows["506"].append(key + ["2", p.payment_date.strftime("%Y-%m-%d") + " 00:00:00", paid])
    for code, c1, c2, _c3 in p.identifiers:
        rows["507"].append(key + [code, c1, "1", c2, paid])
    for code, rate, kind in p.rates:
        rows["509"].append(key + [code, rate, kind, "1", paid])
    for code, form, amount in p.contributions:
        rows["510"].append(key + [code, form, str(amount), "1", paid])
    for number, part in enumerate(p.partidas, start=1):
        commercial = p.commercial(part)
        customs = part.customs_value if part.customs_value is not None else commercial
        price = part.unit_price if part.unit_price is not None else Decimal(commercial) / part.umc_quantity
        umt_qty = part.umt_quantity if part.umt_quantity is not None else part.umc_quantity
        pkey = key + [part.fraccion, str(number)]
        rows["551"].append(pkey[:3] + [part.fraccion, str(number), part.nico, part.description, _fmt(price, 5),
                                       str(customs), str(commercial), _fmt(part.value_usd, 2),
                                       _fmt(part.umc_quantity, 3), part.umc, _fmt(umt_qty, 5), part.umt,
                                       str(part.value_added), part.vinculacion, part.valuation_method,
                                       part.product_code, "", "", part.country_origin, part.country_seller, "", "",
                                       "", "", p.operation_type, p.clave, paid])
        for code, c1, c2, _c3 in part.identifiers:
            rows["554"].append(pkey + [code, c1, c2, paid])
        for code, rate, kind in part.rates:
            rows["556"].append(pkey + [code, rate, kind, paid])
        for code, form, amount in part.contributions:
            rows["557"].append(pkey + [code, form, str(amount), paid])
    return {reg: ["|".join(r) + "|" for r in found] for reg, found in rows.items()}


def datastage_files(pedimentos: list[Pedimento], folio: str = "1839483", complete: bool = False) -> dict[str, bytes]:
    """``{<folio>_<reg>.asc: bytes}`` with CRLF and trailing pipes, as SAT delivers them; ``complete`` adds the
    record files these pedimentos have no rows for (header only), as in SAT's 26-file set."""
    from gateway.kinds.pedimento.datastage import FULL_SET

    lines: dict[str, list[str]] = {reg: ["|".join(header)] for reg, header in DATASTAGE_HEADERS.items()}
    if complete:
        for reg in (r for r in FULL_SET if r not in lines):
            lines.setdefault(reg, ["|".join(["Patente", "Pedimento", "SeccionAduanera", *_OTHER_COLUMNS[reg],
                                             "FechaPagoReal"])])
    for p in pedimentos:
        for reg, rows in datastage_rows(p).items():
            lines[reg].extend(rows)
    return {f"{folio}_{reg}.asc": ("\r\n".join(rows) + "\r\n").encode("utf-8") for reg, rows in lines.items()}


def datastage_zip(pedimentos: list[Pedimento], folio: str = "1839483") -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in datastage_files(pedimentos, folio).items():
            archive.writestr(name, data)
    return buffer.getvalue()
