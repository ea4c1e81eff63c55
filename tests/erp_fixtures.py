"""ERP test helpers: a workspace with one folder source per ERP export shape, and generated XLSX BOMs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "erp"
SCHEMAS = REPO / "docs" / "schema"

#: (source name, mapping) in intake order: the material master first, as a plant would schedule it
SOURCES = (("materials", "sap-materials"), ("bom", "bom-xlsx"), ("shipments", "shipments-xml"),
           ("receipts", "receipts-csv"))

BOM_HEADER = ("Parent Part", "Rev", "Effective", "Expires", "Component", "Qty Per", "UOM", "Scrap %", "Waste %")
BOM_ROWS = (
    ("FG-1000", "B", datetime(2026, 1, 1), None, "RM-1001", 0.85, "KG", 2.5, 1),
    ("FG-1000", "B", datetime(2026, 1, 1), None, "RM-1002", 4, "EA", 0, 0),
    ("FG-1000", "B", datetime(2026, 1, 1), None, "RM-1003", 8, "EA", 1.5, 0),
    ("FG-1000", "B", datetime(2026, 1, 1), None, "PK-2001", 0.05, "EA", None, None),
    ("FG-1001", "A", "03/15/2026", "12/31/2026", "RM-1001", 0.9, "KG", 2.5, 1),
    ("FG-1001", "A", "03/15/2026", "12/31/2026", "RM-1002", 4, "EA", 0, 0),
)


def write_bom_xlsx(path: Path, rows: tuple[tuple[Any, ...], ...] = BOM_ROWS, sheet: str = "BOM") -> Path:
    """An XLSX as BOM reports come: two title rows, the header on row 3, real Excel dates and numbers."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["Indented BOM report — plant MTY1"])
    ws.append(["Printed 2026-11-20 18:00"])
    ws.append(list(BOM_HEADER))
    for row in rows:
        ws.append(list(row))
    book.create_sheet("Notes").append(["exported by ERP"])
    book.save(path)
    return path


@dataclass
class ErpWorkspace:
    root: Path
    config: Path

    def inbox(self, source: str) -> Path:
        return self.root / "inbox" / source

    def gateway(self):  # noqa: ANN201
        from gateway.app import Gateway
        from gateway.config import load

        return Gateway(load(self.config), actor="test")

    def run(self) -> None:
        from gateway import runner

        gw = self.gateway()
        try:
            runner.run_once(gw, drain_timeout=5)
        finally:
            gw.close()

    def forwarded(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.root / "outbox" / kind).glob("*.json"))]

    def rows(self, kind: str) -> list[dict[str, Any]]:
        return sorted((row for out in self.forwarded(kind) for row in out["record"]["rows"]), key=lambda r: r["row"])


def write_erp_config(root: Path, mapping_dir: Path | None = None, extra: str = "") -> Path:
    sources = "".join(f"""
[[source]]
name = "erp-{name}"
type = "folder"
path = "inbox/{name}"
kind = "erp:{mapping}"
stable_time = "0s"
""" for name, mapping in SOURCES) + extra
    mappings = f'\n[erp]\nmapping_dirs = ["{mapping_dir}"]\n' if mapping_dir else ""
    config = root / "gateway.toml"
    config.write_text(f"""
[gateway]
data_dir = "var"

[logging]
level = "warning"
format = "json"
{mappings}
{sources}
[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
""", encoding="utf-8")
    for name, _ in SOURCES:
        (root / "inbox" / name).mkdir(parents=True, exist_ok=True)
    return config
