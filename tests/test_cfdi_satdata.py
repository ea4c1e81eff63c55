"""Matrix rules that need SAT-side lists: run from local files when configured, one info finding when not."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.config import ConfigError, from_dict
from gateway.findings import Severity
from gateway.kinds.cfdi.matrix import check_matrix
from gateway.kinds.cfdi.satdata import SatData, SatDataError
from gateway.xmlsafe import parse
from tests.cfdi_matrix_fixtures import C, cce, conceptos, mercancias, national, one, sat_codes, variant
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def export(make_invoice) -> etree._Element:
    return parse(make_invoice(11)).root


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def lists(tmp_path, export) -> dict[str, Path]:
    fecha = date.fromisoformat(export.get("Fecha")[:10])
    rate = cce(export).get("TipoCambioUSD")
    fracciones = "\n".join(f"{m.get('FraccionArancelaria')},{m.get('UnidadAduana')},2020-01-01,"
                           for m in mercancias(export))
    return {
        "rfc": _csv(tmp_path / "l_rfc.csv", "rfc,nombre,codigo_postal,regimenes\n"
                    "EKU9003173C9,ESCUELA KEMPER URGATE,,601\n"
                    "URE180429TM6,UNIVERSIDAD ROBOTICA ESPANOLA,65000,601;626\n"
                    "KIJ0906199R1,KIJ SA DE CV,22430,601\n"
                    "XIQB891116QE4,BENITO XIQUE,22430,612\n"),
        "lco": _csv(tmp_path / "lco.csv", "rfc\nKIJ0906199R1\n"),
        "fix": _csv(tmp_path / "fix.csv", f"fecha,tipo_cambio\n2020-01-02,18.8642\n{fecha.isoformat()},{rate}\n"),
        "tigie": _csv(tmp_path / "tigie.csv", f"fraccion,umt,inicio_vigencia,fin_vigencia\n{fracciones}\n"),
    }


@pytest.fixture
def satdata(lists) -> SatData:
    return SatData.from_files(lists["rfc"], lists["lco"], lists["fix"], lists["tigie"])


def _tercero(root, rfc="KIJ0906199R1", nombre="KIJ SA DE CV", cp="22430"):
    conceptos(root)[0].insert(0, etree.Element(f"{C}ACuentaTerceros", RfcACuentaTerceros=rfc,
                                               NombreACuentaTerceros=nombre, RegimenFiscalACuentaTerceros="601",
                                               DomicilioFiscalACuentaTerceros=cp))


def _set(path, **attrs):
    def mutate(root):
        element = root if path == "." else one(root, path)
        for name, value in attrs.items():
            element.set(name, value)
    return mutate


def test_sound_documents_pass_with_every_list(export, satdata) -> None:
    assert sat_codes(export, satdata) == set()
    assert sat_codes(variant(export, national, _tercero), satdata) == set()
    assert not [f for f in check_matrix(export, satdata=satdata) if f.code == "SAT-DATA-UNCHECKED"]


def test_without_lists_one_info_finding_names_the_rules_and_keys(export) -> None:
    unchecked = [f for f in check_matrix(export) if f.code == "SAT-DATA-UNCHECKED"]
    assert len(unchecked) == 1 and unchecked[0].severity is Severity.INFO
    for text in ("CCE121", "validation.fix_rates", "CFDI40143", "validation.sat_rfc_list", "CFDI40187",
                 "validation.sat_lco_list", "CCE167", "validation.tigie_fracciones"):
        assert text in unchecked[0].message
    assert unchecked[0].location == {"line": 2, "xpath": "/cfdi:Comprobante"}


def test_only_the_missing_list_is_named(export, lists) -> None:
    partial = SatData.from_files(fix_rates=lists["fix"])
    message, = [f.message for f in check_matrix(export, satdata=partial) if f.code == "SAT-DATA-UNCHECKED"]
    assert "CCE121" not in message and "CFDI40143" in message


LIST_CASES = [
    ("CFDI40138", (_set("cfdi:Emisor", Rfc="AAA010101AAA"),)),
    ("CFDI40139", (_set("cfdi:Emisor", Nombre="OTRA EMPRESA"),)),
    ("CFDI40143", (national, _set("cfdi:Receptor", Rfc="KIJ0906199R2"))),
    ("CFDI40145", (national, _set("cfdi:Receptor", Nombre="UNIVERSIDAD ROBOTICA"))),
    ("CFDI40148", (national, _set("cfdi:Receptor", DomicilioFiscalReceptor="22430"))),
    ("CFDI40159", (national, _set("cfdi:Receptor", RegimenFiscalReceptor="603"))),
    ("CFDI40187", (national, lambda root: _tercero(root, rfc="XIQB891116QE4", nombre="BENITO XIQUE"))),
    ("CFDI40189", (national, lambda root: _tercero(root, rfc="COSC8001137NA"))),
    ("CFDI40190", (national, lambda root: _tercero(root, nombre="KIJ"))),
    ("CFDI40193", (national, lambda root: _tercero(root, cp="01000"))),
    ("CCE107", (_set("cfdi:Receptor", Rfc="COSC8001137NA"),)),
    ("CCE121", (_set("cfdi:Complemento/cce20:ComercioExterior", TipoCambioUSD="1.5"),
                _set(".", TipoCambio="1.5"))),
    ("CCE161", (lambda root: mercancias(root)[0].set("FraccionArancelaria", "8471300199"),)),
    ("CCE167", (lambda root: mercancias(root)[0].set("UnidadAduana", "03"),)),
]


@pytest.mark.parametrize(("code", "mutations"), LIST_CASES, ids=[code for code, _ in LIST_CASES])
def test_list_rule_breaks_alone(export, satdata, code, mutations) -> None:
    root = variant(export, *mutations)
    codes = sat_codes(root, satdata)
    also = {"CFDI40187"} if code == "CFDI40189" else set()  # a tercero unknown to l_RFC is not in the LCO either
    if code == "CCE107":
        # the same l_RFC miss is CFDI40143 too; a Mexican RFC keeps the foreign receptor's ResidenciaFiscal/NumRegIdTrib
        # (and cce20:Receptor's NumRegIdTrib, which only the generic foreign RFC carries: CCE133)
        also = {"CFDI40143", "CFDI40151", "CFDI40154", "CCE133"}
    assert codes == {code, *also}


def test_fix_rate_in_force_is_the_latest_on_or_before_the_date(lists) -> None:
    data = SatData.from_files(fix_rates=lists["fix"])
    assert data.fix_rate(date(2020, 1, 1)) is None
    assert data.fix_rate(date(2020, 6, 1)) == (date(2020, 1, 2), Decimal("18.8642"))


def test_fix_table_without_a_rate_for_the_date_is_an_error(export, tmp_path) -> None:
    data = SatData.from_files(fix_rates=_csv(tmp_path / "fix.csv", "fecha,tipo_cambio\n2099-01-01,20\n"))
    finding, = [f for f in check_matrix(export, satdata=data) if f.sat_code == "CCE121"]
    assert "no tiene un tipo" in finding.message


@pytest.mark.parametrize(("text", "problem"), [
    ("rfc_x\nAAA010101AAA\n", "missing column(s) rfc"),
])
def test_broken_list_names_file_and_problem(tmp_path, text, problem) -> None:
    with pytest.raises(SatDataError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        SatData.from_files(rfc_list=_csv(tmp_path / "l_rfc.csv", text))
    with pytest.raises(SatDataError, match=r"row 2: 'ayer' is not a date"):
        SatData.from_files(fix_rates=_csv(tmp_path / "fix.csv", "fecha,tipo_cambio\nayer,20\n"))


def test_config_keys_resolve_relative_paths(tmp_path, lists) -> None:
    (tmp_path / "sat").mkdir()
    _csv(tmp_path / "sat" / "fix.csv", lists["fix"].read_text(encoding="utf-8"))
    settings = from_dict({"validation": {"fix_rates": "sat/fix.csv", "sat_rfc_list": str(lists["rfc"])}}, tmp_path)
    assert settings.sat_data_files == {"fix": tmp_path / "sat/fix.csv", "rfc": lists["rfc"]}
    with pytest.raises(ConfigError, match="validation.fix_rates"):
        from_dict({"validation": {"fix_rates": 3}}, tmp_path)
    with pytest.raises(ConfigError, match="validation.sat_lco_list: file not found"):
        from_dict({"validation": {"sat_lco_list": "nowhere.csv"}}, tmp_path)


def test_gateway_applies_configured_lists(tmp_path, lists, make_invoice) -> None:
    """Through the configuration: a FIX table that disagrees rejects the invoice with CCE121."""
    from gateway.kinds import KindRegistry

    wrong = _csv(tmp_path / "wrong.csv", "fecha,tipo_cambio\n2000-01-01,1.0000\n")
    settings = from_dict({"validation": {"fix_rates": str(wrong), "certificate_dirs": []}}, tmp_path)
    kind = KindRegistry(settings.certificate_dirs, None, settings.sat_data_files).get("cfdi")
    result = kind.check(make_invoice(12))
    assert "CCE121" in {f.sat_code for f in result.findings if f.severity is Severity.ERROR}


def test_catalogs_info_cli(tmp_path, lists) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[validation]\nfix_rates = "{lists["fix"]}"\n', encoding="utf-8")
    result = run_cli("catalogs", "info", "--json", "-c", str(config))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    satcfdi = report["catalogs"][0]
    assert satcfdi["source"].startswith("satcfdi ") and satcfdi["rows"]["c_CodigoPostal"] > 90000
    assert report["catalogs"][1]["version"] and report["catalogs"][1]["rows"]["c_RegimenFiscal"] > 20
    fix, = [entry for entry in report["sat_data"] if entry["key"] == "validation.fix_rates"]
    assert fix["configured"] and fix["rows"] == 2 and fix["codes"] == ["CCE121"]
    text = run_cli("catalogs", "info")
    assert "c_Colonia" in text.stdout and "no configurada" in text.stdout


def test_indexed_catalogs_find_satcfdi_keys_and_cache_answers() -> None:
    """Big catalogs are read by key: the pickled key must be byte-identical to satcfdi's, hits and misses kept."""
    from gateway.kinds.cfdi.catalogs import catalogs

    cat = catalogs()
    assert cat.codigo_postal.get("22430") == ("BCN", "004", "04")
    assert ("2817", "22430") in cat.colonias and ("0001", "22430") not in cat.colonias
    assert cat.has("c_ClaveProdServ", "43211509") and not cat.has("c_ClaveProdServ", "4321150")
    assert cat.has("c_FraccionArancelaria", "8471300101")
    assert "00000x" not in cat.codigo_postal and cat.codigo_postal._cache["00000x"] is None
