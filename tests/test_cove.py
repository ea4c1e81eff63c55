"""The COVE kind: VUCEM's real answers validate with the project's XSDs and normalise to the published record."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from gateway.demo.generate import cove as cove_gen
from gateway.kinds.cove.kind import CoveKind
from gateway.kinds.cove.normalise import correlation_keys
from tests.conftest import SAMPLES, require_samples

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "schema" / "cove.schema.json").read_text())
COVE_SAMPLES = SAMPLES / "cove"


@pytest.fixture(scope="module")
def kind():
    return CoveKind()


def sample(name: str) -> bytes:
    require_samples()
    return (COVE_SAMPLES / name).read_bytes()


def codes(result) -> list[str]:
    return sorted(f.code for f in result.findings)


@pytest.mark.parametrize("name", sorted(p.name for p in COVE_SAMPLES.glob("*.xml")))
def test_every_real_vucem_answer_is_recognised_and_passes_its_schema(kind, name):
    data = sample(name)
    assert kind.sniff(data.lstrip()[:8192], name)
    result = kind.check(data)
    assert "XSD" not in codes(result), [f.message for f in result.findings]


def test_consultar_edocument_cove_normalises_to_the_published_record(kind):
    result = kind.check(sample("vucem-consultaredocument-resp-cove.xml"))
    assert result.ok and result.business_key == "COVE151A28AD3"
    record = result.record
    jsonschema.validate(record, SCHEMA)
    assert record["tipo_operacion"] == "TOCE.IMP" and record["numero_factura"] == "1292"
    assert record["fecha_expedicion"] == "2015-11-05" and record["patentes"] == ["3589"]
    assert record["rfcs_consulta"] == ["OAQ030623UL8", "CIN0309091D3"]
    assert record["emisor"]["identificacion"] == "01947980015" and record["emisor"]["domicilio"]["pais"] == "ITA"
    assert record["destinatario"]["identificacion"] == "CIN0309091D3"
    # 91 × 0.318681 = 28.999971 for a total of 29: VUCEM's six-decimal unit value, not an error
    assert [m["valor_total"] for m in record["mercancias"]] == ["188", "29"]
    assert [m["valor_dolares"] for m in record["mercancias"]] == ["207.7776", "32.0508"]
    keys = correlation_keys(record)
    assert keys.provides == {("cove", "COVE151A28AD3")} and not keys.needs


@pytest.mark.parametrize("name, e_document, adenda", [
    ("vucem-consultarrespuestacove-resp-ok.xml", "COVE151A38OD3", None),
    ("vucem-consultarrespuestacove-resp-adenda.xml", "COVE151A10RF7", "ADEN152881830"),
])
def test_consultar_respuesta_cove_gives_the_number_of_each_invoice(kind, name, e_document, adenda):
    result = kind.check(sample(name))
    assert result.ok
    jsonschema.validate(result.record, SCHEMA)
    (answer,) = result.record["respuestas"]
    assert (answer["e_document"], answer["numero_adenda"], answer["contiene_error"]) == (e_document, adenda, False)
    keys = correlation_keys(result.record)
    assert ("cove", e_document) in keys.provides and ("cove-invoice", answer["numero_factura"]) in keys.needs


@pytest.mark.parametrize("name, fragment", [
    ("vucem-consultarrespuestacove-resp-errores.xml", "Datos del Proveedor"),
    ("vucem-consultarrespuestacove-resp-error-pais.xml", "no existe el pais"),
    ("vucem-consultaredocument-resp-error-firma.xml", "Firma inválida"),
])
def test_vucem_errors_reject_with_vucems_own_words(kind, name, fragment):
    result = kind.check(sample(name))
    assert not result.ok and codes(result) == ["COVE-VUCEM-ERROR"]
    assert fragment in result.findings[0].message


def test_the_recibircove_acknowledgement_is_not_a_cove(kind):
    result = kind.check(sample("vucem-recibircove-resp-ok.xml"))
    assert codes(result) == ["FILE-UNKNOWN-KIND"] and "ConsultarRespuestaCove" in result.findings[0].message


def test_malformed_cove_id_and_adenda(kind):
    data = sample("vucem-consultaredocument-resp-cove.xml").replace(b"COVE151A28AD3", b"COVE151a28AD")
    result = kind.check(data)
    assert codes(result) == ["COVE-ID"] and "COVE151A28AD" in result.findings[0].message
    data = sample("vucem-consultarrespuestacove-resp-adenda.xml").replace(b"ADEN152881830", b"ADEN15288183X")
    assert codes(kind.check(data)) == ["COVE-ID"]


def test_line_total_and_usd_factor_must_add_up(kind):
    data = sample("vucem-consultaredocument-resp-cove.xml")
    wrong_total = kind.check(data.replace(b"<valorTotal>188</valorTotal>", b"<valorTotal>190</valorTotal>"))
    assert "COVE-TOTALS" in codes(wrong_total)
    message = next(f.message for f in wrong_total.findings if "100 × valor unitario 1.88" in f.message)
    assert "188.00" in message and "diferencia 2.00" in message
    wrong_usd = kind.check(data.replace(b">32.0508<", b">35.0508<"))
    assert codes(wrong_usd) == ["COVE-TOTALS"]
    assert wrong_usd.findings[0].location["xpath"].endswith("mercancia[2]/valorDolares")


def test_schema_violation_points_at_the_line(kind):
    data = sample("vucem-consultaredocument-resp-cove.xml").replace(b"<tipoOperacion>TOCE.IMP</tipoOperacion>",
                                                                    b"<tipoOperacion>IMPORTACION</tipoOperacion>")
    result = kind.check(data)
    assert codes(result) == ["XSD"] and result.findings[0].location["line"] == 19


def test_entity_tricks_are_refused(kind):
    attack = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' \
             b'<ConsultarEdocumentResponse xmlns="http://www.ventanillaunica.gob.mx/ConsultarEdocument/">&e;' \
             b'</ConsultarEdocumentResponse>'
    assert codes(kind.check(attack)) == ["XML-FORBIDDEN"]


def _record(e_document: str | None = "COVE260000001") -> dict:
    emisor = cove_gen.persona("0", "74-1234567", "ACME WIRING SYSTEMS INC", {"calle": "MAIN STREET", "pais": "USA"})
    destinatario = cove_gen.persona("1", "EKU9003173C9", "MAQUILADORA EJEMPLO SA DE CV", {"pais": "MEX"})
    lines = [cove_gen.line("ARNES ELECTRICO", Decimal(40), Decimal("25.00")),
             cove_gen.line("ABRAZADERA", Decimal(91), Decimal("0.318681"), Decimal("1.1052"), "EUR")]
    return cove_gen.cove_record(e_document, "INV-88123", date(2026, 8, 15), emisor, destinatario, lines,
                                rfcs_consulta=("EKU9003173C9",))


def test_writer_round_trips_through_the_kind(kind):
    record = _record()
    result = kind.check(cove_gen.edocument_response(record))
    assert result.ok and result.record == record
    request = dict(record, e_document=None, origen="recibir-cove")
    result = kind.check(cove_gen.recibir_request([request]))
    assert result.ok and result.record == request and result.business_key == "factura INV-88123"
    assert result.record["mercancias"][1]["tipo_moneda"] == "EUR"
    jsonschema.validate(result.record, SCHEMA)


def test_cadena_original_follows_vucems_order():
    cadena = cove_gen.cadena_original(_record())
    assert cadena.startswith("|TOCE.IMP|INV-88123|0|2026-08-15|1|EKU9003173C9|3456|0|0|0|74-1234567|")
    assert "|ARNES ELECTRICO|C62_1|40|USD|25.00|1000.00|1000.00|" in cadena  # quantity before currency
    assert "||" not in cadena and cadena.endswith("|")


def test_a_request_with_several_invoices_is_one_cove_per_invoice(kind):
    first = dict(_record(None), origen="recibir-cove")
    second = dict(first, numero_factura="INV-88124")
    result = kind.check(cove_gen.recibir_request([first, second]))
    assert result.ok and result.record == {"document": "solicitud-cove", "comprobantes": 2}
    parts = list(result.parts)
    assert [p.label for p in parts] == ["(factura INV-88123)", "(factura INV-88124)"]
    assert [kind.check(p.data).record["numero_factura"] for p in parts] == ["INV-88123", "INV-88124"]
