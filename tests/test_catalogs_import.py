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

from tests.catalog_fixtures import catalogs_workspace
from tests.catalog_fixtures import import_files as _import
from tests.catalog_fixtures import in_force as _in_force
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
    return catalogs_workspace(tmp_path)


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
                     env={"IMMEX_GATEWAY_CRASH_AT": "catalogs.before-commit"})
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


def _kind(root: Path):
    from gateway.config import from_dict
    from gateway.kinds import KindRegistry

    settings = from_dict({"gateway": {"data_dir": "var"}, "validation": {"certificate_dirs": []}}, root)
    return KindRegistry(settings.certificate_dirs, None, settings.sat_data_files, settings=settings).get("cfdi"), \
        settings.catalogs_dir


def _errors(kind, invoice: bytes) -> list:
    return [f for f in kind.check(invoice).findings if f.severity.value == "error"]


def test_a_running_kind_takes_the_import_and_honours_validity_dates(tmp_path, make_invoice) -> None:
    """The same CfdiKind (a running node) sees a new set; an entry not in force on the Fecha is an error."""
    from gateway.kinds.satcatalogs.importer import import_files

    kind, directory = _kind(tmp_path)
    invoice = make_invoice(2602, mutate=_with_key(NEW_KEY))
    assert [f for f in _errors(kind, invoice) if NEW_KEY in f.message]
    keys = _keys_of(invoice)
    others = [k for k in keys if k != NEW_KEY]
    fecha = dt.date.fromisoformat(etree.fromstring(invoice).get("Fecha")[:10])
    rows = prodserv_rows(keys, **{f"k{NEW_KEY}": (fecha + dt.timedelta(days=30), None),  # in force only later
                                  f"k{others[0]}": (dt.date(2022, 1, 1), fecha - dt.timedelta(days=1))})  # ended
    first = write_xls(tmp_path / "catCFDI_V_4_20260201.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS, rows)})
    import_files([first], directory)
    late = _errors(kind, invoice)
    assert sorted((f.code, f.location["xpath"].rsplit("/@", 1)[1]) for f in late) == [
        ("CFDI-CATALOG-VIGENCIA", "ClaveProdServ"), ("CFDI-CATALOG-VIGENCIA", "ClaveProdServ")]
    assert any(NEW_KEY in f.message and "vigencia: del" in f.message for f in late)

    second = write_xls(tmp_path / "catCFDI_V_4_20260301.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS, prodserv_rows(keys))})
    import_files([second], directory)
    assert _errors(kind, invoice) == []


def test_a_small_enumeration_libxml2_checks_is_replaced_too(tmp_path, make_invoice) -> None:
    """c_UnidadAduana (23 values, left in the schema for libxml2) takes an imported key as well."""
    from gateway.kinds.satcatalogs.importer import import_files

    kind, directory = _kind(tmp_path)

    def unidad_23(root: etree._Element) -> None:
        for element in root.iter():
            if element.get("UnidadAduana") is not None:
                element.set("UnidadAduana", "23")

    invoice = make_invoice(2603, mutate=unidad_23)
    before = _errors(kind, invoice)
    assert before and all("23" in f.message and "UnidadAduana" in f.message for f in before), before
    cce = write_xls(tmp_path / "c_UnidadAduana_20260310.xls", {"c_UnidadAduana": (
        sat_header("Catálogo de unidades de medida aduana.", "2.0", 1), ["c_UnidadAduana", "Descripción", *VIGENCIA],
        [[f"{n:02d}", f"Unidad {n}", dt.date(2024, 1, 18), None] for n in (*range(1, 24), 99)])})
    import_files([cce], directory)
    assert _errors(kind, invoice) == []


def test_an_xlsx_of_the_same_layout_is_read_too(tmp_path) -> None:
    import openpyxl

    from gateway.kinds.satcatalogs.importer import read_files

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "c_CodigoPostal_Parte_1"
    for row in [["Catálogo de códigos postales."], [None, "Versión", "Revisión", "Fecha de publicación"],
                [None, "4.0", 2, dt.datetime(2026, 2, 20)], [],
                ["c_CodigoPostal", "c_Estado", "c_Municipio", "c_Localidad", "Estímulo Franja Fronteriza", *VIGENCIA],
                ["01000", "CMX", "010", "01", "0", dt.datetime(2022, 1, 1), None], [1010, "CMX", "010", None, "0"]]:
        sheet.append(row)
    part2 = book.create_sheet("c_CodigoPostal_Parte_2")
    part2.append(["c_CodigoPostal", "c_Estado", "c_Municipio", "c_Localidad"])
    part2.append(["99999", "ZAC", 58, 1])  # numbers where SAT writes "058" and "01"
    book.save(tmp_path / "catCFDI.xlsx")
    (catalog,), ignored = read_files([tmp_path / "catCFDI.xlsx"])
    assert ignored == [] and catalog.name == "c_CodigoPostal" and catalog.version == "4.0 rev. 2"
    assert catalog.published == dt.date(2026, 2, 20)  # from the header: the file name carries no date
    assert catalog.entries[("01010",)].values == {"c_Estado": "CMX", "c_Municipio": "010", "c_Localidad": ""}
    assert set(catalog.entries) == {("01000",), ("01010",), ("99999",)}  # a number stored as 1010 keeps its zero
    assert catalog.entries[("99999",)].values == {"c_Estado": "ZAC", "c_Municipio": "058", "c_Localidad": "01"}


def test_healthz_and_the_overview_warn_about_an_old_catalog(tmp_path) -> None:
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import REPO
    from tests.web_fixtures import _users, free_port, wait_ready

    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\ndata_dir = "var"\n[validation]\ncertificate_dirs = []\n'
                      'catalog_max_age = "30d"\n', encoding="utf-8")
    assert _import(config, _moneda(tmp_path, "catCFDI_V_4_20200115.xls")).returncode == 0
    tokens = _users(config)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(config), "--port", str(port)],
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        bearer = {"Authorization": f"Bearer {tokens['ana']}"}  # without a login /healthz says only ok/unhealthy
        with urllib.request.urlopen(urllib.request.Request(url + "/healthz", headers=bearer), timeout=10) as answer:
            health = json.loads(answer.read())
        assert health["status"] == "ok"  # an old catalog warns; it does not make the node unhealthy
        warning, = health["warnings"]
        assert warning.startswith("c_Moneda: publicado el 2020-01-15") and "catalogs import" in warning
        request = urllib.request.Request(url + "/api/overview?days=1",
                                         headers={"Authorization": f"Bearer {tokens['ana']}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["catalog_warnings"] == [warning]
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_every_node_of_a_postgresql_store_installs_the_imported_set(tmp_path, make_invoice) -> None:
    """Node A imports; node B (own data_dir, same store) installs the same set on its next pass and accepts the
    invoice it rejected; a node started later catches up the same way."""
    from tests.catalog_fixtures import two_nodes_on_postgresql

    configs = two_nodes_on_postgresql(tmp_path)
    invoice = make_invoice(2604, mutate=_with_key(NEW_KEY))
    path = tmp_path / "factura.xml"
    path.write_bytes(invoice)
    assert [f for f in _validate(configs["b"], path)["findings"] if NEW_KEY in f["message"]]

    catcfdi = write_xls(tmp_path / "catCFDI_V_4_20260115.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS,
                            prodserv_rows(_keys_of(invoice)))})
    assert _import(configs["a"], catcfdi).returncode == 0
    b_file = tmp_path / "b" / "var" / "catalogs" / "imported.sqlite"
    assert not b_file.exists()
    ran = run_cli("run", "--once", "-c", str(configs["b"]))  # a pass of node B installs the store's set
    assert ran.returncode == 0, ran.stderr
    assert b_file.read_bytes() == (tmp_path / "a" / "var" / "catalogs" / "imported.sqlite").read_bytes()
    assert not [f for f in _validate(configs["b"], path)["findings"] if f["severity"] == "error"]
    older = write_xls(tmp_path / "catCFDI_V_4_20251201.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS,
                            prodserv_rows(["01010101"]))})
    done = _import(configs["b"], older)  # B compares with the set in force for every node
    assert done.returncode == 2 and "2025-12-01 < 2026-01-15" in done.stderr


def test_every_key_of_the_wheels_edition_has_its_layouts_format() -> None:
    """The key formats refuse a changed layout, never a real SAT key (c_UnidadAduana's one-digit keys are CCE 1.1's
    catalog, which the wheel merges in; CCE 2.0's file has two digits)."""
    import sqlite3

    from gateway.kinds.cfdi.catalogs import _TABLES, _plain, satcfdi_database
    from gateway.kinds.satcatalogs.layouts import LAYOUTS

    database = sqlite3.connect(satcfdi_database())
    misfits = {}
    for name, layout in LAYOUTS.items():
        for (raw,) in database.execute(f'SELECT key FROM "{_TABLES[name]}"'):
            key = _plain(raw)
            key = key if isinstance(key, tuple) else (key,)
            if not all(layout.key_pattern(i).fullmatch(str(part)) for i, part in enumerate(key[:len(layout.keys)])):
                misfits.setdefault(name, []).append(key)
    database.close()
    assert set(misfits) == {"c_UnidadAduana"} and all(len(k[0]) == 1 for k in misfits["c_UnidadAduana"])


def test_an_xlsx_bomb_is_refused_by_the_limits_before_unpacking(workspace) -> None:
    import zipfile

    root, config = workspace
    bomb = root / "catCFDI_V_4_20260115.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (64 * 1024 * 1024))
    done = _import(config, bomb)
    assert done.returncode == 2 and "max_compression_ratio" in done.stderr


def test_config_check_names_the_imported_catalogs_and_warns_about_old_ones(workspace) -> None:
    root, config = workspace
    assert _import(config, _moneda(root, "catCFDI_V_4_20200115.xls")).returncode == 0
    done = run_cli("config", "check", "--json", "-c", str(config))
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    checks = report["checks"] if isinstance(report, dict) else report
    entry, = [c for c in checks if c["subject"] == "catálogos / catalogs"]
    assert entry["status"] == "warning" and "1 catálogo(s) importado(s)" in entry["message"]
    assert "c_Moneda: publicado el 2020-01-15" in entry["message"]


def test_an_imported_postal_code_feeds_the_matrix_with_its_state_and_municipality(tmp_path, make_invoice) -> None:
    """c_CodigoPostal's columns (c_Estado, c_Municipio, c_Localidad) reach the rules that read them, numbers
    written as numbers included; a new postal code in LugarExpedicion is accepted after the import."""
    from gateway.kinds.cfdi.catalogs import catalogs
    from gateway.kinds.satcatalogs.importer import import_files

    new_cp = "00001"
    assert new_cp not in catalogs().codigo_postal
    kind, directory = _kind(tmp_path)
    def moved(root: etree._Element) -> None:  # with the generic RFC both must agree (CFDI40149)
        root.set("LugarExpedicion", new_cp)
        root.find(f"{CFDI}Receptor").set("DomicilioFiscalReceptor", new_cp)

    invoice = make_invoice(2605, mutate=moved)
    assert [f for f in _errors(kind, invoice) if "LugarExpedicion" in f.location.get("xpath", "")]
    used = sorted({v for e in etree.fromstring(invoice).iter() for k, v in e.attrib.items()
                   if k in ("CodigoPostal", "DomicilioFiscalReceptor", "LugarExpedicion") and v != new_cp})
    rows = [[cp, *catalogs().codigo_postal.get(cp), "0", dt.date(2022, 1, 1), None] for cp in used]
    estado, municipio, localidad = catalogs().codigo_postal.get(used[0])
    rows.append([new_cp, estado, int(municipio), int(localidad), "0", dt.date(2022, 1, 1), None])
    columns = ["c_CodigoPostal", "c_Estado", "c_Municipio", "c_Localidad", "Estímulo Franja Fronteriza", *VIGENCIA]
    catcfdi = write_xls(tmp_path / "catCFDI_V_4_20260115.xls", {
        "c_CodigoPostal_Parte_1": (sat_header("Catálogo de códigos postales."), columns, rows[:1]),
        "c_CodigoPostal_Parte_2": ([], columns, rows[1:])})
    import_files([catcfdi], directory)
    assert catalogs(directory).codigo_postal.get(new_cp) == (estado, municipio, localidad)
    assert _errors(kind, invoice) == []


def test_an_unreadable_set_file_falls_back_to_the_wheel_instead_of_failing_every_invoice(tmp_path, make_invoice):
    kind, directory = _kind(tmp_path)
    directory.mkdir(parents=True)
    (directory / "imported.sqlite").write_bytes(b"not a database" * 100)
    invoice = make_invoice(2606)
    assert _errors(kind, invoice) == []


def test_the_operators_routine_import_then_retry_forwards_the_rejected_invoice(tmp_path, identities, make_invoice):
    """run --once rejects the invoice with the new key; catalogs import, queue retry: forwarded."""
    from gateway.demo.generate.cfdi import write_certificate
    from tests.conftest import Workspace, write_config

    write_certificate(identities[1], tmp_path / "certs")
    (tmp_path / "inbox").mkdir()
    space = Workspace(tmp_path, write_config(tmp_path))
    invoice = make_invoice(2607, mutate=_with_key(NEW_KEY))
    (space.inbox / "factura-nueva-clave.xml").write_bytes(invoice)
    assert space.cli("run", "--once").returncode == 0
    rejected, = space.documents()
    assert rejected["state"] == "rejected"

    catcfdi = write_xls(tmp_path / "catCFDI_V_4_20260115.xls", {
        "c_ClaveProdServ": (sat_header("Catálogo de productos / servicios."), PRODSERV_COLUMNS,
                            prodserv_rows(_keys_of(invoice)))})
    assert _import(space.config, catcfdi).returncode == 0
    retried = space.cli("queue", "retry", rejected["id"])
    assert retried.returncode == 0, retried.stderr
    assert space.documents()[0]["state"] == "forwarded" and len(space.forwarded_files()) == 1
