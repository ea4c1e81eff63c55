"""ERP mappings: schema, errors that name the key, readers and conversions, chunk re-validation, CLI."""

from __future__ import annotations

import io
import json
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from conftest import run_cli
from erp_fixtures import DATA, REPO, SCHEMAS, write_bom_xlsx

from gateway.kinds.erp import chunk_kind, export_kind, mapping_dirs
from gateway.kinds.erp.mapping import MappingError, load, parse
from gateway.kinds.erp.rows import MappedExport
from gateway.kinds.erp.targets import TARGETS, json_schema

MAPPINGS = REPO / "mappings"


def _mapping(**overrides):
    raw = {"target": "erp.receipts", "source": {"format": "csv"}, "fields": {
        "receipt_date": {"column": "Fecha"}, "part_number": {"column": "Parte"}, "quantity": {"column": "Cant"},
        "unit": {"value": "PZA"}, "supplier": {"column": "Prov"}}}
    for key, value in overrides.items():
        node = raw
        *path, last = key.split("__")
        for step in path:
            node = node[step]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return raw


def _keys(raw) -> list[str]:
    with pytest.raises(MappingError) as caught:
        parse(raw, "test")
    return [key for key, _ in caught.value.problems]


def test_every_shipped_mapping_is_valid():
    names = sorted(p.stem for p in MAPPINGS.glob("*.toml"))
    assert names == ["bom-xlsx", "oracle-shipments", "receipts-csv", "sap-bom-cs12", "sap-materials",
                     "shipments-xml"]
    for path in MAPPINGS.glob("*.toml"):
        assert load(path).name == path.stem


def test_published_schemas_are_the_ones_the_code_uses():
    package = REPO / "gateway" / "kinds" / "erp" / "mapping.schema.json"
    assert (SCHEMAS / "erp-mapping.schema.json").read_text() == package.read_text()
    for target in TARGETS:
        published = json.loads((SCHEMAS / f"{target}.schema.json").read_text(encoding="utf-8"))
        assert published == json_schema(target), f"run: python -m gateway.kinds.erp docs/schema ({target})"


@pytest.mark.parametrize("overrides, key", [
    ({"target": "erp.stock"}, "target"),
    ({"source__sheetname": "x"}, "source.sheetname"),
    ({"source__format": "txt"}, "source.format"),
    ({"chunk_rows": 0}, "chunk_rows"),
    ({"fields__quantity__colum": "Cant"}, "fields.quantity.colum"),
    ({"fields__color": {"column": "Color"}}, "fields.color"),
    ({"fields__supplier": None}, "fields.supplier"),
    ({"fields__quantity__xpath": "Cant"}, "fields.quantity"),
    ({"fields__lot": {"xpath": "Lote"}}, "fields.lot.xpath"),
    ({"fields__lot": {"column": "Lote", "pattern": "(["}}, "fields.lot.pattern"),
    ({"fields__lot": {"column": "Lote", "multiply": 2}}, "fields.lot.multiply"),
    ({"fields__quantity__type": "date"}, "fields.quantity.type"),
    ({"source__sheet": "Hoja1"}, "source.sheet"),
    ({"source__encoding": "klingon"}, "source.encoding"),
    ({"source__header": False}, "fields.receipt_date.column"),
])
def test_mapping_errors_name_the_key(overrides, key):
    assert key in _keys(_mapping(**overrides))


def test_a_missing_target_is_named():
    raw = _mapping()
    del raw["target"]
    assert _keys(raw) == ["target"]


def test_mappings_check_command(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (MAPPINGS / "sap-materials.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace('column = "Materialart"', 'colum = "Materialart"'), encoding="utf-8")
    result = run_cli("mappings", "check", str(MAPPINGS / "sap-materials.toml"), str(bad))
    assert result.returncode == 1
    assert "sap-materials.toml: VÁLIDO" in result.stdout
    assert "fields.material_type.colum: clave desconocida" in result.stdout
    ok = run_cli("mappings", "check", "--json", *map(str, sorted(MAPPINGS.glob("*.toml"))))
    assert ok.returncode == 0 and all(item["valid"] for item in json.loads(ok.stdout))


def test_validate_previews_first_rows_and_lists_every_row_error(tmp_path):
    lines = (DATA / "receipts.csv").read_bytes().decode("latin-1").split("\r\n")
    lines[3] = lines[3].replace("50000", "cincuenta")
    lines[4] = lines[4].replace("PZA", "CAJA")
    path = tmp_path / "entradas.csv"
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    result = run_cli("validate", "--kind", "erp:receipts-csv", "--rows", "1", "--json", str(path))
    assert result.returncode == 1, result.stderr
    [item] = json.loads(result.stdout)
    assert item["rows"] == 4 and item["bad_rows"] == 2 and item["target"] == "erp.receipts"
    assert [r["row"] for r in item["preview"]] == [2]
    assert [(f["code"], f["location"]) for f in item["findings"]] == [
        ("ERP-ROW", {"row": 4, "column": "Cantidad"}), ("ERP-ROW", {"row": 5, "column": "Unidad"})]
    text = run_cli("validate", "--kind", "erp:shipments-xml", str(DATA / "shipments.xml"))
    assert text.returncode == 0 and "VÁLIDO (erp:shipments-xml → erp.shipments; 3 filas, 0 con errores)" in text.stdout


def _rows(mapping_toml: str, data: bytes, tmp_path: Path) -> list:
    path = tmp_path / "m.toml"
    path.write_text(mapping_toml, encoding="utf-8")
    return list(MappedExport(load(path), io.BytesIO(data)))


_JSON_MAPPING = """
target = "erp.shipments"
[source]
format = "json"
{source}
[fields.ship_date]
path = "date"
date_format = "%d.%m.%Y"
[fields.part_number]
path = "item.sku"
[fields.quantity]
path = "qty"
multiply = "0.001"
[fields.unit]
value = "KGM"
[fields.customer]
path = "customer"
"""


def test_json_exports_array_and_lines(tmp_path):
    items = [{"date": "19.11.2026", "item": {"sku": "FG-1000"}, "qty": 1500, "customer": "Acme"},
             {"date": "20.11.2026", "item": {"sku": "FG-1001"}, "qty": "2500.5", "customer": "Acme"}]
    array = _rows(_JSON_MAPPING.format(source='records = "data.shipments"'),
                  json.dumps({"data": {"shipments": items}}).encode(), tmp_path)
    assert [(r.record["ship_date"], r.record["quantity"]) for r in array] == [("2026-11-19", "1.500"),
                                                                            ("2026-11-20", "2.5005")]
    lines = _rows(_JSON_MAPPING.format(source="lines = true"),
                  b"\n".join(json.dumps(i).encode() for i in items) + b"\n{broken\n", tmp_path)
    assert [r.record["part_number"] for r in lines[:2]] == ["FG-1000", "FG-1001"]
    assert lines[2].errors[0].code == "ERP-ROW" and lines[2].errors[0].location == {"row": 3}


def test_headerless_csv_by_position_with_decimal_comma(tmp_path):
    mapping = """
target = "erp.bom"
[source]
format = "csv"
delimiter = "\\t"
header = false
decimal = ","
thousands = "."
[fields.finished_good]
position = 1
[fields.component]
position = 2
[fields.quantity_per_unit]
position = 3
[fields.unit]
position = 4
map = { ST = "PZA" }
map_unknown = "keep"
"""
    rows = _rows(mapping, b"FG-1\tRM-1\t1.234,5\tST\nFG-1\tRM-2\t0,25\tKG\n", tmp_path)
    assert [(r.record["quantity_per_unit"], r.record["unit"]) for r in rows] == [("1234.5", "PZA"), ("0.25", "KG")]


def test_windows_1252_bytes_undefined_in_that_code_page_are_file_encoding(tmp_path):
    kind = export_kind("erp:sap-materials", mapping_dirs(None))
    data = (DATA / "sap-materials.csv").read_bytes().replace(b"Messing", b"Mess\x81ng")
    result = kind.check(data)
    list(result.parts)
    assert [(f.code, f.location) for f in result.findings] == [("FILE-ENCODING", {"row": 4})]


def test_xlsx_cells_and_locations(tmp_path):
    path = write_bom_xlsx(tmp_path / "bom.xlsx", rows=(
        ("FG-1000", "B", "2026-13-01", None, "RM-1001", 0, "KG", 150, 0),))
    [row] = list(MappedExport(load(MAPPINGS / "bom-xlsx.toml"), open(path, "rb")))
    assert [(f.code, f.location) for f in row.errors] == [
        ("ERP-ROW", {"sheet": "BOM", "row": 4, "column": "Effective", "cell": "C4"}),
        ("ERP-ROW", {"sheet": "BOM", "row": 4, "column": "Qty Per", "cell": "F4"}),
        ("ERP-ROW", {"sheet": "BOM", "row": 4, "column": "Scrap %", "cell": "H4"})]
    assert "fuera de rango" in row.errors[1].message and row.raw["finished_good"] == "FG-1000"


def test_a_tampered_chunk_is_not_forwarded_on_trust():
    kind = export_kind("erp:sap-materials", mapping_dirs(None))
    result = kind.check((DATA / "sap-materials.csv").read_bytes())
    [part] = list(result.parts)
    assert chunk_kind("erp.materials").check(part.data).ok
    tampered = part.data.replace(b'"material_type":"asset"', b'"material_type":"machine"')
    checked = chunk_kind("erp.materials").check(tampered)
    assert [f.code for f in checked.findings] == ["ERP-ROW"] and "material_type" in checked.findings[0].message


def test_the_config_names_mapping_directories(tmp_path):
    from gateway.config import ConfigError, from_dict

    settings = from_dict({"erp": {"mapping_dirs": ["my-mappings"]}}, tmp_path)
    assert settings.erp_mapping_dirs == [tmp_path / "my-mappings"]
    with pytest.raises(ConfigError, match="erp.mapping_dir"):
        from_dict({"erp": {"mapping_dir": "x"}}, tmp_path)


def test_mapping_files_are_toml():
    for path in MAPPINGS.glob("*.toml"):
        assert tomllib.loads(path.read_text(encoding="utf-8"))["target"] in TARGETS


def test_a_csv_row_with_the_wrong_number_of_columns_is_a_row_error(tmp_path):
    data = (DATA / "receipts.csv").read_bytes().replace(b",L-2611-B", b",L-2611-B,extra")
    rows = list(MappedExport(load(MAPPINGS / "receipts-csv.toml"), io.BytesIO(data)))
    assert [r.number for r in rows if r.record] == [2, 4, 5]
    [bad] = [r for r in rows if r.errors]
    assert bad.number == 3 and bad.errors[0].location == {"row": 3} and "11 columnas" in bad.errors[0].message


def test_a_truncated_xml_export_is_malformed_with_its_line():
    kind = export_kind("erp:shipments-xml", mapping_dirs(None))
    data = (DATA / "shipments.xml").read_bytes()
    result = kind.check(data[: data.index(b"<Line no=\"2\">") + 20])
    list(result.parts)
    [finding] = result.findings
    assert finding.code == "XML-MALFORMED" and finding.location["line"] == 9


def test_memory_does_not_grow_with_the_export(tmp_path):
    """The streaming guard in CI (bench/bench_erp.py measures peak RSS at 50,000 and 500,000 rows)."""
    import importlib.util
    import tracemalloc

    from gateway.kinds.erp.export import ExportKind

    spec = importlib.util.spec_from_file_location("bench_erp", REPO / "bench" / "bench_erp.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    generate = bench.generate

    raw = tomllib.loads((MAPPINGS / "sap-materials.toml").read_text(encoding="utf-8"))
    kind = ExportKind("erp:test", parse({**raw, "chunk_rows": 100}, "test"))
    peaks = {}
    for rows in (1000, 6000):
        path = tmp_path / f"{rows}.csv"
        generate(path, rows)
        tracemalloc.start()
        result = kind.check_file(path)
        forwarded = sum(1 for _ in result.parts)
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.ok and forwarded == rows // 100
    assert peaks[6000] < peaks[1000] * 1.2, peaks


def test_part_numbers_stored_as_numbers_in_a_spreadsheet_stay_codes(tmp_path):
    path = write_bom_xlsx(tmp_path / "bom.xlsx", rows=(
        (100200, "1", datetime(2026, 1, 1), None, 4712.0, 2, "EA", None, None),))
    [row] = list(MappedExport(load(MAPPINGS / "bom-xlsx.toml"), open(path, "rb")))
    assert (row.record["finished_good"], row.record["component"], row.record["revision"]) == ("100200", "4712", "1")


@pytest.mark.parametrize("kind", ["integer", "decimal"])
@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_numbers_that_are_not_finite_are_row_errors(kind, value):
    """Decimal parses these; an integer field used to reach int(Infinity) and raise OverflowError."""
    from gateway.kinds.erp.convert import _TYPES, ValueProblem
    from gateway.kinds.erp.mapping import FieldRule, Source
    from gateway.kinds.erp.targets import Field

    rule = FieldRule("cantidad", Field("cantidad", kind, label="cantidad"), "column", ("Cantidad",))
    parse = _TYPES[kind](rule, Source("csv"))
    with pytest.raises(ValueProblem, match="no es un número"):
        parse(value, [])
