"""``immex-gateway catalogs import`` with Anexo 22 appendices: files made here (openpyxl .xlsx, xlwt .xls, CSV and
the gateway's own JSON form), imported through the CLI and read by the pedimento checks.

The proof against false rejections: a pedimento with a clave de pedimento the package's Apéndice 2 lacks is
rejected before the import and accepted after it, with every other finding the same.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
from pathlib import Path

import pytest

from gateway.demo.generate import pedimento as gen
from tests.catalog_fixtures import catalogs_workspace
from tests.catalog_fixtures import import_files as _import
from tests.catalog_fixtures import in_force as _in_force
from tests.conftest import run_cli

PACKAGE = Path(__file__).resolve().parents[1] / "gateway" / "kinds" / "pedimento" / "catalogs"
NEW_CLAVE = "ZZ"  # not in the package's Apéndice 2 (checked below)


def _package(name: str) -> dict:
    return json.loads((PACKAGE / f"{name}.json").read_text(encoding="utf-8"))


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def appendix_rows(title: str, keys: dict[str, str], published: dt.date | None = dt.date(2026, 1, 15),
                  valid_from: dt.date | None = None, columns: tuple[str, str] = ("Clave", "Descripción")
                  ) -> list[list[object]]:
    """SAT's appendix layout: a title, the dates over their labels, the columns, one row per key."""
    head: list[list[object]] = [[title]]
    if published is not None:
        head.append(["Fecha de publicación:", dt.datetime.combine(published, dt.time())])
    if valid_from is not None:
        head.append(["Vigente a partir de:", dt.datetime.combine(valid_from, dt.time())])
    return [*head, [], list(columns), *([key, text] for key, text in keys.items())]


def claves_with(*extra: str) -> dict[str, str]:
    return {**_package("claves_pedimento")["values"], **{key: f"Clave nueva {key}" for key in extra}}


@pytest.fixture()
def workspace(tmp_path):
    return catalogs_workspace(tmp_path)


def _pedimento(root: Path, clave: str = NEW_CLAVE, identifiers: tuple[str, ...] = ("Q9",)) -> Path:
    """A pedimento with ``clave`` and ``identifiers`` besides its IMMEX one (Q9: not in the package's partial
    Apéndice 8, a warning)."""
    sample = gen.sample_pedimento(1, 1)
    ped = gen.replace(sample, clave=clave, identifiers=sample.identifiers + [(i, "", "", "") for i in identifiers])
    path = root / "pedimento.txt"
    path.write_text("\n".join(gen.pedimento_lines(ped)) + "\n", encoding="utf-8")
    return path


def _validate(config: Path, path: Path) -> list[tuple]:
    done = run_cli("validate", "--json", "-c", str(config), str(path))
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    return sorted((f["code"], f["severity"], f["message"], json.dumps(f.get("location"), sort_keys=True))
                  for f in report["findings"])


def test_the_new_clave_is_not_in_the_package() -> None:
    from gateway.kinds.pedimento.catalogs import catalog

    assert NEW_CLAVE not in catalog("claves_pedimento") and "IN" in catalog("claves_pedimento")
    assert "Q9" not in catalog("identificadores") and not catalog("identificadores").complete


def test_false_rejection_before_import_accepted_after_with_the_same_other_findings(workspace) -> None:
    root, config = workspace
    pedimento = _pedimento(root)
    before = _validate(config, pedimento)
    on_clave = [f for f in before if f"'{NEW_CLAVE}'" in f[2]]
    assert [f[:2] for f in on_clave] == [("PED-CATALOG", "error")], before
    assert [f[:2] for f in before if f not in on_clave] == [("PED-CATALOG", "warning")]  # Q9, partial appendix

    book = write_xlsx(root / "anexo22_apendices.xlsx", {
        "Apéndice 2": appendix_rows("Apéndice 2 Claves de pedimento", claves_with(NEW_CLAVE)),
        "Notas": [["Notas del anexo"], ["Texto libre"]],
    })
    done = run_cli("catalogs", "import", "-c", str(config), str(book), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    entry, = report["catalogs"]
    assert entry["catalog"] == "anexo22/claves_pedimento" and entry["appendix"] == "2"
    assert entry["published"] == entry["valid_from"] == "2026-01-15" and entry["rows"] == 77
    assert report["ignored_sheets"] == ["anexo22_apendices.xlsx:Notas"]

    after = _validate(config, pedimento)
    assert after == sorted(set(before) - set(on_clave))

    info = _in_force(config)
    claves = info["anexo22/claves_pedimento"]
    assert claves["imported"] and claves["source"].endswith("anexo22_apendices.xlsx")
    assert claves["published"] == "2026-01-15" and claves["age_days"] >= 0 and claves["rows"] == 77
    package = info["anexo22/identificadores"]
    assert not package["imported"] and package["source"].startswith("paquete") and package["age_days"] is None
    assert package["valid_from"] == "2022-01-01" and package["rows"] == len(_package("identificadores")["values"])


def test_a_running_kind_takes_the_import_and_a_complete_appendix_makes_a_missing_code_an_error(tmp_path) -> None:
    """The same PedimentoKind (a running node) sees the new set; the operator's JSON (the package's form, Q9
    added, marked complete) turns Q9 from a warning into nothing and an identifier left out into an error."""
    from gateway.config import from_dict
    from gateway.kinds import KindRegistry
    from gateway.kinds.satcatalogs.importer import import_files

    settings = from_dict({"gateway": {"data_dir": "var"}, "validation": {"certificate_dirs": []}}, tmp_path)
    kind = KindRegistry(settings.certificate_dirs, None, settings.sat_data_files, settings=settings).get("pedimento")
    data = _pedimento(tmp_path, clave="IN", identifiers=("Q9", "AF")).read_bytes()
    before = [(f.code, f.severity.value) for f in kind.check(data).findings]
    assert before == [("PED-CATALOG", "warning")]

    updated = _package("identificadores")
    updated["values"] = {**{k: v for k, v in updated["values"].items() if k != "AF"}, "Q9": "Identificador nuevo"}
    updated.update(complete=True, valid_from="2026-02-01", source="DOF 2026-02-01, transcrito por la empresa")
    file = tmp_path / "identificadores.json"
    file.write_text(json.dumps(updated, ensure_ascii=False), encoding="utf-8")
    outcome = import_files([file], settings.catalogs_dir)
    assert [a.name for a in outcome.appendices] == ["identificadores"] and outcome.appendices[0].complete
    from gateway.kinds.cfdi.catalogs import catalogs

    assert catalogs(settings.catalogs_dir).imported is None  # the CFDI side keeps the wheel's, schemas unchanged
    found = kind.check(data).findings
    assert [(f.code, f.severity.value) for f in found] == [("PED-CATALOG", "error")]
    assert "'AF'" in found[0].message and "vigente desde 2026-02-01" in found[0].message


def test_numeric_keys_lose_their_zeros_and_an_aduana_keeps_two_digits(tmp_path) -> None:
    """A CSV (semicolons, Windows-1252) and an .xls sheet titled in a row: keys as the rules compare them."""
    from gateway.kinds.satcatalogs.importer import read_sources
    from tests.test_catalogs_import import write_xls

    unidades = tmp_path / "Apendice 7 unidades_20260115.csv"
    unidades.write_bytes("Clave de unidad;Descripción de la unidad\n01;KILO\n06;PIEZA\n21;KILOWATT HORA\n"
                         .encode("cp1252"))
    xls = write_xls(tmp_path / "anexo22_20260115.xls", {"Hoja1": (
        [["Apéndice 1 Aduanas"]], ["Aduana", "Sección", "Denominación"], [["01", "0", "ACAPULCO"], [240, "", "NL"]])})
    found = read_sources([unidades, xls])
    assert found.appendices["unidades"].values == {"1": "KILO", "6": "PIEZA", "21": "KILOWATT HORA"}
    assert found.appendices["aduanas"].values == {"01": "ACAPULCO", "24": "NL"}  # 240: aduana 24, sección 0
    assert found.appendices["aduanas"].published == dt.date(2026, 1, 15)  # from the file name


def test_a_changed_layout_names_file_sheet_and_column(workspace) -> None:
    root, config = workspace
    renamed = write_xlsx(root / "anexo22.xlsx", {
        "Apéndice 2 Claves de pedimento": appendix_rows("Apéndice 2", claves_with(), columns=("Clave", "Texto"))})
    done = _import(config, renamed)
    assert done.returncode == 2
    assert "anexo22.xlsx, hoja Apéndice 2 Claves de pedimento, fila 4" in done.stderr
    assert "'Descripción'" in done.stderr and "Texto" in done.stderr
    no_key = write_xlsx(root / "anexo22b.xlsx", {
        "Apéndice 8": appendix_rows("Apéndice 8 Identificadores", {"AF": "x"}, columns=("Código", "Descripción"))})
    done = _import(config, no_key)
    assert done.returncode == 2 and "hoja Apéndice 8" in done.stderr and "'Clave' not found" in done.stderr
    assert not (root / "var" / "catalogs" / "imported.sqlite").exists()


@pytest.mark.parametrize("sheet, keys, column_row", [
    ("Apéndice 5 Monedas", {"USD": "Dólar", "US$": "Dólar"}, "fila 6, columna Clave: la clave 'US$'"),
    ("Apéndice 4 Países", {"MEX": "México", "MX": "México"}, "fila 6, columna Clave: la clave 'MX'"),
    ("Apéndice 1 Aduanas", {"01": "Acapulco", "A7": "?"}, "fila 6, columna Clave: la clave 'A7'"),
    ("Apéndice 2 Claves", {"IN": "IMMEX", "IN1": "?"}, "fila 6, columna Clave: la clave 'IN1'"),
    ("Apéndice 7 Unidades", {"1": "Kilo", "KGM": "?"}, "fila 6, columna Clave: la clave 'KGM'"),
])
def test_a_key_of_the_wrong_format_names_sheet_row_and_column(workspace, sheet, keys, column_row) -> None:
    root, config = workspace
    done = _import(config, write_xlsx(root / "anexo22.xlsx", {sheet: appendix_rows(sheet, keys)}))
    assert done.returncode == 2 and f"anexo22.xlsx, hoja {sheet}, {column_row}" in done.stderr, done.stderr


def test_an_unknown_appendix_and_a_foreign_json_are_refused_and_nothing_is_written(workspace) -> None:
    root, config = workspace
    good = write_xlsx(root / "anexo22.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE))})
    recintos = root / "Apéndice 6 Recintos fiscalizados 20260115.csv"
    recintos.write_text("Clave,Descripción\n123,Recinto\n", encoding="utf-8")
    done = _import(config, good, recintos)
    assert done.returncode == 2 and str(recintos) in done.stderr and "el apéndice 6 no lo usa el gateway" in done.stderr
    unnamed = root / "lista.csv"
    unnamed.write_text("Clave,Descripción\nIN,x\n", encoding="utf-8")
    assert "no se sabe qué apéndice es" in _import(config, unnamed).stderr
    foreign = root / "regimenes.json"
    foreign.write_text(json.dumps({**_package("claves_pedimento"), "catalog": "regimenes"}), encoding="utf-8")
    done = _import(config, good, foreign)
    assert done.returncode == 2 and "regimenes.json: apéndice desconocido / unknown appendix" in done.stderr
    wrong_number = root / "claves.json"
    wrong_number.write_text(json.dumps({**_package("claves_pedimento"), "appendix": "3"}), encoding="utf-8")
    assert "campo / field 'appendix'" in _import(config, wrong_number).stderr
    bad_key = root / "claves2.json"
    bad_key.write_text(json.dumps({**_package("claves_pedimento"), "values": {"in": "x"}}), encoding="utf-8")
    assert "claves2.json, campo / field 'values', clave 'in'" in _import(config, bad_key).stderr
    assert not (root / "var" / "catalogs" / "imported.sqlite").exists()  # the good file of each run neither


def test_an_older_appendix_is_refused_unless_forced(workspace) -> None:
    root, config = workspace
    newer = write_xlsx(root / "ap2_2026.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE),
                                                                           dt.date(2026, 3, 1))})
    assert _import(config, newer).returncode == 0
    older = write_xlsx(root / "ap2_2025.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(),
                                                                           dt.date(2025, 6, 1))})
    done = _import(config, older)
    assert done.returncode == 2 and "--force" in done.stderr
    assert "claves_pedimento (apéndice 2) vigente desde 2025-06-01" in done.stderr and "(ap2_2026.xlsx)" in done.stderr
    assert _in_force(config)["anexo22/claves_pedimento"]["published"] == "2026-03-01"
    assert _import(config, older, force=True).returncode == 0
    in_force = _in_force(config)["anexo22/claves_pedimento"]
    assert in_force["published"] == "2025-06-01" and in_force["rows"] == 76

    before_package = root / "ap7.json"  # older than the package's own appendix, nothing imported before
    before_package.write_text(json.dumps({**_package("unidades"), "valid_from": "2019-01-01"}), encoding="utf-8")
    done = _import(config, before_package)
    assert done.returncode == 2 and "2019-01-01 < 2022-01-01 (paquete del gateway" in done.stderr
    assert _import(config, before_package, force=True).returncode == 0


def test_an_import_killed_before_its_rename_leaves_the_old_appendix_in_force(workspace) -> None:
    root, config = workspace
    first = write_xlsx(root / "ap2_a.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE),
                                                                        dt.date(2026, 3, 1))})
    assert _import(config, first).returncode == 0
    second = write_xlsx(root / "ap2_b.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE, "Z8"),
                                                                         dt.date(2026, 4, 1))})
    killed = run_cli("catalogs", "import", "-c", str(config), str(second),
                     env={"IMMEX_GATEWAY_CRASH_AT": "catalogs.before-commit"})
    assert killed.returncode == -signal.SIGKILL
    assert list((root / "var" / "catalogs").glob(".imported-*.tmp"))
    in_force = _in_force(config)["anexo22/claves_pedimento"]
    assert in_force["published"] == "2026-03-01" and in_force["rows"] == 77
    assert _import(config, second).returncode == 0
    assert _in_force(config)["anexo22/claves_pedimento"]["rows"] == 78


def test_catalogs_and_appendices_accumulate_and_old_ones_warn(workspace) -> None:
    """A CFDI catalog imported after an appendix keeps it (and the reverse); an appendix published long ago warns
    like an old CFDI catalog (the package's appendices carry no publication date and never do)."""
    from gateway.kinds.cfdi.catalog_info import warnings
    from tests.test_catalogs_import import _moneda

    root, config = workspace
    old = write_xlsx(root / "ap2.xlsx", {"Apéndice 2": appendix_rows(
        "Apéndice 2", claves_with(NEW_CLAVE), published=dt.date(2021, 12, 20), valid_from=dt.date(2022, 1, 1))})
    assert _import(config, old).returncode == 0
    assert _import(config, _moneda(root, "catCFDI_V_4_20260301.xls")).returncode == 0
    info = _in_force(config)
    assert info["anexo22/claves_pedimento"]["imported"] and info["anexo22/claves_pedimento"]["valid_from"] == \
        "2022-01-01" and info["c_Moneda"]["imported"]
    lines = [line for line in warnings(root / "var" / "catalogs", 30 * 86400) if line.startswith("anexo22/")]
    assert len(lines) == 1 and lines[0].startswith("anexo22/claves_pedimento: publicado el 2021-12-20")
    done = run_cli("config", "check", "--json", "-c", str(config))
    report = json.loads(done.stdout)
    checks = report["checks"] if isinstance(report, dict) else report
    entry, = [c for c in checks if c["subject"] == "catálogos / catalogs"]
    assert entry["status"] == "warning" and "anexo22/claves_pedimento: publicado el 2021-12-20" in entry["message"]


def test_a_set_written_before_appendices_is_read_and_extended(tmp_path) -> None:
    """The set file of an earlier release (no appendix tables) keeps working; an import adds the tables."""
    from gateway.kinds.pedimento.catalogs import catalog
    from gateway.kinds.satcatalogs import imported
    from gateway.kinds.satcatalogs.importer import import_files

    directory = tmp_path / "catalogs"
    directory.mkdir()
    old = sqlite3.connect(directory / "imported.sqlite")
    old.executescript(
        "CREATE TABLE catalogs (name TEXT PRIMARY KEY, file TEXT NOT NULL, version TEXT NOT NULL, published TEXT "
        "NOT NULL, imported_at TEXT NOT NULL, rows INTEGER NOT NULL);"
        "CREATE TABLE entries (catalog TEXT NOT NULL, key TEXT NOT NULL, key2 TEXT NOT NULL, start TEXT, end_ TEXT, "
        "data TEXT, PRIMARY KEY (catalog, key, key2)) WITHOUT ROWID;"
        "INSERT INTO catalogs VALUES ('c_Moneda', 'catCFDI.xls', '4.0', '2026-01-01', '2026-01-02', 1);"
        "INSERT INTO entries VALUES ('c_Moneda', 'MXN', '', NULL, NULL, '{\"Decimales\": \"2\"}');")
    old.commit()
    old.close()
    imported.forget(directory)
    assert imported.current(directory).appendices == {} and NEW_CLAVE not in catalog("claves_pedimento", directory)
    book = write_xlsx(tmp_path / "ap2.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE))})
    import_files([book], directory)
    assert NEW_CLAVE in catalog("claves_pedimento", directory) and "c_Moneda" in imported.current(directory).meta


def test_the_layouts_agree_with_the_package() -> None:
    """Every appendix file of the package reads through the JSON import unchanged: same names, numbers, titles,
    keys in their appendix's format."""
    from gateway.kinds.satcatalogs.appendices import from_json
    from gateway.kinds.satcatalogs.appendix_layouts import APPENDICES

    files = sorted(PACKAGE.glob("*.json"))
    assert {f.stem for f in files} == set(APPENDICES)
    for file in files:
        raw, read = _package(file.stem), from_json(file)
        assert (read.appendix, read.title, read.values) == (raw["appendix"], APPENDICES[file.stem].title,
                                                            raw["values"]), file.name


def test_every_node_of_a_postgresql_store_uses_the_imported_appendix(tmp_path) -> None:
    """Node A imports; node B (own data_dir, same store) installs the set on its next pass and accepts the
    pedimento it rejected."""
    from tests.catalog_fixtures import two_nodes_on_postgresql

    configs = two_nodes_on_postgresql(tmp_path)
    pedimento = _pedimento(tmp_path, identifiers=())
    assert [f[:2] for f in _validate(configs["b"], pedimento)] == [("PED-CATALOG", "error")]
    book = write_xlsx(tmp_path / "ap2.xlsx", {"Apéndice 2": appendix_rows("Apéndice 2", claves_with(NEW_CLAVE))})
    assert _import(configs["a"], book).returncode == 0
    ran = run_cli("run", "--once", "-c", str(configs["b"]))
    assert ran.returncode == 0, ran.stderr
    assert _validate(configs["b"], pedimento) == []
    assert _in_force(configs["b"])["anexo22/claves_pedimento"]["imported"]
