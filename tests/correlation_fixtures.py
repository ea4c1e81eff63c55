"""Helpers for the correlation tests: a workspace that holds COVEs and export CFDIs, direct delivery, groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gateway import intake, outbox, pipeline
from gateway.app import Gateway
from gateway.config import load
from gateway.kinds.cove import generate as cove_gen
from gateway.kinds.pedimento import generate as ped_gen
from gateway.store.base import now
from gateway.xdoc import scenario

CONFIG = """
[gateway]
data_dir = "var"
company_rfc = "EKU9003173C9"
immex_program = "1234-2006"
correlation_timeout = "{timeout}"
poll_interval = "0.2s"

[validation]
certificate_dirs = ["certs"]

[correlation]
on_timeout = "{policy}"
hold = ["cove", "cfdi"]

[logging]
level = "warning"
format = "json"

[[source]]
name = "broker-drop"
type = "folder"
path = "inbox"
stable_time = "0.1s"

[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
"""


def write_workspace(root: Path, pac: object = None, timeout: str = "72h", policy: str = "reject") -> Path:
    from gateway.kinds.cfdi.generate import write_certificate

    (root / "inbox").mkdir(parents=True, exist_ok=True)
    if pac is not None:
        write_certificate(pac, root / "certs")
    config = root / "gateway.toml"
    config.write_text(CONFIG.format(timeout=timeout, policy=policy), encoding="utf-8")
    return config


def open_gateway(config: Path) -> Gateway:
    return Gateway(load(config), actor="test")


def deliver(gw: Gateway, name: str, data: bytes) -> str:
    """Take one file as a source would (archive, row, acknowledge), process it, deliver what is ready."""
    sha256, size = gw.archive.put_bytes(data)
    with gw.store.transaction():
        document_id = intake.record(gw, "broker-drop", name, sha256, size, "auto")
        gw.store.update_fields(document_id, source_acked_at=now())
    pipeline.process_pending(gw)
    outbox.deliver_due(gw)
    return document_id


def by_key(gw: Gateway) -> dict[str, object]:
    """Documents by business key; a replaced document gives way to its (newer) replacement."""
    return {d.business_key: d for d in reversed(gw.store.list_documents()) if d.business_key}


@dataclass
class ImportGroup:
    """An IN pedimento declaring two COVEs: one from ConsultarEdocument, one as RecibirCove request + answer."""

    files: dict[str, bytes]
    pedimento_key: str


def import_group(defect: str | None = None, seq: int = 1, day: date | None = None) -> ImportGroup:
    day = day or (date.today().replace(day=1) - timedelta(days=20))
    emisor = cove_gen.persona("0", "74-1234567", "ACME WIRING SYSTEMS INC", {"calle": "MAIN STREET", "pais": "USA"})
    destinatario = cove_gen.persona("1", scenario.COMPANY_RFC, scenario.COMPANY_NAME, scenario.COMPANY_ADDRESS)
    files: dict[str, bytes] = {}
    invoices, partidas = [], []
    for k, (text, fraccion, qty, price) in enumerate((("ARNES ELECTRICO", "85443099", 40, "25.00"),
                                                       ("TORNILLO HEXAGONAL M8", "73181599", 900, "0.50"))):
        e_document = f"COVE26{seq:05d}{k:02d}"
        line = cove_gen.line(text, Decimal(qty), Decimal(price))
        record = cove_gen.cove_record(e_document, f"INV-{seq}-{k}", day, emisor, destinatario, [line],
                                      patentes=(scenario.PATENTE,), rfcs_consulta=(scenario.COMPANY_RFC,))
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
    ped = scenario.consistent_pedimento(seq, "IN", "1", day, invoices, partidas)
    name, data = ped_gen.mfile([ped], ped_gen.file_name(scenario.PATENTE, seq))
    files[name] = data
    return ImportGroup(files, scenario.pedimento_key(ped))


def later(hours: float = 100) -> datetime:
    from datetime import UTC

    return datetime.now(UTC) + timedelta(hours=hours)


def export_group(make_invoice, defect: str | None = None, seq: int = 2) -> ImportGroup:
    """An A1 pedimento declaring two export CFDIs (UUIDs in 505.4)."""
    day = date.today().replace(day=1) - timedelta(days=20)
    files: dict[str, bytes] = {}
    invoices, partidas = [], []
    for k in range(2):
        data = make_invoice(9000 + seq * 10 + k, n_items=2, mutate=scenario.set_exchange_rate(scenario.RATE))
        invoice, parts, uuid = scenario.export_declaration(data, day)
        if defect == "cantidad" and k == 0:
            parts[0].umt_quantity = parts[0].umc_quantity + 1
        invoices.append(invoice)
        partidas.extend(parts)
        files[f"factura-{k}.xml"] = data
    ped = scenario.consistent_pedimento(seq, "A1", "2", day, invoices, partidas)
    name, data = ped_gen.mfile([ped], ped_gen.file_name(scenario.PATENTE, seq))
    files[name] = data
    return ImportGroup(files, scenario.pedimento_key(ped))
