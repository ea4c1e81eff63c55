"""``immex-gateway catalogs import``: SAT-format .xls files made here (xlwt writes real BIFF8, what SAT publishes;
one case writes .xlsx with openpyxl), imported through the CLI and read by the CFDI checks.

The proof against false rejections: an invoice with a ClaveProdServ newer than the wheel's edition is rejected
before the import and accepted after it, with every other finding the same.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import run_cli

CFDI = "{http://www.sat.gob.mx/cfd/4}"
NEW_KEY = "50202399"  # a c_ClaveProdServ key the wheel's edition lacks (checked below)
VIGENCIA = ["Fecha inicio de vigencia", "Fecha fin de vigencia"]
PRODSERV_COLUMNS = ["c_ClaveProdServ", "Descripción", "Incluir IVA trasladado", "Incluir IEPS trasladado",
                    "Complemento que debe incluir", "FechaInicioVigencia", "FechaFinVigencia",
                    "Estímulo Franja Fronteriza", "Palabras similares"]


def sat_header(title: str, version: str = "4.0", revision: int = 1) -> list[list[object]]:
    """The rows above SAT's column names: title, then the Versión/Revisión labels over their values."""
    return [[title], [None, "Versión", "Revisión"], [None, version, revision], []]


def write_xls(path: Path, sheets: dict[str, tuple[list[list[object]], list[str], list[list[object]]]]) -> Path:
    """A BIFF8 workbook (SAT's format): per sheet, header rows, the row of column names, the data rows."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for name, (head, columns, rows) in sheets.items():
        sheet = book.add_sheet(name)
        for r, line in enumerate([*head, columns, *rows]):
            for c, value in enumerate(line):
                if isinstance(value, dt.date):
                    sheet.write(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def prodserv_rows(keys: list[str], **dates: tuple[dt.date | None, dt.date | None]) -> list[list[object]]:
    rows = []
    for key in keys:
        start, end = dates.get(f"k{key}", (dt.date(2022, 1, 1), None))
        rows.append([key, f"Producto {key}", "Sí", "No", "", start, end, "", ""])
    return rows


@pytest.fixture()
def workspace(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\ndata_dir = "var"\n[validation]\ncertificate_dirs = []\n'
                      'catalog_max_age = "30d"\n', encoding="utf-8")
    return tmp_path, config


def _keys_of(invoice: bytes) -> list[str]:
    root = etree.fromstring(invoice)
    return sorted({c.get("ClaveProdServ") for c in root.iter(f"{CFDI}Concepto")})


def _with_key(key: str):
    def mutate(root: etree._Element) -> None:
        next(root.iter(f"{CFDI}Concepto")).set("ClaveProdServ", key)
    return mutate


def _findings(result: dict) -> list[tuple]:
    return sorted((f["code"], f["severity"], f["message"], json.dumps(f.get("location"), sort_keys=True))
                  for f in result["findings"])


def _validate(config: Path, invoice: Path) -> dict:
    done = run_cli("validate", "--json", "-c", str(config), str(invoice))
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def test_the_new_key_is_not_in_the_wheel() -> None:
    from gateway.kinds.cfdi.catalogs import catalogs

    assert not catalogs().has("c_ClaveProdServ", NEW_KEY) and catalogs().has("c_ClaveProdServ", "01010101")


def test_false_rejection_before_import_accepted_after_with_the_same_other_findings(workspace, make_invoice) -> None:
    root, config = workspace
    invoice = make_invoice(2601, mutate=_with_key(NEW_KEY))
    path = root / "factura.xml"
    path.write_bytes(invoice)
    before = _validate(config, path)
    on_key = [f for f in before["findings"] if NEW_KEY in f["message"]]
    assert on_key and all(f["severity"] == "error" for f in on_key), before["findings"]

    catcfdi = write_xls(root / "catCFDI_V_4_20260115.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS,
                            prodserv_rows(_keys_of(invoice))),
        "c_TasaOCuota": (sat_header("Catálogo de tasas o cuotas."), ["Rango o Fijo", "c_TasaOCuota"], [["Fijo", 0.16]]),
    })
    done = run_cli("catalogs", "import", "-c", str(config), str(catcfdi), "--json")
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)
    assert [c["catalog"] for c in imported["catalogs"]] == ["c_ClaveProdServ"]
    assert imported["ignored_sheets"] == ["catCFDI_V_4_20260115.xls:c_TasaOCuota"]  # a sheet the checks do not read
    assert imported["catalogs"][0]["version"] == "4.0 rev. 1"
    assert imported["catalogs"][0]["published"] == "2026-01-15"

    after = _validate(config, path)
    assert not [f for f in after["findings"] if NEW_KEY in f["message"]]
    assert _findings(after) == sorted(set(_findings(before)) - set(_findings({"findings": on_key})))
    assert not [f for f in after["findings"] if f["severity"] == "error"], after["findings"]

    info = json.loads(run_cli("catalogs", "info", "--json", "-c", str(config)).stdout)
    rows = {entry["catalog"]: entry for entry in info["per_catalog"]}
    assert rows["c_ClaveProdServ"]["source"].endswith("catCFDI_V_4_20260115.xls")
    assert rows["c_ClaveProdServ"]["rows"] == len(_keys_of(invoice))
    assert rows["c_ClaveProdServ"]["published"] == "2026-01-15" and rows["c_ClaveProdServ"]["age_days"] >= 0
    assert rows["c_Moneda"]["source"].startswith("wheel satcfdi") and rows["c_Moneda"]["age_days"] is None


def _moneda(root: Path, name: str, rows: list[list[object]] | None = None,
            columns: list[str] | None = None) -> Path:
    columns = columns or ["c_Moneda", "Descripción", "Decimales", "Porcentaje variación", *VIGENCIA]
    rows = rows or [["MXN", "Peso Mexicano", 2, "500%", dt.date(2022, 1, 1), None],
                    ["USD", "Dolar americano", 2, "500%", dt.date(2022, 1, 1), None]]
    return write_xls(root / name, {"c_Moneda": (sat_header("Catálogo de monedas."), columns, rows)})


def _import(config: Path, *files: Path, force: bool = False):
    done = run_cli("catalogs", "import", "-c", str(config), *map(str, files), *(["--force"] if force else []))
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _in_force(config: Path) -> dict[str, dict]:
    done = run_cli("catalogs", "info", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    return {entry["catalog"]: entry for entry in json.loads(done.stdout)["per_catalog"]}


@pytest.mark.parametrize("contents, expected", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "dañado / damaged .xls"),  # an OLE2 head, then nothing
    (b"PK\x03\x04not really a zip", "dañado / damaged .xlsx"),
    (b"clave,descripcion\n01,KILO\n", "not an .xls or .xlsx"),
])
def test_a_corrupt_file_is_refused_with_one_line_and_exit_2(workspace, contents, expected) -> None:
    root, config = workspace
    bad = root / "catCFDI_V_4_20260115.xls"
    bad.write_bytes(contents)
    done = _import(config, bad)
    assert done.returncode == 2 and expected in done.stderr and str(bad) in done.stderr
    assert not (root / "var" / "catalogs" / "imported.sqlite").exists()


def test_an_unrelated_spreadsheet_is_refused(workspace) -> None:
    root, config = workspace
    other = write_xls(root / "ventas.xls", {"Hoja1": ([], ["Cliente", "Importe"], [["ACME", 10.5]])})
    done = _import(config, other)
    assert done.returncode == 2 and "ninguna hoja es un catálogo del SAT" in done.stderr and "Hoja1" in done.stderr


def test_a_changed_layout_names_the_sheet_and_the_column(workspace) -> None:
    root, config = workspace
    renamed = _moneda(root, "catCFDI_V_4_20260115.xls",
                      columns=["c_Moneda", "Descripción", "Dígitos", "Porcentaje variación", *VIGENCIA])
    done = _import(config, renamed)
    assert done.returncode == 2, done.stderr
    assert "hoja c_Moneda" in done.stderr and "'Decimales'" in done.stderr and "Dígitos" in done.stderr
    no_key = write_xls(root / "catCFDI_V_4_20260116.xls", {
        "c_Moneda": (sat_header("Catálogo de monedas."), ["Clave", "Descripción", "Decimales"], [["MXN", "Peso", 2]])})
    done = _import(config, no_key)
    assert done.returncode == 2 and "hoja c_Moneda" in done.stderr and "'c_Moneda' not found" in done.stderr


def test_a_key_of_the_wrong_format_names_sheet_row_and_column(workspace) -> None:
    root, config = workspace
    bad = _moneda(root, "catCFDI_V_4_20260115.xls", rows=[["MXN", "Peso", 2, "", None, None],
                                                          ["US$", "Dolar", 2, "", None, None]])
    done = _import(config, bad)
    assert done.returncode == 2
    assert "hoja c_Moneda, fila 7, columna c_Moneda" in done.stderr and "'US$'" in done.stderr


def test_an_older_catalog_is_refused_unless_forced(workspace) -> None:
    root, config = workspace
    assert _import(config, _moneda(root, "catCFDI_V_4_20260301.xls")).returncode == 0
    old = _moneda(root, "catCFDI_V_4_20251101.xls", rows=[["MXN", "Peso", 2, "", None, None]])
    done = _import(config, old)
    assert done.returncode == 2
    assert "c_Moneda 2025-11-01 < 2026-03-01 (catCFDI_V_4_20260301.xls)" in done.stderr and "--force" in done.stderr
    assert _in_force(config)["c_Moneda"]["published"] == "2026-03-01"
    assert _import(config, old, force=True).returncode == 0
    assert _in_force(config)["c_Moneda"]["published"] == "2025-11-01" and _in_force(config)["c_Moneda"]["rows"] == 1


def test_an_import_killed_before_its_rename_leaves_the_old_catalogs_in_force(workspace) -> None:
    root, config = workspace
    assert _import(config, _moneda(root, "catCFDI_V_4_20260301.xls")).returncode == 0
    newer = _moneda(root, "catCFDI_V_4_20260401.xls", rows=[["EUR", "Euro", 2, "", None, None]])
    killed = run_cli("catalogs", "import", "-c", str(config), str(newer),
                     env={"IMMEX_GATEWAY_CRASH_AT": "catalogs.before-rename"})
    assert killed.returncode == -signal.SIGKILL
    assert list((root / "var" / "catalogs").glob(".imported-*.tmp"))  # the complete new set, never renamed
    in_force = _in_force(config)["c_Moneda"]
    assert in_force["published"] == "2026-03-01" and in_force["rows"] == 2
    assert _import(config, newer).returncode == 0  # the next import clears the leftover and completes
    assert _in_force(config)["c_Moneda"]["published"] == "2026-04-01"
    assert not list((root / "var" / "catalogs").glob(".imported-*.tmp"))


def test_imports_accumulate_catalog_by_catalog(workspace) -> None:
    """A Comercio Exterior file after catCFDI replaces its own catalogs and keeps the others."""
    root, config = workspace
    assert _import(config, _moneda(root, "catCFDI_V_4_20260301.xls")).returncode == 0
    cce = write_xls(root / "c_UnidadAduana_20260310.xls", {"c_UnidadAduana": (
        sat_header("Catálogo de unidades de medida aduana.", "2.0", 0), ["c_UnidadAduana", "Descripción", *VIGENCIA],
        [[f"{n:02d}", f"Unidad {n}", dt.date(2024, 1, 18), None] for n in (*range(1, 23), 99)])})
    assert _import(config, cce).returncode == 0
    in_force = _in_force(config)
    assert in_force["c_Moneda"]["rows"] == 2 and in_force["c_UnidadAduana"]["rows"] == 23
    assert in_force["c_UnidadAduana"]["version"] == "2.0 rev. 0"
