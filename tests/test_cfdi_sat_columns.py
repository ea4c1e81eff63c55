"""The SAT catalog columns the product ships (c_ClaveProdServ flags, UMT per fracción, c_UnidadAduana) and the
rules that hinge on data outside the CFDI: CFDI40163 (a complement the catalog asks for) and the RESICO ISR
retention of CFDI140224/140225, whose "marca Retención" lives in SAT's l_RFC."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.findings import Severity
from gateway.kinds.cfdi.catalogs import catalogs
from gateway.kinds.cfdi.matrix import Doc, check_matrix
from gateway.kinds.cfdi.rules import check_rules
from gateway.kinds.cfdi.sat_columns import COLUMNS_PATH, FRACCIONES_PATH, ProdServFlags, sat_columns
from gateway.kinds.cfdi.satdata import SatData
from gateway.xmlsafe import parse
from tests.cfdi_matrix_fixtures import conceptos, dec, money, national, one, resum, sat_codes, variant, with_retencion

REPO = Path(__file__).resolve().parents[1]
RESICO_EMISOR = "COSC8001137NA"


@pytest.fixture(scope="module")
def export(make_invoice) -> etree._Element:
    root = parse(make_invoice(13)).root
    assert root is not None
    return root


def test_shipped_columns_are_package_data_and_complete() -> None:
    columns = sat_columns()
    assert len(columns.umt) == 11519 and len(columns.unidad_aduana) == 23
    assert set(columns.prod_serv) == {"80111700", "80111701", "84121603", "84121604"}
    assert all(flags.iva and not flags.ieps and not flags.complemento for flags in columns.prod_serv.values())
    assert columns.umt["8471300101"][0] == "06" and columns.unidad_forms("06") == {"06", "PIEZA"}
    assert columns.unidad_aduana_of(" kilo ", date(2025, 1, 1)) == "01"
    assert columns.unidad_aduana_of("01", date(2023, 12, 31)) is None  # c_UnidadAduana 2.0 starts 2024-01-18
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for path in (COLUMNS_PATH, FRACCIONES_PATH):
        assert f"data/*{path.suffix}" in pyproject, path


def test_a_complement_required_by_c_clave_prod_serv(export) -> None:
    """SAT's column is empty today; a key that names a complement needs it in the CFDI (or the concepto)."""
    clave = conceptos(export)[0].get("ClaveProdServ")
    columns = replace(sat_columns(), prod_serv={clave: ProdServFlags(False, False, "Comercio Exterior")})

    def codes(root: etree._Element) -> set[str | None]:
        doc = Doc(root, catalogs(), None, columns)
        return {f.sat_code for f in (*check_matrix(doc), *check_rules(root)) if f.severity is Severity.ERROR}

    assert codes(export) == set()
    assert codes(variant(export, national)) == {"CFDI40163"}


def _l_rfc(tmp_path: Path, mark: str) -> SatData:
    path = tmp_path / "l_rfc.csv"
    path.write_text("rfc,nombre,codigo_postal,regimenes,retencion\n"
                    f"{RESICO_EMISOR},CARLOS COSIO,,626,{mark}\n"
                    "URE180429TM6,UNIVERSIDAD ROBOTICA ESPANOLA,65000,601,\n", encoding="utf-8")
    return SatData.from_files(path)


def _resico(root: etree._Element) -> None:
    emisor = one(root, "cfdi:Emisor")
    for name, value in {"Rfc": RESICO_EMISOR, "Nombre": "CARLOS COSIO", "RegimenFiscal": "626"}.items():
        emisor.set(name, value)


def _isr_at(tasa: str):
    def mutate(root: etree._Element) -> None:
        tax = one(conceptos(root)[0], "cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion")
        tax.set("TasaOCuota", tasa)
        tax.set("Importe", money(dec(tax, "Base") * dec(tax, "TasaOCuota")))
        resum(root)
    return mutate


def _isr_on_every_concepto(root: etree._Element) -> None:
    """An ISR retention at 0.0125 on every concepto (mark 2 asks it of each)."""
    for concepto in conceptos(root):
        group = etree.SubElement(one(concepto, "cfdi:Impuestos"), "{http://www.sat.gob.mx/cfd/4}Retenciones")
        base = dec(concepto, "Importe")
        etree.SubElement(group, "{http://www.sat.gob.mx/cfd/4}Retencion", Base=money(base), Impuesto="001",
                         TipoFactor="Tasa", TasaOCuota="0.012500", Importe=money(base * Decimal("0.0125")))
    resum(root)


def _no_isr(root: etree._Element) -> None:
    impuestos = one(conceptos(root)[0], "cfdi:Impuestos")
    impuestos.remove(one(impuestos, "cfdi:Retenciones"))
    resum(root)


def _plus_isr(tasa: str):
    """Another ISR retention at ``tasa`` beside the first concepto's one."""
    def mutate(root: etree._Element) -> None:
        first = conceptos(root)[0]
        group = one(first, "cfdi:Impuestos/cfdi:Retenciones")
        base = dec(first, "Importe")
        etree.SubElement(group, "{http://www.sat.gob.mx/cfd/4}Retencion", Base=money(base), Impuesto="001",
                         TipoFactor="Tasa", TasaOCuota=tasa, Importe=money(base * Decimal(tasa)))
        resum(root)
    return mutate


def test_resico_mark_1_forbids_isr_retention(export, tmp_path) -> None:
    root = variant(export, national, with_retencion, _resico, _isr_at("0.012500"))
    assert sat_codes(root, _l_rfc(tmp_path, "1")) == {"CFDI140224"}
    assert sat_codes(variant(export, national, _resico), _l_rfc(tmp_path, "1")) == set()


def test_resico_mark_2_requires_isr_at_1_25_percent(export, tmp_path) -> None:
    assert sat_codes(variant(export, national, _resico), _l_rfc(tmp_path, "2")) == {"CFDI140225"}
    assert sat_codes(variant(export, national, with_retencion, _resico, _isr_at("0.100000")),
                     _l_rfc(tmp_path, "2")) == {"CFDI140225"}
    sound = variant(export, national, _resico, _isr_on_every_concepto)
    assert sat_codes(sound, _l_rfc(tmp_path, "2")) == set()
    # "al menos un nodo hijo Retencion" at 0.0125: another ISR retention beside it is allowed
    both = variant(sound, _plus_isr("0.100000"))
    assert sat_codes(both, _l_rfc(tmp_path, "2")) == set()


def test_without_the_mark_the_offline_half_runs_and_an_info_says_what_was_not(export) -> None:
    for root in (variant(export, national, with_retencion, _resico, _isr_at("0.012500")),
                 variant(export, national, with_retencion, _resico, _no_isr),
                 # mark 2 allows an ISR retention at another rate beside the one at 0.0125
                 variant(export, national, with_retencion, _resico, _plus_isr("0.012500"))):
        findings = check_matrix(root)
        assert not [f for f in findings if f.severity is Severity.ERROR]
        notes = [f.message for f in findings if f.code == "SAT-DATA-UNCHECKED" and "CFDI140224" in f.message]
        assert len(notes) == 1 and "marca Retención" in notes[0] and "validation.sat_rfc_list" in notes[0]
    # a sound invoice outside the RESICO case gets no such note
    assert not [f for f in check_matrix(variant(export, national)) if "CFDI140224" in f.message]
