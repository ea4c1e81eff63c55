"""A month of one IMMEX plant's foreign trade, with a few planted inconsistencies, for demo, tests and benchmark.

Imports (clave IN) declare the COVEs of their suppliers' invoices; some COVEs arrive as VUCEM's
ConsultarEdocument answer, others as the RecibirCove request the broker signed plus the
ConsultarRespuestaCove answer that numbered it. Returns (RT) declare an export COVE; definitive exports
(A1) declare the UUID of their CFDI with Comercio Exterior. Pedimentos come in the broker's daily M
files; everything is delivered in a shuffled order. Each :class:`Group` says what the gateway must
conclude: forwarded, or rejected with which codes. Every value is deterministic in ``seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from gateway.demo.generate import cove as cove_gen
from gateway.demo.generate import pedimento as ped_gen
from gateway.demo.generate.cfdi import Identity, export_invoice, make_identity
from gateway.kinds.cfdi.normalise import normalise as normalise_cfdi

COMPANY_RFC = ped_gen.COMPANY_RFC
COMPANY_NAME = "MAQUILADORA EJEMPLO SA DE CV"
PROGRAM = ped_gen.IMMEX_PROGRAM
PATENTE = "3456"
ADUANA = "240"
RATE = Decimal("17.12340")
CFDI_NS = "{http://www.sat.gob.mx/cfd/4}"
CCE_NS = "{http://www.sat.gob.mx/ComercioExterior20}"

SUPPLIERS = (  # (tax id, name, currency, USD per unit of currency, address)
    ("74-1234567", "ACME WIRING SYSTEMS INC", "USD", Decimal("1"),
     {"calle": "MAIN STREET", "numero_exterior": "500", "municipio": "LAREDO", "entidad_federativa": "TX",
      "pais": "USA", "codigo_postal": "78045"}),
    ("01947980015", "RMA S.R.L.", "EUR", Decimal("1.1052"),
     {"calle": "VIA CAVALLO", "numero_exterior": "18", "colonia": "STABILIMENTO VENARIA", "pais": "ITA",
      "codigo_postal": "10078"}),
    ("95-7654321", "PACIFIC CONNECTORS LLC", "USD", Decimal("1"),
     {"calle": "OTAY MESA RD", "numero_exterior": "2250", "municipio": "SAN DIEGO", "entidad_federativa": "CA",
      "pais": "USA", "codigo_postal": "92154"}),
)
BUYER = ("98-1122334", "ACME AUTOMOTIVE HARNESS LLC",
         {"calle": "MINES RD", "numero_exterior": "8200", "municipio": "LAREDO", "entidad_federativa": "TX",
          "pais": "USA", "codigo_postal": "78045"})
COMPANY_ADDRESS = {"calle": "AV INDUSTRIA", "numero_exterior": "100", "colonia": "PARQUE INDUSTRIAL",
                   "municipio": "APODACA", "entidad_federativa": "NUEVO LEON", "pais": "MEX", "codigo_postal": "66600"}

#: planted defect -> the codes the gateway must find (errors reject the group; XDOC-FX is a warning)
PLANTED: dict[str, set[str]] = {
    "valor": {"XDOC-COVE-VALUE"}, "fecha": {"XDOC-COVE-INVOICE"}, "proveedor": {"XDOC-COVE-PARTY"},
    "patente": {"XDOC-COVE-PATENTE"}, "moneda": {"XDOC-COVE-CURRENCY"}, "operacion": {"XDOC-COVE-OPERATION"},
    "cove-faltante": {"XDOC-COVE-MISSING"}, "comprador": {"XDOC-COVE-PARTY"},
    "totalusd": {"XDOC-CFDI-VALUE"}, "fraccion": {"XDOC-CFDI-FRACCION"}, "cantidad": {"XDOC-CFDI-QTY"},
    "tipo-cambio": {"XDOC-FX"}, "incoterm": {"XDOC-CFDI-INCOTERM"}, "exportador": {"XDOC-CFDI-PARTY"},
    "cfdi-faltante": {"XDOC-CFDI-MISSING"}, "noidentificacion": {"CCE-NOIDENTIFICACION", "XDOC-CFDI-MISSING"},
}
IMPORT_DEFECTS = ("valor", "fecha", "proveedor", "patente", "moneda", "operacion", "cove-faltante")
RETURN_DEFECTS = ("comprador",)
EXPORT_DEFECTS = ("totalusd", "fraccion", "cantidad", "tipo-cambio", "incoterm", "exportador", "cfdi-faltante",
                  "noidentificacion")


@dataclass
class Group:
    """A pedimento and its counterparts, and the verdict the gateway must reach."""

    label: str
    clave: str
    pedimento_key: str  # the pedimento document's business key
    members: list[str]  # business keys of the counterparts that are delivered (COVE ids, "factura …", UUIDs)
    planted: str | None = None
    #: file name of a counterpart -> codes that reject it at validation (it never joins the group)
    invalid: dict[str, set[str]] = field(default_factory=dict)

    @property
    def expected_codes(self) -> set[str]:
        return PLANTED.get(self.planted, set()) if self.planted else set()

    @property
    def forwarded(self) -> bool:
        return self.planted in (None, "tipo-cambio")

    @property
    def needs_timeout(self) -> bool:
        return self.planted in ("cove-faltante", "cfdi-faltante", "noidentificacion")


@dataclass
class Scenario:
    deliveries: list[tuple[str, bytes]]
    groups: list[Group]


def month(issuer: Identity, pac: Identity, verifier: Any, *, seed: int = 2026, imports: int = 12, returns: int = 4,
          exports: int = 10, start: date | None = None, other_issuer: Identity | None = None) -> Scenario:
    """One month of imports (IN + COVEs), returns (RT + export COVE) and exports (A1 + CFDI), defects planted."""
    rnd = random.Random(seed)
    start = start or (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    if other_issuer is None and exports > EXPORT_DEFECTS.index("exportador"):
        valid_from = issuer.cert.not_valid_before_utc.replace(tzinfo=None)
        valid_to = issuer.cert.not_valid_after_utc.replace(tzinfo=None)
        other_issuer = make_identity("AAA010101AAA", "OTRA EXPORTADORA SA DE CV", "30001000000500009003",
                                     valid_from, valid_to)
    builder = _Builder(rnd, start, issuer, pac, verifier, other_issuer)
    for i in range(imports):
        builder.import_group(IMPORT_DEFECTS[i] if i < len(IMPORT_DEFECTS) else None)
    for i in range(returns):
        builder.return_group(RETURN_DEFECTS[i] if i < len(RETURN_DEFECTS) else None)
    for i in range(exports):
        builder.export_group(EXPORT_DEFECTS[i] if i < len(EXPORT_DEFECTS) else None)
    return builder.finish()


class _Builder:
    def __init__(self, rnd: random.Random, start: date, issuer: Identity, pac: Identity, verifier: Any,
                 other_issuer: Identity | None) -> None:
        self.rnd, self.start, self.issuer, self.pac, self.verifier = rnd, start, issuer, pac, verifier
        self.other_issuer = other_issuer
        self.seq = 0
        self.files: list[tuple[str, bytes]] = []
        self.pedimentos: list[tuple[ped_gen.Pedimento, date]] = []
        self.groups: list[Group] = []

    def _day(self) -> date:
        return self.start + timedelta(days=self.rnd.randrange(27))

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    # imports: IN with COVEs --------------------------------------------------------------------------------

    def import_group(self, defect: str | None) -> None:
        seq = self._next()
        day = self._day()
        invoices, partidas, members, cove_files = [], [], [], []
        for k in range(1 + seq % 3):
            tax_id, name, currency, factor, address = SUPPLIERS[(seq + k) % len(SUPPLIERS)]
            if defect == "moneda" and k == 0:
                currency, factor = "EUR", Decimal("1")
            lines, parts = self._goods(seq * 10 + k, currency, factor)
            e_document = f"COVE{day.year % 100:02d}{seq:05d}{k:02d}"
            fecha = day - timedelta(days=3 + k)
            record = cove_gen.cove_record(
                e_document, f"INV-{seq:04d}-{k + 1}", fecha, cove_gen.persona("0", tax_id, name, address),
                cove_gen.persona("1", COMPANY_RFC, COMPANY_NAME, COMPANY_ADDRESS), lines,
                tipo_operacion="TOCE.EXP" if defect == "operacion" and k == 0 else "TOCE.IMP",
                patentes=("1234",) if defect == "patente" and k == 0 else (PATENTE,), rfcs_consulta=(COMPANY_RFC,))
            usd = sum((Decimal(m["valor_dolares"]) for m in lines), Decimal(0))
            total = sum((Decimal(m["valor_total"]) for m in lines), Decimal(0))
            declared_currency = "USD" if defect == "moneda" and k == 0 else currency
            inv = ped_gen.Invoice(e_document, fecha, usd, total, currency=declared_currency, supplier_tax_id=tax_id,
                                  supplier_name=name, street=address["calle"], exterior=address["numero_exterior"],
                                  postal_code=address.get("codigo_postal") or "", country=address["pais"],
                                  municipality=address.get("municipio") or "")
            if k == 0 and defect == "valor":
                inv.value_usd += Decimal("10.00")
                inv.value_currency = (inv.value_currency or Decimal(0)) + Decimal("10.00")
                parts[0].value_usd += Decimal("10.00")
            if k == 0 and defect == "fecha":
                inv.date = fecha + timedelta(days=1)
            if k == 0 and defect == "proveedor":
                inv.supplier_tax_id = "74-7654321"
            invoices.append(inv)
            partidas.extend(parts)
            if defect == "cove-faltante" and k == 0:
                continue
            if seq % 4 == 3:  # the broker's own RecibirCove request + VUCEM's answer with the number
                request = dict(record, e_document=None, origen="recibir-cove")
                invoice = record["numero_factura"]
                operation = 65100000 + seq * 10 + k
                cove_files.append((f"cove-solicitud-{invoice}.xml", cove_gen.recibir_request([request])))
                cove_files.append((f"cove-respuesta-{operation}.xml",
                                   cove_gen.respuesta(operation, [(invoice, e_document, [])])))
                members += [f"factura {invoice}", f"operación {operation}"]
            else:
                cove_files.append((f"{e_document}.xml", cove_gen.edocument_response(record)))
                members.append(e_document)
        ped = self._pedimento(seq, "IN", "1", day, invoices, partidas)
        self.files.extend(cove_files)
        self.groups.append(Group(f"IN {ped.number}", "IN", _key(ped), members, defect))

    # returns: RT with an export COVE ---------------------------------------------------------------------

    def return_group(self, defect: str | None) -> None:
        seq = self._next()
        day = self._day()
        tax_id, name, address = BUYER
        lines, parts = self._goods(seq * 10, "USD", Decimal(1))
        e_document = f"COVE{day.year % 100:02d}{seq:05d}00"
        record = cove_gen.cove_record(
            e_document, f"EXP-{seq:04d}", day, cove_gen.persona("1", COMPANY_RFC, COMPANY_NAME, COMPANY_ADDRESS),
            cove_gen.persona("0", tax_id, name, address), lines, tipo_operacion="TOCE.EXP", patentes=(PATENTE,),
            rfcs_consulta=(COMPANY_RFC,), tipo_figura="4")
        usd = sum((Decimal(m["valor_dolares"]) for m in lines), Decimal(0))
        inv = ped_gen.Invoice(e_document, day, usd, supplier_tax_id=tax_id,
                              supplier_name="ACME AUTOMOTIVE LLC" if defect == "comprador" else name,
                              street=address["calle"], exterior=address["numero_exterior"],
                              postal_code=address["codigo_postal"], municipality=address["municipio"])
        ped = self._pedimento(seq, "RT", "2", day, [inv], parts)
        self.files.append((f"{e_document}.xml", cove_gen.edocument_response(record)))
        self.groups.append(Group(f"RT {ped.number}", "RT", _key(ped), [e_document], defect))

    # exports: A1 with CFDI + Comercio Exterior ---------------------------------------------------------------

    def export_group(self, defect: str | None) -> None:
        seq = self._next()
        day = self._day()
        invoices, partidas, members, invalid = [], [], [], {}
        for k in range(1 + seq % 2):
            cfdi_seq = 5000 + seq * 10 + k
            issuer = self.other_issuer if defect == "exportador" and k == 0 and self.other_issuer else self.issuer
            mutate = set_exchange_rate(RATE)
            if defect == "noidentificacion" and k == 0:
                mutate = _then(mutate, _bad_noidentificacion)
            when = datetime.combine(day, time(9)) + timedelta(minutes=k)
            data = export_invoice(cfdi_seq, issuer, self.pac, self.verifier, fecha=when, n_items=1 + (seq + k) % 3,
                                  mutate=mutate)
            inv, parts, uuid = export_declaration(data, day)
            cce_incoterm = inv.incoterm
            if defect == "totalusd" and k == 0:
                inv.value_usd += Decimal("5.00")
            if defect == "incoterm" and k == 0:
                inv.incoterm = "DDP" if cce_incoterm != "DDP" else "EXW"
            invoices.append(inv)
            partidas.extend(parts)
            if defect == "totalusd" and k == 0:
                partidas[-1].value_usd += Decimal("5.00")
            if defect == "cfdi-faltante" and k == 0:
                continue
            name = f"factura-{uuid[:8].lower()}.xml"
            self.files.append((name, data))
            if defect == "noidentificacion" and k == 0:
                invalid[name] = {"CCE-NOIDENTIFICACION"}
            else:
                members.append(uuid)
        if defect == "fraccion":
            partidas[0].fraccion, partidas[0].nico = "85444999", "99"
        if defect == "cantidad":
            partidas[0].umt_quantity = partidas[0].umc_quantity + 1
        rate = Decimal("17.90000") if defect == "tipo-cambio" else RATE
        ped = self._pedimento(seq, "A1", "2", day, invoices, partidas, rate=rate)
        self.groups.append(Group(f"A1 {ped.number}", "A1", _key(ped), members, defect, invalid))

    # -------------------------------------------------------------------------------------------------------

    def _goods(self, salt: int, currency: str, factor: Decimal) -> tuple[list[dict], list[ped_gen.Partida]]:
        lines, partidas = [], []
        for j in range(1 + salt % 3):
            fraccion, nico, text, unit, price = ped_gen.PRODUCTS[(salt + j) % len(ped_gen.PRODUCTS)]
            quantity = Decimal(50 + (salt * 37 + j * 113) % 950)
            unit_value = (price / factor).quantize(Decimal("0.0001")) if factor != 1 else price
            line = cove_gen.line(text, quantity, unit_value, factor, currency,
                                 unidad="KGM" if unit == "1" else "C62_1")
            lines.append(line)
            partidas.append(ped_gen.Partida(fraccion, nico, text, Decimal(line["valor_dolares"]), quantity,
                                            umc=unit, umt=unit))
        return lines, partidas

    def _pedimento(self, seq: int, clave: str, operation: str, day: date, invoices: list[ped_gen.Invoice],
                   partidas: list[ped_gen.Partida], rate: Decimal = RATE) -> ped_gen.Pedimento:
        ped = consistent_pedimento(seq, clave, operation, day, invoices, partidas, rate)
        self.pedimentos.append((ped, day))
        return ped

    def finish(self) -> Scenario:
        by_day: dict[date, list[ped_gen.Pedimento]] = {}
        for ped, day in self.pedimentos:
            by_day.setdefault(day, []).append(ped)
        for day, peds in sorted(by_day.items()):
            name = ped_gen.file_name(PATENTE, 1, day.timetuple().tm_yday)
            self.files.append(ped_gen.mfile(peds, name))
        self.rnd.shuffle(self.files)
        return Scenario(self.files, self.groups)


def consistent_pedimento(seq: int, clave: str, operation: str, day: date, invoices: list[ped_gen.Invoice],
                         partidas: list[ped_gen.Partida], rate: Decimal = RATE) -> ped_gen.Pedimento:
    """The plant's pedimento for these invoices and partidas: IMMEX identifier, taxes that add up (PED-TOTALS)."""
    immex = clave in {"IN", "AF", "RT", "V1", "F4"}
    form = "21" if clave in {"IN", "AF"} else "0"
    for part in partidas:
        commercial = int((part.value_usd * rate).quantize(Decimal(1)))
        iva = int((Decimal(commercial) * Decimal("0.16")).quantize(Decimal(1)))
        part.rates = [("3", "16.0000000000", "1"), ("6", "0.0000000000", "1")]
        part.contributions = [("3", form, iva), ("6", "5" if form == "21" else "0", 0)]
        part.identifiers = [("TL", "USA", "", "")]
    iva_total = sum(c[2] for p in partidas for c in p.contributions if c[0] == "3")
    return ped_gen.Pedimento(
        patente=PATENTE, number=f"{day.year % 10}{seq:06d}", aduana=ADUANA, clave=clave, operation_type=operation,
        rfc=COMPANY_RFC, name=COMPANY_NAME, exchange_rate=rate, payment_date=day, entry_date=day,
        invoices=invoices, partidas=partidas, identifiers=[("IM", PROGRAM, "", "")] if immex else [],
        rates=[("1", "8.0000000000", "4")],
        contributions=[("1", "0", 462), ("3", form, iva_total), ("6", "5" if form == "21" else "0", 0)])


def export_declaration(cfdi: bytes, day: date) -> tuple[ped_gen.Invoice, list[ped_gen.Partida], str]:
    """What the broker declares for an export CFDI: its 505 (UUID, TotalUSD, Incoterm) and a partida per mercancía."""
    record = normalise_cfdi(etree.fromstring(cfdi))
    cce = record["comercio_exterior"]
    uuid = record["uuid"]
    invoice = ped_gen.Invoice(uuid, day, Decimal(cce["total_usd"]), incoterm=cce["incoterm"],
                              supplier_tax_id=record["receptor"]["num_reg_id_trib"],
                              supplier_name=record["receptor"]["nombre"])
    descriptions = {c["no_identificacion"]: c["descripcion"] for c in record["conceptos"]}
    partidas = []
    for m in cce["mercancias"]:
        unit = m["unidad_aduana"].lstrip("0") or "0"
        partidas.append(ped_gen.Partida(
            m["fraccion_arancelaria"][:8], m["fraccion_arancelaria"][8:],
            descriptions.get(m["no_identificacion"], "MERCANCIA")[:250], Decimal(m["valor_dolares"]),
            Decimal(m["cantidad_aduana"]), umc=unit, umt=unit))
    return invoice, partidas, uuid


@dataclass
class ImportGroup:
    """An IN pedimento declaring two COVEs: one from ConsultarEdocument, one as RecibirCove request + answer."""

    files: dict[str, bytes]
    pedimento_key: str


def import_with_two_coves(defect: str | None = None, seq: int = 1, day: date | None = None) -> ImportGroup:
    """The smallest group with both COVE forms, for the order tests and the benchmark; ``defect="valor"`` plants one."""
    day = day or (date.today().replace(day=1) - timedelta(days=20))
    emisor = cove_gen.persona("0", "74-1234567", "ACME WIRING SYSTEMS INC", {"calle": "MAIN STREET", "pais": "USA"})
    destinatario = cove_gen.persona("1", COMPANY_RFC, COMPANY_NAME, COMPANY_ADDRESS)
    files: dict[str, bytes] = {}
    invoices, partidas = [], []
    for k, (text, fraccion, qty, price) in enumerate((("ARNES ELECTRICO", "85443099", 40, "25.00"),
                                                       ("TORNILLO HEXAGONAL M8", "73181599", 900, "0.50"))):
        e_document = f"COVE26{seq:05d}{k:02d}"
        line = cove_gen.line(text, Decimal(qty), Decimal(price))
        record = cove_gen.cove_record(e_document, f"INV-{seq}-{k}", day, emisor, destinatario, [line],
                                      patentes=(PATENTE,), rfcs_consulta=(COMPANY_RFC,))
        usd = Decimal(line["valor_dolares"])
        invoice = ped_gen.Invoice(e_document, day, usd, supplier_tax_id="74-1234567",
                                  supplier_name="ACME WIRING SYSTEMS INC")
        partida = ped_gen.Partida(fraccion, "99", text, usd, Decimal(qty))
        if k == 0 and defect == "valor":
            invoice.value_usd += Decimal("10.00")
            partida.value_usd += Decimal("10.00")
        invoices.append(invoice)
        partidas.append(partida)
        if k == 0:
            files[f"{e_document}.xml"] = cove_gen.edocument_response(record)
        else:
            request = dict(record, e_document=None, origen="recibir-cove")
            files["solicitud.xml"] = cove_gen.recibir_request([request])
            files["respuesta.xml"] = cove_gen.respuesta(65100000 + seq, [(record["numero_factura"], e_document, [])])
    ped = consistent_pedimento(seq, "IN", "1", day, invoices, partidas)
    name, data = ped_gen.mfile([ped], ped_gen.file_name(PATENTE, seq))
    files[name] = data
    return ImportGroup(files, pedimento_key(ped))


def pedimento_key(ped: ped_gen.Pedimento) -> str:
    """The business key the pedimento kind gives the document: year-aduana-patente-number."""
    return _key(ped)


def _key(ped: ped_gen.Pedimento) -> str:
    return f"{ped.payment_date.year}-{ped.aduana}-{ped.patente}-{ped.number}"


def set_exchange_rate(rate: Decimal):  # noqa: ANN202 - CFDI mutator: TipoCambio = TipoCambioUSD = rate
    text = str(rate.normalize()) if rate == rate.to_integral() else str(rate).rstrip("0")

    def mutate(root: etree._Element) -> None:
        root.set("TipoCambio", text)
        next(root.iter(f"{CCE_NS}ComercioExterior")).set("TipoCambioUSD", text)

    return mutate


def _bad_noidentificacion(root: etree._Element) -> None:
    mercancia = next(root.iter(f"{CCE_NS}Mercancia"))
    mercancia.set("NoIdentificacion", mercancia.get("NoIdentificacion") + "-X")


def _then(first: Any, second: Any):  # noqa: ANN202 - CFDI mutator
    def mutate(root: etree._Element) -> None:
        first(root)
        second(root)

    return mutate
