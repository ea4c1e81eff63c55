"""The XDOC checks: a pedimento against the COVEs and CFDIs its invoices (505) declare.

Rows of the consistency table in reference/pedimento-cove.md §7. Each disagreement is one finding that
names both documents, both values and the difference; it is given to every document it names, so the
queue shows it on each. Amounts are ``Decimal``; tolerances come from ``[correlation]`` in the config.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from gateway.config import Tolerances
from gateway.correlation import views
from gateway.correlation.views import Invoice, Pedimento, number_or_none, same_name, same_tax_id, unit_code
from gateway.findings import Finding, error, warning
from gateway.kinds.cove.normalise import invoice_key

_OPERATION = {"1": "TOCE.IMP", "2": "TOCE.EXP"}
_OPERATION_WORDS = {"1": "importación", "2": "exportación"}


@dataclass
class Member:
    id: str
    kind: str
    record: dict[str, Any]


@dataclass
class Verdict:
    findings: dict[str, list[Finding]] = field(default_factory=lambda: defaultdict(list))
    #: document id -> (other id, other kind, role, key)
    links: dict[str, set[tuple[str, str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    #: document id -> its record completed by the group (a RecibirCove request gets its e-document)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, finding: Finding, *members: Member | None) -> None:
        for member in members:
            if member is not None and finding not in self.findings[member.id]:
                self.findings[member.id].append(finding)

    def link(self, a: Member, b: Member, role_of_b: str, role_of_a: str, key: str) -> None:
        self.links[a.id].add((b.id, b.kind, role_of_b, key))
        self.links[b.id].add((a.id, a.kind, role_of_a, key))


@dataclass
class Cove:
    """A COVE's content and the documents that make it: a ConsultarEdocument answer, or request + answer."""

    e_document: str
    record: dict[str, Any]
    content: Member
    answer: Member | None = None

    @property
    def documents(self) -> tuple[Member, ...]:
        return (self.content,) if self.answer is None else (self.content, self.answer)


def check_group(members: list[Member], tolerances: Tolerances) -> Verdict:
    verdict = Verdict()
    coves = _coves(members, verdict)
    cfdis = {m.record.get("uuid"): m for m in members if m.kind == "cfdi" and m.record.get("uuid")}
    for member in members:
        if member.kind != "pedimento":
            continue
        ped = views.pedimento(member.record)
        declared: list[tuple[Invoice, Cove]] = []
        exports: list[tuple[Invoice, Member]] = []
        for inv in ped.invoices:
            number = inv.number or ""  # "" is no key: an invoice without a number declares nothing
            if inv.document_type == "cove" and number in coves:
                cove = coves[number]
                for doc in cove.documents:
                    verdict.link(member, doc, "cove", "declared-in", number)
                _check_cove(verdict, member, ped, inv, cove, tolerances)
                declared.append((inv, cove))
            elif inv.document_type == "cfdi" and number in cfdis:
                cfdi = cfdis[number]
                verdict.link(member, cfdi, "cfdi", "declared-in", number)
                _check_cfdi(verdict, member, ped, inv, cfdi, tolerances)
                exports.append((inv, cfdi))
        complete = len(declared) + len(exports) == len(ped.invoices)
        if declared and complete:
            _usd_totals(verdict, member, ped, declared, tolerances)
        if exports and complete:
            _fracciones(verdict, member, ped, exports, tolerances)
    return verdict


def _coves(members: list[Member], verdict: Verdict) -> dict[str, Cove]:
    """COVE content by e-document; a RecibirCove request is completed with the number its answer gave it."""
    coves: dict[str, Cove] = {}
    requests = {invoice_key(m.record.get("numero_factura")): m for m in members
                if m.kind == "cove" and m.record.get("origen") == "recibir-cove"}
    for m in members:
        if m.kind != "cove":
            continue
        if m.record.get("document") == "cove" and m.record.get("e_document"):
            coves.setdefault(m.record["e_document"], Cove(m.record["e_document"], m.record, m))
        if m.record.get("document") != "respuesta-cove":
            continue
        for answer in m.record.get("respuestas") or []:
            request = requests.get(invoice_key(answer["numero_factura"]))
            if answer["contiene_error"] or not answer.get("e_document") or request is None:
                continue
            verdict.link(request, m, "respuesta-cove", "solicitud-cove",
                         cast(str, invoice_key(answer["numero_factura"])))  # the key its request was found by
            record = dict(request.record, e_document=answer["e_document"], numero_adenda=answer.get("numero_adenda"),
                          numero_operacion=m.record.get("numero_operacion"))
            verdict.records[request.id] = record
            for ident in filter(None, (answer["e_document"], answer.get("numero_adenda"))):
                coves[ident] = Cove(answer["e_document"], record, request, m)
    return coves


def _where(ped: Pedimento, inv: Invoice, field_: str, **extra: Any) -> dict[str, Any]:
    return {"pedimento": ped.label, "record": "505", "invoice": inv.index, "field": field_, **extra}


def _check_cove(v: Verdict, p: Member, ped: Pedimento, inv: Invoice, cove: Cove, tol: Tolerances) -> None:
    c = cove.record
    docs = cove.documents
    who = f"Pedimento {ped.label} (505 factura {inv.index}) y COVE {cove.e_document}"
    expected = _OPERATION.get(ped.operation_type or "")
    if expected and c.get("tipo_operacion") != expected:
        v.add(error("XDOC-COVE-OPERATION", f"{who}: el pedimento es de {_OPERATION_WORDS[ped.operation_type or '']} "
                    f"(501.5 = {ped.operation_type}) y el COVE dice {c.get('tipo_operacion')}.",
                    **_where(ped, inv, "501.5", cove=cove.e_document)), p, *docs)
    if inv.date and c.get("fecha_expedicion") and inv.date[:10] != c["fecha_expedicion"]:
        v.add(error("XDOC-COVE-INVOICE", f"{who}: fecha de la factura en el pedimento (505.3) {inv.date[:10]}, "
                    f"en el COVE (fechaExpedicion) {c['fecha_expedicion']}.",
                    **_where(ped, inv, "505.3", cove=cove.e_document)), p, *docs)
    importing = ped.operation_type != "2"
    holder, counterpart = (c.get("destinatario"), c.get("emisor")) if importing else (c.get("emisor"),
                                                                                       c.get("destinatario"))
    holder, counterpart = holder or {}, counterpart or {}
    holder_role = "destinatario" if importing else "emisor"
    if ped.rfc and not same_tax_id(ped.rfc, holder.get("identificacion")):
        v.add(error("XDOC-COVE-PARTY", f"{who}: RFC del {'importador' if importing else 'exportador'} en el pedimento "
                    f"(501.9) {ped.rfc}, identificación del {holder_role} en el COVE {holder.get('identificacion')}.",
                    **_where(ped, inv, "501.9", cove=cove.e_document)), p, *docs)
    other = "proveedor" if importing else "comprador"
    if inv.supplier_tax_id and not same_tax_id(inv.supplier_tax_id, counterpart.get("identificacion")):
        v.add(error("XDOC-COVE-PARTY", f"{who}: identificación fiscal del {other} en el pedimento (505.11) "
                    f"{inv.supplier_tax_id}, en el COVE {counterpart.get('identificacion')}.",
                    **_where(ped, inv, "505.11", cove=cove.e_document)), p, *docs)
    if inv.supplier_name and not same_name(inv.supplier_name, counterpart.get("nombre")):
        v.add(error("XDOC-COVE-PARTY", f"{who}: nombre del {other} en el pedimento (505.12) '{inv.supplier_name}', "
                    f"en el COVE '{counterpart.get('nombre')}'.",
                    **_where(ped, inv, "505.12", cove=cove.e_document)), p, *docs)
    patentes = c.get("patentes") or []
    if ped.patente and ped.patente not in patentes:
        v.add(error("XDOC-COVE-PATENTE", f"{who}: la patente del pedimento {ped.patente} no está entre las "
                    f"autorizadas en el COVE ({', '.join(patentes) or 'ninguna'}).",
                    **_where(ped, inv, "500.3", cove=cove.e_document)), p, *docs)
    lines = c.get("mercancias") or []
    currencies = sorted({m.get("tipo_moneda") for m in lines if m.get("tipo_moneda")})
    if inv.currency and currencies and currencies != [inv.currency]:
        v.add(error("XDOC-COVE-CURRENCY", f"{who}: moneda de la factura en el pedimento (505.6) {inv.currency}, en "
                    f"el COVE {', '.join(currencies)}.", **_where(ped, inv, "505.6", cove=cove.e_document)), p, *docs)
    allowed = tol.value * max(1, len(lines))
    for field_, label, declared, key, tag in (
            ("505.8", "valor en moneda de la factura", inv.value_currency, "valor_total", "valorTotal"),
            ("505.7", "valor en dólares", inv.value_usd, "valor_dolares", "valorDolares")):
        total = sum((number_or_none(m.get(key)) or Decimal(0) for m in lines), Decimal(0))
        if declared is not None and abs(declared - total) > allowed:
            v.add(error("XDOC-COVE-VALUE", f"{who}: {label} en el pedimento ({field_}) {declared}, suma de {tag} del "
                        f"COVE {total}: diferencia {declared - total} (tolerancia {allowed}).",
                        **_where(ped, inv, field_, cove=cove.e_document)), p, *docs)


def _usd_totals(v: Verdict, p: Member, ped: Pedimento, declared: list[tuple[Invoice, Cove]], tol: Tolerances) -> None:
    """Row 10: Σ partida USD (551.10) against Σ COVE USD over every invoice of the pedimento."""
    partidas = sum((x.value_usd or Decimal(0) for x in ped.partidas), Decimal(0))
    coves = sum((number_or_none(m.get("valor_dolares")) or Decimal(0)
                 for _, cove in declared for m in cove.record.get("mercancias") or []), Decimal(0))
    allowed = tol.value * (len(ped.partidas) + len(declared))
    if abs(partidas - coves) > allowed:
        names = ", ".join(sorted({cove.e_document for _, cove in declared}))
        docs = [d for _, cove in declared for d in cove.documents]
        v.add(error("XDOC-COVE-VALUE", f"Pedimento {ped.label} y COVE {names}: suma del valor en dólares de las "
                    f"partidas (551.10) {partidas}, suma de valorDolares de los COVE {coves}: diferencia "
                    f"{partidas - coves} (tolerancia {allowed}).",
                    pedimento=ped.label, record="551", field="551.10"), p, *docs)


def _check_cfdi(v: Verdict, p: Member, ped: Pedimento, inv: Invoice, cfdi: Member, tol: Tolerances) -> None:
    r = cfdi.record
    who = f"Pedimento {ped.label} (505 factura {inv.index}) y CFDI {r.get('uuid')}"
    where = {"cfdi": r.get("uuid")}
    emisor = (r.get("emisor") or {}).get("rfc")
    if ped.rfc and not same_tax_id(ped.rfc, emisor):
        v.add(error("XDOC-CFDI-PARTY", f"{who}: RFC del exportador en el pedimento (501.9) {ped.rfc}, RFC del emisor "
                    f"del CFDI {emisor}.", **_where(ped, inv, "501.9", **where)), p, cfdi)
    cce = r.get("comercio_exterior")
    if cce is None:
        v.add(error("XDOC-CFDI-VALUE", f"{who}: el pedimento declara el CFDI en lugar de un COVE, pero el CFDI no "
                    "tiene complemento de Comercio Exterior.", **_where(ped, inv, "505.4", **where)), p, cfdi)
        return
    if inv.currency and r.get("moneda") and inv.currency != r["moneda"]:
        v.add(error("XDOC-CFDI-VALUE", f"{who}: moneda en el pedimento (505.6) {inv.currency}, Moneda del CFDI "
                    f"{r['moneda']}.", **_where(ped, inv, "505.6", **where)), p, cfdi)
    total_usd = number_or_none(cce.get("total_usd"))
    allowed = tol.value * max(1, len(cce.get("mercancias") or []))
    if inv.value_usd is not None and total_usd is not None and abs(inv.value_usd - total_usd) > allowed:
        v.add(error("XDOC-CFDI-VALUE", f"{who}: valor en dólares en el pedimento (505.7) {inv.value_usd}, TotalUSD "
                    f"del Comercio Exterior {total_usd}: diferencia {inv.value_usd - total_usd} (tolerancia "
                    f"{allowed}).", **_where(ped, inv, "505.7", **where)), p, cfdi)
    if inv.incoterm and cce.get("incoterm") and inv.incoterm.upper() != cce["incoterm"].upper():
        v.add(error("XDOC-CFDI-INCOTERM", f"{who}: INCOTERM en el pedimento (505.5) {inv.incoterm}, Incoterm del "
                    f"Comercio Exterior {cce['incoterm']}.", **_where(ped, inv, "505.5", **where)), p, cfdi)
    rate = number_or_none(cce.get("tipo_cambio_usd"))
    if rate and ped.exchange_rate:
        difference = abs(rate - ped.exchange_rate) / ped.exchange_rate * 100
        if difference > tol.fx_percent:
            v.add(warning("XDOC-FX", f"{who}: tipo de cambio del pedimento (501.11) {ped.exchange_rate}, "
                          f"TipoCambioUSD del Comercio Exterior {rate}: difieren {difference.quantize(Decimal('0.01'))}"
                          f" % (tolerancia {tol.fx_percent} %).", **_where(ped, inv, "501.11", **where)), p, cfdi)


def _fracciones(v: Verdict, p: Member, ped: Pedimento, exports: list[tuple[Invoice, Member]], tol: Tolerances) -> None:
    """Rows 14–15: every CCE fracción is a partida's, and CantidadAduana per fracción equals the partidas' UMT."""
    partidas: dict[str, list] = defaultdict(list)
    for x in ped.partidas:
        for code in filter(None, {x.tariff_code, x.fraccion}):
            partidas[code].append(x)
    goods: dict[str, list[tuple[Member, dict[str, Any]]]] = defaultdict(list)
    for _, cfdi in exports:
        for m in (cfdi.record.get("comercio_exterior") or {}).get("mercancias") or []:
            if m.get("fraccion_arancelaria"):
                goods[m["fraccion_arancelaria"]].append((cfdi, m))
    for fraccion in sorted(goods):
        docs = list({c.id: c for c, _ in goods[fraccion]}.values())
        uuids = ", ".join(sorted(c.record.get("uuid") or "" for c in docs))
        who = f"Pedimento {ped.label} y CFDI {uuids}"
        matched = partidas.get(fraccion, [])
        if not matched:
            known = ", ".join(sorted({x.tariff_code or x.fraccion or "" for x in ped.partidas}))
            v.add(error("XDOC-CFDI-FRACCION", f"{who}: la fracción {fraccion} del Comercio Exterior no está en ninguna "
                        f"partida del pedimento (fracciones declaradas: {known}).",
                        pedimento=ped.label, record="551", field="551.3", fraccion=fraccion), p, *docs)
            continue
        declared = sum((x.umt_quantity or Decimal(0) for x in matched), Decimal(0))
        invoiced = sum((number_or_none(m.get("cantidad_aduana")) or Decimal(0) for _, m in goods[fraccion]),
                       Decimal(0))
        numbers = ", ".join(x.number for x in matched)
        if abs(declared - invoiced) > tol.quantity:
            v.add(error("XDOC-CFDI-QTY", f"{who}: fracción {fraccion}, cantidad en UMT de la(s) partida(s) {numbers} "
                        f"(551.13) {declared}, suma de CantidadAduana del Comercio Exterior {invoiced}: diferencia "
                        f"{declared - invoiced}.", pedimento=ped.label, record="551", field="551.13",
                        fraccion=fraccion), p, *docs)
        units = {u for _, m in goods[fraccion] if (u := unit_code(m.get("unidad_aduana"))) is not None}
        umts = {u for x in matched if (u := unit_code(x.umt)) is not None}
        if units and umts and units != umts:
            v.add(error("XDOC-CFDI-QTY", f"{who}: fracción {fraccion}, UMT de la(s) partida(s) {numbers} (551.14) "
                        f"{', '.join(sorted(umts))}, UnidadAduana del Comercio Exterior {', '.join(sorted(units))}.",
                        pedimento=ped.label, record="551", field="551.14", fraccion=fraccion), p, *docs)
