"""Helpers for the correlation tests: a workspace that holds COVEs and export CFDIs, direct delivery, groups."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from gateway import intake, outbox, pipeline
from gateway.app import Gateway
from gateway.config import load
from gateway.demo import scenario
from gateway.demo.generate import pedimento as ped_gen
from gateway.store.base import now

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
    from gateway.demo.generate.cfdi import write_certificate

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


ImportGroup = scenario.ImportGroup
import_group = scenario.import_with_two_coves


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
