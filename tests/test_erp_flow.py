"""ERP exports end to end: folder → mapping → chunks of canonical rows → folder sink, and every ERP rule."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest
from erp_fixtures import DATA, SCHEMAS, ErpWorkspace, write_bom_xlsx, write_erp_config


@pytest.fixture
def erp_workspace(tmp_path) -> ErpWorkspace:
    return ErpWorkspace(tmp_path, write_erp_config(tmp_path))


def _drop_samples(ws: ErpWorkspace) -> None:
    shutil.copy(DATA / "sap-materials.csv", ws.inbox("materials") / "MARA_20261120.csv")
    write_bom_xlsx(ws.inbox("bom") / "bom_FG.xlsx")
    shutil.copy(DATA / "shipments.xml", ws.inbox("shipments") / "shipments_20261120.xml")
    shutil.copy(DATA / "receipts.csv", ws.inbox("receipts") / "entradas_20261120.csv")


def _docs(ws: ErpWorkspace) -> list:
    gw = ws.gateway()
    try:
        return gw.store.list_documents()
    finally:
        gw.close()


def _findings(ws: ErpWorkspace, document_id: str) -> list:
    gw = ws.gateway()
    try:
        return gw.store.findings(document_id)
    finally:
        gw.close()


def test_the_sample_exports_flow_end_to_end(erp_workspace):
    _drop_samples(erp_workspace)
    erp_workspace.run()
    docs = _docs(erp_workspace)
    containers = {d.kind: d for d in docs if d.parent_id is None}
    assert {k: d.state for k, d in containers.items()} == {
        "erp:sap-materials": "split", "erp:bom-xlsx": "split", "erp:shipments-xml": "split",
        "erp:receipts-csv": "split"}
    assert {d.state for d in docs if d.parent_id} == {"forwarded"}

    materials = erp_workspace.rows("erp.materials")
    assert [m["part_number"] for m in materials][:3] == ["RM-1001", "RM-1002", "RM-1003"]
    # Windows-1252 text, decimal comma, thousands dot, fracción+NICO from one dotted code, value maps
    assert materials[0] == {"row": 2, "part_number": "RM-1001", "description": "Kupferdraht 0,5 mm² verzinnt",
                            "material_type": "raw_material", "unit": "KGM", "fraccion": "74081999", "nico": "00",
                            "umt": "1", "umc_umt_factor": "1.000", "country_of_origin": "DEU"}
    by_part = {m["part_number"]: m for m in materials}
    assert by_part["RM-1005"]["umc_umt_factor"] == "1000"
    assert by_part["FG-1000"]["description"] == "Kabelbaum Tür links „Typ A“"
    assert by_part["AS-9001"]["material_type"] == "asset"

    bom = erp_workspace.rows("erp.bom")
    assert bom[0] == {"row": 4, "finished_good": "FG-1000", "revision": "B", "valid_from": "2026-01-01",
                      "valid_to": None, "component": "RM-1001", "quantity_per_unit": "0.85", "unit": "KGM",
                      "scrap_percent": "2.5", "waste_percent": "1"}
    assert bom[-1]["valid_from"] == "2026-03-15" and bom[-1]["valid_to"] == "2026-12-31"

    shipments = erp_workspace.rows("erp.shipments")
    assert [(s["part_number"], s["quantity"], s["ship_date"]) for s in shipments] == [
        ("FG-1000", "1200", "2026-11-19"), ("FG-1001", "800", "2026-11-19"), ("FG-1000", "600", "2026-11-20")]
    assert shipments[0]["pedimento"] == "262434206004811"
    assert shipments[0]["cfdi_uuid"] == "6F1C2B9E-3D4A-4B8E-9C1F-2A3B4C5D6E7F"
    assert shipments[0]["customer"] == "C0042 Acme Automotive Inc."

    receipts = erp_workspace.rows("erp.receipts")
    assert receipts[2]["supplier"] == "Federn Müller GmbH" and receipts[2]["unit"] == "H87"
    assert receipts[2]["invoice_number"] == "RE-2026-4411"  # concat skips the blank Serie
    assert receipts[0]["invoice_number"] == "CAN-10231" and receipts[3]["pedimento"] is None

    for kind in ("erp.materials", "erp.bom", "erp.shipments", "erp.receipts"):
        schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
        for out in erp_workspace.forwarded(kind):
            jsonschema.validate(out["record"], schema)
            assert out["links"][0]["role"] == "part-of"
            # every part number was in the material master received first
            assert [f for f in out["findings"] if f["code"] == "ERP-UNKNOWN-PART"] == []


def test_unknown_part_numbers_are_warned_about(erp_workspace):
    shutil.copy(DATA / "sap-materials.csv", erp_workspace.inbox("materials") / "MARA.csv")
    rows = (("FG-1000", "B", "2026-01-01", None, "RM-1001", 1, "KG", 0, 0),
            ("FG-1000", "B", "2026-01-01", None, "RM-9999", 2, "EA", 0, 0),
            ("FG-1000", "C", "2026-01-01", None, "RM-9999", 3, "EA", 0, 0))
    write_bom_xlsx(erp_workspace.inbox("bom") / "bom.xlsx", rows)
    erp_workspace.run()
    [out] = erp_workspace.forwarded("erp.bom")
    unknown = [f for f in out["findings"] if f["code"] == "ERP-UNKNOWN-PART"]
    assert len(unknown) == 1 and unknown[0]["severity"] == "warning"
    assert "RM-9999" in unknown[0]["message"] and "(2 filas)" in unknown[0]["message"]
    assert unknown[0]["location"] == {"row": 5, "column": "Component"}


def test_without_a_material_master_one_warning_says_so(erp_workspace):
    shutil.copy(DATA / "shipments.xml", erp_workspace.inbox("shipments") / "s.xml")
    erp_workspace.run()
    [out] = erp_workspace.forwarded("erp.shipments")
    assert [f["code"] for f in out["findings"]] == ["ERP-UNKNOWN-PART"]
    assert "maestro de materiales" in out["findings"][0]["message"]


def test_a_bad_row_rejects_a_reject_file_export_whole(erp_workspace):
    text = (DATA / "sap-materials.csv").read_bytes().decode("cp1252")
    text = text.replace("8536.90.99.99", "8536.9X").replace("0,004;US", "0,0x4;US")
    (erp_workspace.inbox("materials") / "MARA.csv").write_bytes(text.encode("cp1252"))
    erp_workspace.run()
    docs = _docs(erp_workspace)
    assert [(d.kind, d.state) for d in docs] == [("erp:sap-materials", "rejected")]
    findings = [f for f in _findings(erp_workspace, docs[0].id) if f.severity.value == "error"]
    assert [(f.code, f.location) for f in findings] == [
        ("ERP-ROW", {"row": 4, "column": "Zolltarifnummer"}), ("ERP-ROW", {"row": 4, "column": "Zolltarifnummer"}),
        ("ERP-ROW", {"row": 5, "column": "Umrechnungsfaktor"})]
    assert "8 dígitos" in findings[0].message
    assert erp_workspace.forwarded("erp.materials") == []


def test_queue_rows_forwards_the_good_rows_and_queues_the_bad_ones(erp_workspace):
    lines = (DATA / "receipts.csv").read_bytes().decode("latin-1").split("\r\n")
    lines[2] = lines[2].replace("18/11/2026", "31/02/2026")  # no such date
    lines[3] = lines[3].replace("26  24  3420  6001240", "26-24-3420")  # pedimento too short
    lines[4] = lines[4].replace("400,PZA", "-5,PZA")  # out of range
    (erp_workspace.inbox("receipts") / "entradas.csv").write_bytes("\r\n".join(lines).encode("latin-1"))
    erp_workspace.run()
    docs = _docs(erp_workspace)
    container = next(d for d in docs if d.parent_id is None)
    assert container.state == "split"
    assert container.record["forwarded_rows"] == 1 and container.record["queued_rows"] == 3
    assert [r["row"] for r in erp_workspace.rows("erp.receipts")] == [2]
    [bad] = [d for d in docs if d.parent_id and d.state == "rejected"]
    assert bad.kind == "erp.receipts" and "filas con errores 3-5" in bad.filename
    errors = [(f.code, f.location) for f in _findings(erp_workspace, bad.id)]
    assert errors == [("ERP-ROW", {"row": 3, "column": "Fecha Recepción"}),
                      ("ERP-ROW", {"row": 4, "column": "Pedimento"}),
                      ("ERP-ROW", {"row": 5, "column": "Cantidad"})]
    warned = [f for f in _findings(erp_workspace, container.id) if f.code == "ERP-ROW"]
    assert warned and warned[0].severity.value == "warning"


def test_rfc_checks_are_shared_with_the_other_kinds(erp_workspace):
    lines = (DATA / "receipts.csv").read_bytes().decode("latin-1").split("\r\n")
    lines[1] = lines[1].replace("EKU9003173C9", "EKU9003173C8")  # wrong check digit: warning
    lines[4] = lines[4].replace("EKU9003173C9", "EKU90031")  # malformed: error, row queued
    (erp_workspace.inbox("receipts") / "entradas.csv").write_bytes("\r\n".join(lines).encode("latin-1"))
    erp_workspace.run()
    forwarded = erp_workspace.forwarded("erp.receipts")
    warnings = [f for out in forwarded for f in out["findings"] if f["code"] == "RFC-INVALID"]
    assert [(w["severity"], w["location"]) for w in warnings] == [("warning", {"row": 2, "column": "RFC Proveedor"})]
    bad = next(d for d in _docs(erp_workspace) if d.state == "rejected")
    assert [(f.code, f.location["row"]) for f in _findings(erp_workspace, bad.id)] == [("RFC-INVALID", 5)]


@pytest.mark.parametrize("case", ["sheet", "column", "mapping", "root"])
def test_a_mapping_that_does_not_fit_is_erp_mapping(erp_workspace, case):
    if case == "sheet":
        write_bom_xlsx(erp_workspace.inbox("bom") / "bom.xlsx", sheet="Stückliste")
    elif case == "column":
        text = (DATA / "sap-materials.csv").read_bytes().replace(b"Ursprungsland", b"Herkunftsland")
        (erp_workspace.inbox("materials") / "MARA.csv").write_bytes(text)
    elif case == "root":
        text = (DATA / "shipments.xml").read_bytes().replace(b"ShipmentExport", b"Deliveries")
        (erp_workspace.inbox("shipments") / "s.xml").write_bytes(text)
    else:
        config = erp_workspace.config.read_text().replace('kind = "erp:receipts-csv"', 'kind = "erp:no-such-export"')
        erp_workspace.config.write_text(config)
        shutil.copy(DATA / "receipts.csv", erp_workspace.inbox("receipts") / "entradas.csv")
    erp_workspace.run()
    [doc] = _docs(erp_workspace)
    assert doc.state == "rejected"
    [finding] = _findings(erp_workspace, doc.id)
    assert finding.code == "ERP-MAPPING"
    expected = {"sheet": "Stückliste", "column": "Ursprungsland", "mapping": "no-such-export.toml",
                "root": "<Deliveries>"}[case]
    assert expected in finding.message


def test_xml_exports_are_parsed_hardened(erp_workspace):
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
            b'<ShipmentExport xmlns="urn:example:erp:shipments:1"><Shipment><Line><Item>&lol2;</Item></Line>'
            b'</Shipment></ShipmentExport>')
    (erp_workspace.inbox("shipments") / "bomb.xml").write_bytes(bomb)
    erp_workspace.run()
    [doc] = _docs(erp_workspace)
    assert doc.state == "rejected"
    assert [f.code for f in _findings(erp_workspace, doc.id)] == ["XML-FORBIDDEN"]


def test_large_exports_are_delivered_in_bounded_chunks(tmp_path):
    mappings = tmp_path / "my-mappings"
    mappings.mkdir()
    text = (DATA.parents[2] / "mappings" / "receipts-csv.toml").read_text(encoding="utf-8")
    (mappings / "receipts-csv.toml").write_text(text.replace("chunk_rows = 5000", "chunk_rows = 4"), encoding="utf-8")
    ws = ErpWorkspace(tmp_path, write_erp_config(tmp_path, mappings))
    header, *rows = (DATA / "receipts.csv").read_bytes().decode("latin-1").strip().split("\r\n")
    body = [rows[i % len(rows)].replace("L-2611", f"L{i:03}") for i in range(10)]
    (ws.inbox("receipts") / "big.csv").write_bytes("\r\n".join([header, *body]).encode("latin-1"))
    ws.run()
    outs = ws.forwarded("erp.receipts")
    assert sorted(len(o["record"]["rows"]) for o in outs) == [2, 4, 4]
    assert [r["row"] for r in ws.rows("erp.receipts")] == list(range(2, 12))
    assert len({o["source"]["sha256"] for o in outs}) == 1  # all name the export they came from


def test_a_corrected_mapping_applies_on_retry(tmp_path):
    from gateway import operations

    mappings = tmp_path / "site-mappings"
    mappings.mkdir()
    ws = ErpWorkspace(tmp_path, write_erp_config(tmp_path, mappings))
    config = ws.config.read_text().replace('kind = "erp:receipts-csv"', 'kind = "erp:plant-receipts"')
    ws.config.write_text(config)
    shutil.copy(DATA / "receipts.csv", ws.inbox("receipts") / "entradas.csv")
    ws.run()
    [doc] = _docs(ws)
    assert doc.state == "rejected" and [f.code for f in _findings(ws, doc.id)] == ["ERP-MAPPING"]
    shutil.copy(DATA.parents[2] / "mappings" / "receipts-csv.toml", mappings / "plant-receipts.toml")
    gw = ws.gateway()
    try:
        assert operations.retry(gw, doc.id, "cli:test", "mapping added") == "split"
    finally:
        gw.close()
    ws.run()
    assert [r["part_number"] for r in ws.rows("erp.receipts")] == ["RM-1001", "RM-1002", "RM-1003", "PK-2001"]
