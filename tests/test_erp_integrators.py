"""ERP exports as integrators bring them (issue 25), end to end through ``run --once``: zero-padded SAP MATNRs
reconciled by transforms, repeated keys in masters and BOMs, coded values against their catalogs, report
footers and Excel-saved CSVs, and XML exports validated against the ERP's own XSD."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from conftest import run_cli
from erp_fixtures import DATA, REPO, ErpWorkspace, write_erp_config

from gateway.kinds.erp.mapping import MappingError, parse
from gateway.kinds.erp.transforms import TransformProblem, apply, compile_steps

MAPPINGS = REPO / "mappings"

#: extra sources beside the four of erp_fixtures: SAP CS12 BOMs, Oracle ship confirms, a plant's own master
EXTRA_SOURCES = """
[[source]]
name = "erp-cs12"
type = "folder"
path = "inbox/cs12"
kind = "erp:sap-bom-cs12"
stable_time = "0s"

[[source]]
name = "erp-oracle"
type = "folder"
path = "inbox/oracle"
kind = "erp:oracle-shipments"
stable_time = "0s"

[[source]]
name = "erp-plant"
type = "folder"
path = "inbox/plant"
kind = "erp:plant-materials"
stable_time = "0s"
"""

#: a home-grown material master (generic CSV) whose units are Anexo 22 keys, every coded field as written
PLANT_MATERIALS = """
target = "erp.materials"
[key]
fields = ["part_number"]
[source]
format = "csv"
[fields.part_number]
column = "part"
[fields.material_type]
column = "type"
[fields.unit]
column = "umc"
catalog = "anexo22"
[fields.fraccion]
column = "fraccion"
[fields.nico]
column = "nico"
[fields.umt]
column = "umt"
[fields.country_of_origin]
column = "origin"
"""


@pytest.fixture
def ws(tmp_path) -> ErpWorkspace:
    mappings = tmp_path / "site-mappings"
    mappings.mkdir()
    (mappings / "plant-materials.toml").write_text(PLANT_MATERIALS, encoding="utf-8")
    workspace = ErpWorkspace(tmp_path, write_erp_config(tmp_path, mappings, extra=EXTRA_SOURCES))
    for name in ("cs12", "oracle", "plant"):
        workspace.inbox(name).mkdir(parents=True)
    return workspace


def _store(ws: ErpWorkspace):  # noqa: ANN202
    gw = ws.gateway()
    docs = gw.store.list_documents()
    findings = {d.id: gw.store.findings(d.id) for d in docs}
    gw.close()
    return docs, findings


def _container(ws: ErpWorkspace, kind: str):  # noqa: ANN202
    docs, findings = _store(ws)
    [doc] = [d for d in docs if d.kind == kind and d.parent_id is None]
    return doc, findings[doc.id]


# 2. transforms: SAP's zero-padded MATNR and the same part written without zeros are one part ------------------

def test_a_zero_padded_sap_master_and_a_plain_export_reconcile(ws):
    shutil.copy(DATA / "sap-mara-matnr.csv", ws.inbox("materials") / "MARA.csv")
    ws.run()
    assert [m["part_number"] for m in ws.rows("erp.materials")] == ["123456", "123457", "200100", "300001"]
    assert [m["unit"] for m in ws.rows("erp.materials")] == ["KGM", "H87", "H87", "H87"]  # ST → H87 (lookup)
    shutil.copy(DATA / "sap-cs12-bom.txt", ws.inbox("cs12") / "CS12_200100.txt")
    ws.run()
    bom = ws.rows("erp.bom")
    # the title line, the blank line and the "Anzahl Einträge" footer are not rows; rows keep their file line
    assert [(b["row"], b["finished_good"], b["revision"], b["component"], b["unit"]) for b in bom] == [
        (3, "200100", "1", "123456", "KGM"), (4, "200100", "1", "123457", "H87"), (5, "200100", "1", "300001", "H87")]
    assert [f for out in ws.forwarded("erp.bom") for f in out["findings"] if f["code"] == "ERP-UNKNOWN-PART"] == []


def test_every_transform_with_its_documented_example():
    def run(steps, text, lookups=None):  # noqa: ANN001, ANN202
        problems: list = []
        compiled = compile_steps("fields.x", steps, lookups or {}, problems)
        assert problems == []
        return apply(compiled, text)

    assert run(["strip_zeros"], "000000000000123456") == "123456"
    assert run(["strip_zeros"], "0000") == "0" and run(["strip_zeros"], "RM-0010") == "RM-0010"
    assert run([{"pad_zeros": 18}], "123456") == "000000000000123456"
    assert run(["trim", "upper"], "  rm-1001 ") == "RM-1001" and run(["lower"], "KG") == "kg"
    assert run([{"regex": "[^0-9]", "replace": ""}], "26 24 3420 6001234") == "262434206001234"
    assert run([{"regex": r"^(\d{4})(\d{2})(\d{2})$", "replace": r"\1.\2.\3"}], "85389099") == "8538.90.99"
    assert run([{"substring": [1, 8]}], "8538909999") == "85389099" and run([{"substring": [9]}], "8538909999") == "99"
    assert run([{"lookup": "units"}], "ST", {"units": {"ST": "H87"}}) == "H87"
    assert run([{"lookup": {"ST": "H87"}, "unknown": "keep"}], "XX") == "XX"
    assert run([{"lookup": {"ST": "H87"}, "unknown": "blank"}, {"default": "H87"}], "XX") == "H87"
    with pytest.raises(TransformProblem, match="'XX' no está en la tabla"):
        run([{"lookup": {"ST": "H87"}}], "XX")


def test_transform_mistakes_are_named_by_key():
    raw = {"target": "erp.materials", "source": {"format": "csv"}, "fields": {
        "part_number": {"column": "p", "transform": [{"regex": "(unclosed"}, {"lookup": "nowhere"}]},
        "material_type": {"value": "raw_material"},
        "unit": {"column": "u", "transform": [{"pad_zeros": 4, "lookup": "x"}]},
        "umt": {"column": "t", "catalog": "anexo22"}}}
    with pytest.raises(MappingError) as caught:
        parse(raw, "broken")
    keys = [key for key, _ in caught.value.problems]
    assert keys == ["fields.part_number.transform[0].regex", "fields.part_number.transform[1].lookup",
                    "fields.unit.transform[0]", "fields.umt.catalog"]


# 1. duplicate keys --------------------------------------------------------------------------------------------

def test_a_part_twice_with_two_fracciones_is_an_error_on_both_rows(ws):
    text = (DATA / "sap-mara-matnr.csv").read_bytes().decode("cp1252").split("\r\n")
    text.insert(4, "000000000000123456;Kupferdraht 0,5 mm² verzinnt;ROH;KG;8544.30.99.99;KG;1,000;DE")  # row 5
    (ws.inbox("materials") / "MARA.csv").write_bytes("\r\n".join(text).encode("cp1252"))
    ws.run()
    doc, findings = _container(ws, "erp:sap-materials")
    assert doc.state == "rejected"
    duplicates = [(f.severity.value, f.location["row"], f.location["column"]) for f in findings
                  if f.code == "ERP-DUPLICATE"]
    assert sorted(duplicates) == [("error", 2, "Material"), ("error", 5, "Material")]
    first = next(f for f in findings if f.code == "ERP-DUPLICATE" and f.location["row"] == 2)
    assert "'123456'" in first.message and "fila(s) 5" in first.message
    assert ws.forwarded("erp.materials") == []


def test_an_exact_repeat_is_a_warning_and_the_master_flows(ws):
    text = (DATA / "sap-mara-matnr.csv").read_bytes().decode("cp1252").split("\r\n")
    text.insert(3, text[1])
    (ws.inbox("materials") / "MARA.csv").write_bytes("\r\n".join(text).encode("cp1252"))
    ws.run()
    [out] = ws.forwarded("erp.materials")
    [warned] = [f for f in out["findings"] if f["code"] == "ERP-DUPLICATE"]
    assert warned["severity"] == "warning" and warned["location"] == {"row": 4, "column": "Material"}
    assert "repite exactamente la fila 2" in warned["message"]


def test_a_cs12_bom_line_listed_twice_rejects_the_bom(ws):
    shutil.copy(DATA / "sap-mara-matnr.csv", ws.inbox("materials") / "MARA.csv")
    lines = (DATA / "sap-cs12-bom.txt").read_bytes().decode("utf-8-sig").split("\r\n")
    lines.insert(5, lines[3].replace("\t0020\t", "\t0040\t"))  # the same component again, another item number
    (ws.inbox("cs12") / "CS12.txt").write_bytes(("\ufeff" + "\r\n".join(lines)).encode("utf-8"))
    ws.run()
    doc, findings = _container(ws, "erp:sap-bom-cs12")
    assert doc.state == "rejected"
    [dup] = [f for f in findings if f.code == "ERP-DUPLICATE"]
    assert dup.severity.value == "error" and dup.location == {"row": 6, "column": "Material"}
    assert "repite exactamente la fila 4" in dup.message and "200100 / 1 / 123457" in dup.message
    assert ws.forwarded("erp.bom") == []


def test_a_reclassified_part_is_compared_with_the_stored_master(ws):
    shutil.copy(DATA / "sap-mara-matnr.csv", ws.inbox("materials") / "MARA_1.csv")
    ws.run()
    text = (DATA / "sap-mara-matnr.csv").read_bytes().decode("cp1252")
    (ws.inbox("materials") / "MARA_2.csv").write_bytes(
        text.replace("8538.90.99.99", "8536.90.99.99").encode("cp1252"))
    ws.run()
    newest = [o for o in ws.forwarded("erp.materials") if any(f["code"] == "ERP-DUPLICATE" for f in o["findings"])]
    [out] = newest
    [changed] = [f for f in out["findings"] if f["code"] == "ERP-DUPLICATE"]
    assert changed["severity"] == "warning" and changed["location"] == {"row": 3, "column": "Material"}
    assert "fraccion 85389099 → 85369099" in changed["message"]
    assert sum(len(o["record"]["rows"]) for o in ws.forwarded("erp.materials")) == 8  # newest wins, both flow


# 3. catalogs --------------------------------------------------------------------------------------------------

def test_coded_fields_are_checked_against_their_catalogs(ws):
    (ws.inbox("plant") / "materials.csv").write_text(textwrap.dedent("""\
        part,type,umc,fraccion,nico,umt,origin
        A-1,raw_material,6,85389099,99,1,DEU
        A-2,raw_material,6,85389099,99,99,DEU
        A-3,raw_material,6,85389099,99,1,ZZZ
        A-4,raw_material,XYZ,85389099,99,1,USA
        A-5,raw_material,1,00000000,00,1,USA
        A-6,raw_material,1,85389099,42,1,USA
        """), encoding="utf-8")
    ws.run()
    doc, findings = _container(ws, "erp:plant-materials")
    assert doc.state == "rejected"
    misses = [(f.location["row"], f.location["column"]) for f in findings if f.code == "ERP-CATALOG"]
    assert misses == [(3, "umt"), (4, "origin"), (5, "umc"), (6, "fraccion"), (7, "nico")]
    messages = " ".join(f.message for f in findings)
    assert "apéndice 7" in messages and "apéndice 4" in messages and "c_FraccionArancelaria" in messages


def test_fracciones_are_checked_with_their_validity_dates_when_the_tigie_is_configured(ws):
    tigie = ws.root / "tigie.csv"
    tigie.write_text("fraccion,umt,inicio_vigencia,fin_vigencia\n8538909999,01,2024-01-18,\n"
                     "8544309999,06,2020-12-28,2023-12-31\n7408199900,01,2024-01-18,\n4819100100,01,2024-01-18,\n",
                     encoding="utf-8")
    config = ws.config.read_text().replace("[logging]", f'[validation]\ntigie_fracciones = "{tigie}"\n\n[logging]')
    ws.config.write_text(config)
    shutil.copy(DATA / "sap-mara-matnr.csv", ws.inbox("materials") / "MARA.csv")
    ws.run()
    _doc, findings = _container(ws, "erp:sap-materials")
    [expired] = [f for f in findings if f.code == "ERP-CATALOG"]
    assert expired.location == {"row": 4, "column": "Zolltarifnummer"}
    assert "no está vigente" in expired.message and "2023-12-31" in expired.message


# 4. messy files -----------------------------------------------------------------------------------------------

def test_an_excel_saved_report_with_separator_lines_a_multiline_field_and_a_footer(ws):
    header, *rows = (DATA / "receipts.csv").read_bytes().decode("latin-1").strip().split("\r\n")
    rows[1] = rows[1].replace('"Shenzhen Plastic Parts Co., Ltd."', '"Shenzhen Plastic Parts\r\nCo., Ltd."')
    text = "\r\n".join([header, rows[0], ",,,,,,,,,", rows[1], ",,,,,,,,,", rows[2], rows[3], ",,,,,,,,,",
                        "Total registros: 4,,,,,,,,,", ""])
    (ws.inbox("receipts") / "entradas.csv").write_bytes(text.encode("latin-1"))
    ws.run()
    doc, findings = _container(ws, "erp:receipts-csv")
    assert doc.state == "split" and [f for f in findings if f.severity.value == "error"] == []
    receipts = ws.rows("erp.receipts")
    # the quoted supplier spans lines 4-5: the record is numbered by its first line
    assert [r["row"] for r in receipts] == [2, 4, 7, 8]
    assert receipts[1]["supplier"] == "Shenzhen Plastic Parts\r\nCo., Ltd."


# 5. the ERP's own XSD -----------------------------------------------------------------------------------------

def test_an_oracle_export_that_fits_its_xsd_flows(ws):
    shutil.copy(DATA / "oracle-ship-confirm.xml", ws.inbox("oracle") / "WSHSHIP_4481203.xml")
    ws.run()
    shipments = ws.rows("erp.shipments")
    assert [(s["part_number"], s["quantity"], s["unit"], s["ship_date"]) for s in shipments] == [
        ("FG-1000", "1200", "H87", "2026-11-19"), ("FG-1001", "800", "H87", "2026-11-19"),
        ("RM-1001", "12.5", "KGM", "2026-11-20")]
    assert shipments[2]["customer"] == "1077 Tecnología Automotriz del Bajío S.A. de C.V."


def test_an_oracle_export_that_breaks_its_xsd_is_rejected_before_any_row_is_mapped(ws):
    text = (DATA / "oracle-ship-confirm.xml").read_bytes().decode("iso-8859-1")
    text = text.replace("<SHIPPED_QUANTITY>800</SHIPPED_QUANTITY>", "<SHIPPED_QUANTITY>ochocientos</SHIPPED_QUANTITY>")
    text = text.replace("<CONFIRM_DATE>20-NOV-26</CONFIRM_DATE>", "<CONFIRM_DATE>2026-11-20</CONFIRM_DATE>")
    text = text.replace("<ITEM_NUMBER>RM-1001</ITEM_NUMBER>", "")
    (ws.inbox("oracle") / "WSHSHIP.xml").write_bytes(text.encode("iso-8859-1"))
    ws.run()
    docs, findings = _store(ws)
    [doc] = docs
    assert doc.state == "rejected"  # no part was made: nothing forwarded, nothing queued row by row
    xsd = [(f.location["line"], f.location["xpath"]) for f in findings[doc.id] if f.code == "XSD"]
    assert xsd == [(17, "/XXIMX_SHIP_CONFIRM/LIST_G_DELIVERY/G_DELIVERY/LIST_G_LINE/G_LINE/SHIPPED_QUANTITY"),
                   (22, "/XXIMX_SHIP_CONFIRM/LIST_G_DELIVERY/G_DELIVERY/CONFIRM_DATE"),
                   (28, "/XXIMX_SHIP_CONFIRM/LIST_G_DELIVERY/G_DELIVERY/LIST_G_LINE/G_LINE")]
    assert all("oracle-shipments.xsd" in f.message for f in findings[doc.id])
    assert [f.code for f in findings[doc.id]] == ["XSD"] * 3


def test_the_xsd_is_resolved_offline_from_the_mapping_folder(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text((MAPPINGS / "oracle-shipments.toml").read_text(encoding="utf-8"), encoding="utf-8")
    from gateway.kinds.erp.mapping import load

    with pytest.raises(MappingError) as caught:
        load(mapping)
    assert caught.value.problems[0][0] == "source.xsd" and str(tmp_path) in caught.value.problems[0][1]
    (tmp_path / "oracle-shipments.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:import namespace="urn:x" '
        'schemaLocation="http://example.com/x.xsd"/></xs:schema>', encoding="utf-8")
    kind_mapping = load(mapping)
    from gateway.kinds.erp.export import ExportKind

    result = ExportKind("erp:m", kind_mapping).check((DATA / "oracle-ship-confirm.xml").read_bytes())
    [finding] = result.findings
    assert finding.code == "ERP-MAPPING" and finding.location == {"key": "source.xsd"}


def test_run_once_through_the_real_cli(ws):
    shutil.copy(DATA / "sap-mara-matnr.csv", ws.inbox("materials") / "MARA.csv")
    shutil.copy(DATA / "sap-cs12-bom.txt", ws.inbox("cs12") / "CS12.txt")
    shutil.copy(DATA / "oracle-ship-confirm.xml", ws.inbox("oracle") / "ship.xml")
    done = run_cli("run", "--once", "-c", str(ws.config))
    assert done.returncode == 0, done.stderr
    assert len(ws.rows("erp.materials")) == 4 and len(ws.rows("erp.bom")) == 3 and len(ws.rows("erp.shipments")) == 3


def test_validate_previews_repeated_keys_and_xsd_violations_without_a_store(tmp_path):
    lines = (DATA / "sap-cs12-bom.txt").read_bytes().decode("utf-8-sig").split("\r\n")
    lines.insert(5, lines[3])
    bom = tmp_path / "CS12.txt"
    bom.write_bytes(("\ufeff" + "\r\n".join(lines)).encode("utf-8"))
    done = run_cli("validate", "--kind", "erp:sap-bom-cs12", str(bom), "--json")
    assert done.returncode != 0
    assert "ERP-DUPLICATE" in done.stdout and "repite exactamente la fila 4" in done.stdout
    xml = tmp_path / "ship.xml"
    xml.write_bytes((DATA / "oracle-ship-confirm.xml").read_bytes().replace(b"<UOM_CODE>KG</UOM_CODE>", b""))
    done = run_cli("validate", "--kind", "erp:oracle-shipments", str(xml), "--json")
    assert done.returncode != 0 and '"XSD"' in done.stdout and '"line": 28' in done.stdout


def test_excel_percent_cells_and_unformatted_date_serials(tmp_path):
    from erp_fixtures import write_bom_xlsx

    mappings = tmp_path / "site-mappings"
    mappings.mkdir()
    text = (MAPPINGS / "bom-xlsx.toml").read_text(encoding="utf-8")
    text = text.replace('[fields.scrap_percent]\ncolumn = "Scrap %"', '[fields.scrap_percent]\ncolumn = "Scrap %"\n'
                        'multiply = "100"   # the cell shows 2.5 %, it holds 0.025')
    (mappings / "bom-xlsx.toml").write_text(text, encoding="utf-8")
    ws = ErpWorkspace(tmp_path, write_erp_config(tmp_path, mappings))
    rows = (("FG-1000", "B", 46023, None, "RM-1001", 0.85, "kg", 0.025, 1),  # a date cell without date format
            ("FG-1000", "B", 46023, None, "RM-1002", 4, "EA", 0.1, 0))
    write_bom_xlsx(ws.inbox("bom") / "bom.xlsx", rows)
    ws.run()
    bom = ws.rows("erp.bom")
    assert [(b["valid_from"], b["scrap_percent"], b["unit"]) for b in bom] == [
        ("2026-01-01", "2.500", "KGM"), ("2026-01-01", "10.0", "H87")]


def test_an_xml_export_that_is_not_what_the_records_path_says_is_erp_mapping_not_a_memory_sink(monkeypatch):
    from gateway.kinds.erp import xsd
    from gateway.kinds.erp.export import ExportKind
    from gateway.kinds.erp.mapping import load

    monkeypatch.setattr(xsd, "MAX_UNIT_ELEMENTS", 20)
    kind = ExportKind("erp:oracle-shipments", load(MAPPINGS / "oracle-shipments.toml"))
    text = (DATA / "oracle-ship-confirm.xml").read_bytes()
    [finding] = kind.check(text.replace(b"LIST_G_DELIVERY>", b"LIST_G_DELIVERIES>")).findings
    assert finding.code == "ERP-MAPPING" and "source.records" in finding.message
    [finding] = kind.check(text.replace(b"XXIMX_SHIP_CONFIRM>", b"SHIP_CONFIRM>")).findings
    assert finding.code == "ERP-MAPPING" and "<SHIP_CONFIRM>" in finding.message
