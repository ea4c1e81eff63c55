"""CFDI 4.0 business rules, RFC validation and normalisation, on the shared samples and small mutations of them."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path

import pytest
from lxml import etree

from gateway.findings import CODES, Finding, Severity
from gateway.kinds.cfdi.normalise import normalise
from gateway.kinds.cfdi.rules import check_rules
from gateway.rfc import check_rfc, rfc_check_digit
from gateway.xmlsafe import parse
from tests.conftest import CFDI_SAMPLES, require_samples

SAMPLES = CFDI_SAMPLES
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schema" / "cfdi.schema.json"
STAMPED = "synthetic/valid/synthetic_cfdi40-cce20-export-stamped.xml"
NS = {"cfdi": "http://www.sat.gob.mx/cfd/4", "cce20": "http://www.sat.gob.mx/ComercioExterior20",
      "tfd": "http://www.sat.gob.mx/TimbreFiscalDigital"}
#: Codes no sample that SAT would accept may raise.
BUSINESS = {"RFC-INVALID", "CFDI-TOTALS", "CFDI-CCE-MISSING", "CFDI-CCE-USD", "CCE-NOIDENTIFICACION"}
#: satcfdi/CryptoSys schema demos "with random nonsense values": their totals really are wrong per SAT's matrix
#: (a type P with SubTotal 1000 is CFDI40109; SubTotal 1000 over conceptos worth 2250000 is CFDI40108).
NONSENSE_DEMOS = {
    "valid/satcfdi_cfdv40-ejemplo.xml": {"CFDI40109", "CFDI40119"},
    "valid/satcfdi_cfdv40-ejemplo-signed-tfd.xml": {"CFDI40109", "CFDI40119"},
    "valid/satcfdi_cfdv40-min.xml": {"CFDI40108", "CFDI40119"},
}
STAMPED_AND_SOUND = [STAMPED, "valid/cfdiutils_cfdi40-real.xml", "valid/cfdiutils_cfdi40-valid.xml",
                     "valid/satcfdi_he951128469_ingreso_iva16_stamped.xml",
                     "valid/satcfdi_xiqb891116qe4_ingreso_iva16_stamped.xml"]

#: the shared samples must be there: a missing folder fails the tests that read it, never skips them
needs_samples = pytest.mark.usefixtures("shared_cfdi_samples")
MISSING = "(shared CFDI samples missing)"


@pytest.fixture
def shared_cfdi_samples() -> Path:
    return require_samples()


def _valid_samples() -> list[str]:
    if not SAMPLES.is_dir():
        return [MISSING]  # one case, which fails through needs_samples (an empty list would skip the test)
    files = sorted(SAMPLES.glob("valid/*.xml")) + sorted(SAMPLES.glob("synthetic/valid/*.xml"))
    return [str(f.relative_to(SAMPLES)) for f in files]


def _root(name: str) -> etree._Element:
    parsed = parse((SAMPLES / name).read_bytes())
    assert parsed.root is not None, parsed.findings
    return parsed.root


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def _codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in _errors(findings)}


def _sat_codes(findings: list[Finding]) -> set[str | None]:
    return {f.sat_code for f in findings}


# --- RFC ---------------------------------------------------------------------------------------------------------

#: RFCs of the samples that SAT (or its test environment) accepted, plus the PACs' own.
@pytest.mark.parametrize("rfc", ["EKU9003173C9", "ISD950921HE5", "H&E951128469", "URE180429TM6", "KIJ0906199R1",
                                 "SAT970701NN3", "TBN040609RKA", "FUD1206133IA"])
def test_rfc_valid_persona_moral(rfc: str) -> None:
    assert len(rfc) == 12 and check_rfc(rfc) is None


@pytest.mark.parametrize("rfc", ["COSC8001137NA", "XIQB891116QE4", "MASO451221PM4"])
def test_rfc_valid_persona_fisica(rfc: str) -> None:
    assert len(rfc) == 13 and check_rfc(rfc) is None


@pytest.mark.parametrize("rfc", ["XAXX010101000", "XEXX010101000"])
def test_rfc_generic_always_valid(rfc: str) -> None:
    assert check_rfc(rfc) is None  # XAXX010101000's own check digit would be 4


def test_rfc_bad_check_digit() -> None:
    reason = check_rfc("EKU9003173C8")
    assert reason is not None and "dígito verificador" in reason and "'9'" in reason
    assert check_rfc("EKU9003173C8", check_digit=False) is None


def test_rfc_check_digit_a_and_zero() -> None:
    assert rfc_check_digit("COSC8001137NA") == "A"
    assert rfc_check_digit("XEXX010101000") == "0"


def test_rfc_sat_issued_with_mismatching_digit() -> None:
    """SAT's test RFC MCI7306249Y1 (stamped in SAT's test environment) fails the check digit: format only is fine."""
    assert check_rfc("MCI7306249Y1", check_digit=False) is None
    assert check_rfc("MCI7306249Y1") is not None


@pytest.mark.parametrize("rfc", ["EKU9013173C9", "EKU9002303C9", "COSC8002307NA", "EKU0100293C9"])
def test_rfc_bad_date(rfc: str) -> None:
    reason = check_rfc(rfc)
    assert reason is not None and "fecha" in reason


def test_rfc_leap_day_of_2000_is_a_date() -> None:
    assert check_rfc("AAA000229AB1", check_digit=False) is None
    assert "fecha" in (check_rfc("AAA010229AB1", check_digit=False) or "")


@pytest.mark.parametrize("rfc", ["EKU9003173C", "COSC8001137NAX", "", "EKU9003173C9 X"])
def test_rfc_wrong_length(rfc: str) -> None:
    reason = check_rfc(rfc) or ""
    assert ("caracteres" in reason) if rfc else ("vacío" in reason)


@pytest.mark.parametrize("rfc", ["EK19003173C9", "eku9003173C9", "COS18001137NA", "EKU900317-C9"])
def test_rfc_wrong_characters(rfc: str) -> None:
    assert check_rfc(rfc) is not None


# --- rules on the samples ----------------------------------------------------------------------------------------

@needs_samples
@pytest.mark.parametrize("name", _valid_samples())
def test_valid_samples_raise_no_business_errors(name: str) -> None:
    findings = check_rules(_root(name))
    business = [f for f in _errors(findings) if f.code in BUSINESS]
    if name in NONSENSE_DEMOS:
        assert {f.code for f in business} == {"CFDI-TOTALS"}
        assert _sat_codes(business) == NONSENSE_DEMOS[name]
    else:
        assert business == []


@needs_samples
@pytest.mark.parametrize("name", STAMPED_AND_SOUND)
def test_stamped_samples_raise_no_error_at_all(name: str) -> None:
    assert _errors(check_rules(_root(name))) == []


@needs_samples
@pytest.mark.parametrize(("name", "code", "sat_code"), [
    ("synthetic/invalid/synthetic_cfdi40-cce20-totalusd-mismatch.xml", "CFDI-CCE-USD", "CCE122"),
    ("synthetic/invalid/synthetic_cfdi40-cce20-mercancia-noid-not-in-conceptos.xml", "CCE-NOIDENTIFICACION", "CCE152"),
    ("synthetic/invalid/synthetic_cfdi40-cce20-tampered-total.xml", "CFDI-TOTALS", "CFDI40119"),
    ("synthetic/valid/synthetic_cfdi40-cce20-export-sealed-no-tfd.xml", "CFDI-TFD-MISSING", None),
    ("valid/cfdiutils_created-cfdi40-pago20-valid.xml", "CFDI-TFD-MISSING", None),
    ("valid/cfdiutils_created-with-discounts-40.xml", "CFDI-TFD-MISSING", None),
    ("invalid/pycfdi_pago_stamped_multiple_tfd.xml", "CFDI-TFD-MISSING", None),
])
def test_invalid_samples_give_their_finding(name: str, code: str, sat_code: str | None) -> None:
    findings = [f for f in check_rules(_root(name)) if f.code == code]
    assert len(findings) == 1
    assert findings[0].severity is Severity.ERROR
    assert findings[0].sat_code == sat_code
    assert _codes(check_rules(_root(name))) == {code}


@needs_samples
def test_two_timbres_are_named_as_such() -> None:
    finding, = check_rules(_root("invalid/pycfdi_pago_stamped_multiple_tfd.xml"))
    assert "2 timbres" in finding.message and "exactamente uno" in finding.message
    assert finding.location["xpath"].endswith("tfd:TimbreFiscalDigital[2]")


@needs_samples
def test_noidentificacion_finding_points_at_the_mercancia() -> None:
    finding, = check_rules(_root("synthetic/invalid/synthetic_cfdi40-cce20-mercancia-noid-not-in-conceptos.xml"))
    assert finding.location == {
        "line": 38,
        "xpath": "/cfdi:Comprobante/cfdi:Complemento/cce20:ComercioExterior/cce20:Mercancias/cce20:Mercancia[2]"
                 "/@NoIdentificacion",
    }
    assert "SKU-999" in finding.message and "mercancía" in finding.message and "fracción" in finding.message


@needs_samples
def test_every_finding_has_a_code_a_location_and_a_spanish_message() -> None:
    files = [f for f in sorted(SAMPLES.rglob("*.xml")) if "other-versions" not in f.parts]
    seen = 0
    for path in files:
        parsed = parse(path.read_bytes())
        if parsed.root is None or parsed.root.get("Version") != "4.0":
            continue
        for finding in check_rules(parsed.root):
            seen += 1
            assert finding.code in CODES
            assert isinstance(finding.location.get("line"), int), (path, finding)
            assert finding.location["xpath"].startswith("/cfdi:Comprobante"), (path, finding)
            assert finding.message.endswith(".")
    assert seen > 20


# --- rules on mutations of the stamped export invoice ------------------------------------------------------------

@pytest.fixture
def export() -> etree._Element:
    require_samples()
    return deepcopy(_root(STAMPED))


def _one(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path, NS)
    assert element is not None, path
    return element


def test_export_without_complement(export: etree._Element) -> None:
    cce = _one(export, "cfdi:Complemento/cce20:ComercioExterior")
    cce.getparent().remove(cce)
    finding, = [f for f in check_rules(export) if f.code == "CFDI-CCE-MISSING"]
    assert finding.sat_code == "CFDI40122"
    assert finding.location["xpath"] == "/cfdi:Comprobante/@Exportacion"
    export.set("Exportacion", "01")
    assert "CFDI-CCE-MISSING" not in _codes(check_rules(export))


def test_export_with_only_comercio_exterior_11_says_so(export: etree._Element) -> None:
    cce = _one(export, "cfdi:Complemento/cce20:ComercioExterior")
    cce.tag = "{http://www.sat.gob.mx/ComercioExterior11}ComercioExterior"
    finding, = [f for f in check_rules(export) if f.code == "CFDI-CCE-MISSING"]
    assert finding.sat_code == "CFDI40122"
    assert "Comercio Exterior 1.1" in finding.message


def test_emisor_rfc_with_impossible_date(export: etree._Element) -> None:
    _one(export, "cfdi:Emisor").set("Rfc", "EKU9013173C9")
    finding, = [f for f in check_rules(export) if f.code == "RFC-INVALID"]
    assert finding.severity is Severity.ERROR
    assert finding.location["xpath"] == "/cfdi:Comprobante/cfdi:Emisor/@Rfc"
    assert "RFC del emisor" in finding.message and "fecha" in finding.message


def test_receptor_rfc_wrong_length(export: etree._Element) -> None:
    _one(export, "cfdi:Receptor").set("Rfc", "XEXX01010100")
    finding, = [f for f in check_rules(export) if f.code == "RFC-INVALID"]
    assert finding.location["xpath"] == "/cfdi:Comprobante/cfdi:Receptor/@Rfc"


def test_broken_check_digit_is_a_warning(export: etree._Element) -> None:
    _one(export, "cfdi:Emisor").set("Rfc", "EKU9003173C8")
    findings = check_rules(export)
    assert _errors(findings) == []
    finding, = findings
    assert (finding.code, finding.severity) == ("RFC-INVALID", Severity.WARNING)
    assert "'9'" in finding.message


def test_rfc_is_stripped(export: etree._Element) -> None:
    _one(export, "cfdi:Emisor").set("Rfc", " EKU9003173C9 ")
    assert check_rules(export) == []


def test_subtotal_differs_from_conceptos(export: etree._Element) -> None:
    export.set("SubTotal", "4001.00")
    findings = [f for f in check_rules(export) if f.code == "CFDI-TOTALS"]
    subtotal, = [f for f in findings if f.sat_code == "CFDI40108"]
    assert "4001.00" in subtotal.message and "4000.00" in subtotal.message and "diferencia 1.00" in subtotal.message
    assert subtotal.location == {"line": 2, "xpath": "/cfdi:Comprobante/@SubTotal"}
    assert "CFDI40119" in _sat_codes(findings)  # Total no longer adds up either


def test_subtotal_rounds_the_sum_to_its_own_decimals(export: etree._Element) -> None:
    first, second = export.findall("cfdi:Conceptos/cfdi:Concepto", NS)
    first.set("Importe", "3500.004")
    second.set("Importe", "500.0009")
    assert "CFDI-TOTALS" not in _codes(check_rules(export))
    second.set("Importe", "500.001")
    assert "CFDI40108" in _sat_codes(check_rules(export))


@pytest.mark.parametrize("tipo", ["T", "P"])
def test_traslado_and_pago_have_zero_subtotal(export: etree._Element, tipo: str) -> None:
    export.set("TipoDeComprobante", tipo)
    assert "CFDI40109" in _sat_codes(check_rules(export))
    for attr in ("SubTotal", "Total"):
        export.set(attr, "0")
    _one(export, "cfdi:Impuestos").getparent().remove(_one(export, "cfdi:Impuestos"))
    assert "CFDI-TOTALS" not in _codes(check_rules(export))


def test_descuento_must_be_the_sum_of_conceptos(export: etree._Element) -> None:
    export.set("Descuento", "10.00")
    export.set("Total", "3990.00")
    finding, = [f for f in check_rules(export) if f.code == "CFDI-TOTALS"]
    assert finding.sat_code is None and finding.location["xpath"] == "/cfdi:Comprobante/@Descuento"
    first = _one(export, "cfdi:Conceptos/cfdi:Concepto")
    first.set("Descuento", "10.00")
    assert check_rules(export) == []


def test_descuento_above_subtotal(export: etree._Element) -> None:
    export.set("Descuento", "5000.00")
    _one(export, "cfdi:Conceptos/cfdi:Concepto").set("Descuento", "5000.00")
    assert "CFDI40110" in _sat_codes(check_rules(export))


def test_total_impuestos_trasladados(export: etree._Element) -> None:
    _one(export, "cfdi:Impuestos").set("TotalImpuestosTrasladados", "1.00")
    assert "CFDI40205" in _sat_codes(check_rules(export))


def test_total_impuestos_retenidos(export: etree._Element) -> None:
    impuestos = _one(export, "cfdi:Impuestos")
    impuestos.set("TotalImpuestosRetenidos", "6.00")
    retenciones = etree.Element(f"{{{NS['cfdi']}}}Retenciones")
    etree.SubElement(retenciones, f"{{{NS['cfdi']}}}Retencion", Impuesto="002", Importe="5.00")
    impuestos.insert(0, retenciones)
    export.set("Total", "3994.00")
    finding, = check_rules(export)
    assert finding.sat_code == "CFDI40203"
    assert "6.00" in finding.message and "5.00" in finding.message and "diferencia 1.00" in finding.message
    impuestos.set("TotalImpuestosRetenidos", "5.00")
    export.set("Total", "3995.00")
    assert check_rules(export) == []


def test_local_taxes_count_in_the_total(export: etree._Element) -> None:
    local = etree.Element("{http://www.sat.gob.mx/implocal}ImpuestosLocales", version="1.0",
                          TotaldeRetenciones="0.00", TotaldeTraslados="40.00")
    _one(export, "cfdi:Complemento").insert(0, local)
    export.set("Total", "4040.00")
    assert check_rules(export) == []


def test_unparseable_amounts_are_left_to_the_xsd(export: etree._Element) -> None:
    export.set("SubTotal", "abc")
    _one(export, "cfdi:Conceptos/cfdi:Concepto").set("Importe", "1,000.00")
    assert "CFDI-TOTALS" not in _codes(check_rules(export))


def test_totalusd_is_compared_at_two_decimals(export: etree._Element) -> None:
    mercancia = _one(export, "cfdi:Complemento/cce20:ComercioExterior/cce20:Mercancias/cce20:Mercancia")
    mercancia.set("ValorDolares", "3500.0049")
    assert check_rules(export) == []
    mercancia.set("ValorDolares", "3500.005")
    finding, = check_rules(export)
    assert (finding.code, finding.sat_code) == ("CFDI-CCE-USD", "CCE122")
    assert finding.location["xpath"].endswith("cce20:ComercioExterior/@TotalUSD")


def test_second_timbre(export: etree._Element) -> None:
    complemento = _one(export, "cfdi:Complemento")
    complemento.append(deepcopy(_one(complemento, "tfd:TimbreFiscalDigital")))
    finding, = check_rules(export)
    assert finding.code == "CFDI-TFD-MISSING" and "2 timbres" in finding.message


# --- normalise ---------------------------------------------------------------------------------------------------

def _no_floats(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _no_floats(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


def test_normalise_export_invoice(export: etree._Element) -> None:
    record = normalise(export)
    assert record["uuid"] == "5A2B0C1D-3E4F-4A5B-8C6D-7E8F9A0B1C2D"
    assert record["emisor"]["rfc"] == "EKU9003173C9"
    assert record["receptor"]["rfc"] == "XEXX010101000"
    assert (record["subtotal"], record["total"], record["tipo_cambio"]) == ("4000.00", "4000.00", "17.1234")
    cce = record["comercio_exterior"]
    assert cce["total_usd"] == "4000.00" and isinstance(cce["total_usd"], str)
    assert cce["clave_pedimento"] == "A1" and cce["incoterm"] == "FCA"
    assert [m["fraccion_arancelaria"] for m in cce["mercancias"]] == ["8471300101", "8544429901"]
    assert cce["mercancias"][0]["descripciones_especificas"][0]["numero_serie"] == "SN0001"
    assert cce["emisor"]["domicilio"]["pais"] == "MEX"
    assert [c["no_identificacion"] for c in record["conceptos"]] == ["SKU-001", "SKU-002"]
    assert _no_floats(record) and json.loads(json.dumps(record)) == record


def test_normalise_upper_cases_keys_and_strips(export: etree._Element) -> None:
    _one(export, "cfdi:Complemento/tfd:TimbreFiscalDigital").set("UUID", "5a2b0c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
    export.set("SubTotal", " 4000.00 ")
    record = normalise(export)
    assert record["uuid"] == "5A2B0C1D-3E4F-4A5B-8C6D-7E8F9A0B1C2D"
    assert record["subtotal"] == "4000.00"


def test_normalise_reads_nodes_in_document_order_whatever_surrounds_them(export: etree._Element) -> None:
    """Comments, a timbre in a second cfdi:Complemento, pedimentos under a cfdi:Parte, two cfdi:Conceptos."""
    cfdi = "{http://www.sat.gob.mx/cfd/4}"
    timbre = _one(export, "cfdi:Complemento/tfd:TimbreFiscalDigital")
    first = timbre.getparent()
    first.remove(timbre)
    second = etree.SubElement(export, cfdi + "Complemento")
    second.append(timbre)
    export.insert(0, etree.Comment(" exportado por el ERP "))
    concepto = _one(export, "cfdi:Conceptos/cfdi:Concepto")
    concepto.insert(0, etree.Comment(" partida 1 "))
    parte = etree.SubElement(concepto, cfdi + "Parte", ClaveProdServ="43211500", Cantidad="1", Descripcion="Pieza")
    etree.SubElement(parte, cfdi + "InformacionAduanera", NumeroPedimento="26  47  3807  6000002")
    etree.SubElement(concepto, cfdi + "InformacionAduanera", NumeroPedimento="26  47  3807  6000001")
    more = etree.SubElement(export, cfdi + "Conceptos")
    etree.SubElement(more, cfdi + "Concepto", NoIdentificacion="SKU-003")
    record = normalise(export)
    assert record["uuid"] == "5A2B0C1D-3E4F-4A5B-8C6D-7E8F9A0B1C2D"
    assert [c["no_identificacion"] for c in record["conceptos"]] == ["SKU-001", "SKU-002", "SKU-003"]
    assert record["conceptos"][0]["pedimentos"] == ["26  47  3807  6000001", "26  47  3807  6000002"]
    assert record["pedimentos"][:2] == ["26  47  3807  6000001", "26  47  3807  6000002"]
    assert record["comercio_exterior"]["emisor"]["domicilio"]["pais"] == "MEX"


@needs_samples
def test_normalise_pedimentos_and_unstamped() -> None:
    record = normalise(_root("valid/cfdiutils_created-with-discounts-40.xml"))
    assert record["uuid"] is None and record["comercio_exterior"] is None
    assert record["pedimentos"] == ["17  24  3420  7010987", "17  24  3420  7010123"]
    assert record["conceptos"][0]["pedimentos"] == record["pedimentos"]
    assert record["conceptos"][0]["descuento"] == "500"


@needs_samples
@pytest.mark.parametrize("name", [STAMPED, *_valid_samples()])
def test_normalised_records_match_the_published_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://immex-gateway.dev/schema/cfdi/1.0"
    jsonschema.Draft202012Validator(schema).validate(normalise(_root(name)))
