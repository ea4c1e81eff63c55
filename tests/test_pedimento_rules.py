"""Every pedimento rule has a case that triggers it; valid pedimentos trigger none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.demo.generate import pedimento as gen
from gateway.kinds.pedimento.kind import MFileKind, PedimentoKind
from gateway.kinds.pedimento.rules import RuleContext, Tolerances
from tests.pedimento_fixtures import COMPANY, codes


def _check(ped: gen.Pedimento, ctx: RuleContext = COMPANY, edit=None) -> list:
    text = "\n".join(gen.pedimento_lines(ped)) + "\n"
    if edit:
        text = edit(text)
    return PedimentoKind(ctx).check(text.encode()).findings


def _file_findings(data: bytes, name: str = "m3456001.245") -> list:
    result = MFileKind(COMPANY).check_named(data, name)
    list(result.parts)
    return result.findings


def test_valid_pedimentos_trigger_nothing():
    for ped in (gen.sample_pedimento(1, 5), gen.sample_pedimento(2, 2, clave="RT", operation_type="2"),
                gen.sample_pedimento(3, 1, clave="A1", program=None, use_cfdi=True)):
        assert _check(ped) == []


@pytest.mark.parametrize(("edit", "code"), [
    (lambda t: t.replace("|IN|240||", "|IN|240|||", 1), "PED-LAYOUT"),  # 501 with 36 fields
    (lambda t: t.replace("|17.12340|", "|17,12340|", 1), "PED-LAYOUT"),  # decimal comma
    (lambda t: t.replace("|20260820", "|20261320", 1), "PED-LAYOUT"),  # month 13
    (lambda t: t.replace("MAQUILADORA EJEMPLO", "M" * 130, 1), "PED-LAYOUT"),  # name over 120
    (lambda t: t.replace("557|6000001|", "557|6000009|", 1), "PED-SEQUENCE"),  # record of another pedimento
    (lambda t: t.replace("|2|99|", "|3|99|", 1), "PED-SEQUENCE"),  # partidas 1, 3
    (lambda t: t.replace("\n800|", "\n510|6000001|1|0|1\n800|", 1), "PED-SEQUENCE"),  # header after partidas
])
def test_layout_and_sequence(edit, code):
    assert code in codes(_check(gen.sample_pedimento(1, 2), edit=edit))


def test_child_record_must_name_an_existing_partida_and_its_fraccion():
    ped = gen.sample_pedimento(1, 1)
    found = _check(ped, edit=lambda t: t.replace(f"557|6000001|{ped.partidas[0].fraccion}|1|",
                                                  "557|6000001|99999999|1|", 1))
    assert any("fracción 99999999" in f.message for f in found if f.code == "PED-SEQUENCE")
    found = _check(ped, edit=lambda t: "\n".join(line for line in t.split("\n") if not line.startswith("557")))
    assert any("556" in f.message and "557" in f.message for f in found if f.code == "PED-SEQUENCE")


def test_file_rules_first_500_last_801_counts_and_name():
    name, data = gen.sample_mfile(2, 2)
    assert _file_findings(data, name) == []
    body, trailer = data.rstrip(b"\n").rsplit(b"\n", 1)
    assert "PED-SEQUENCE" in codes(_file_findings(body + b"\n" + trailer.replace(b"|2|", b"|3|") + b"\n"))  # 801.3
    assert "PED-SEQUENCE" in codes(_file_findings(data.rsplit(b"801|", 1)[0]))  # no 801: truncated
    assert "PED-LAYOUT" in codes(_file_findings(data, "m3456009.245"))  # name vs 801.2
    assert "PED-NUMBER" in codes(_file_findings(data.replace(b"801|m3456001", b"801|m9999001"), "m9999001.245"))
    assert "PED-SEQUENCE" in codes(_file_findings(b"501|x\n" + data))


def test_number_year_digit_and_exceptions():
    ped = gen.sample_pedimento(1, 1)
    wrong = gen.replace(ped, number="4000001")
    assert codes(_check(wrong)) == ["PED-NUMBER"]
    consolidated = gen.replace(ped, number="5000001", identifiers=ped.identifiers + [("PC", "", "", "")])
    found = _check(consolidated)
    assert codes(found) == ["PED-NUMBER"] and found[0].severity.value == "warning"
    assert "PED-NUMBER" in codes(_check(gen.replace(ped, number="6000000")))


def test_catalogs():
    ped = gen.sample_pedimento(1, 1)
    assert codes(_check(gen.replace(ped, clave="ZZ", identifiers=[]))) == ["PED-CATALOG"]
    part = gen.replace(ped.partidas[0], umc="77", country_origin="US")
    found = _check(gen.replace(ped, partidas=[part]))
    assert codes(found) == ["PED-CATALOG", "PED-CATALOG"] and {f.location["field"] for f in found} == {12, 21}
    assert set(codes(_check(gen.replace(ped, aduana="990")))) == {"PED-CATALOG"}
    found = _check(gen.replace(ped, identifiers=ped.identifiers + [("Q9", "", "", "")]))
    assert codes(found) == ["PED-CATALOG"] and found[0].severity.value == "warning"  # partial catalog


def test_fraccion_and_nico():
    ped = gen.sample_pedimento(1, 1)
    bad = gen.replace(ped.partidas[0], fraccion="8544309", nico="9")
    found = _check(gen.replace(ped, partidas=[bad]))
    assert codes(found) == ["PED-FRACCION", "PED-FRACCION"]
    unknown = _check(gen.replace(ped, partidas=[gen.replace(ped.partidas[0], fraccion="12345678", nico="00")]))
    assert codes(unknown) == ["PED-FRACCION"] and unknown[0].severity.value == "error"
    nico = _check(gen.replace(ped, partidas=[gen.replace(ped.partidas[0], fraccion="85443099", nico="42")]))
    assert codes(nico) == ["PED-FRACCION"] and nico[0].severity.value == "warning"


def test_totals():
    ped = gen.sample_pedimento(1, 2)
    invoice = gen.replace(ped.invoices[0], value_usd=ped.invoices[0].value_usd + Decimal("5.00"))
    assert codes(_check(gen.replace(ped, invoices=[invoice]))) == ["PED-TOTALS"]
    within = gen.replace(ped.invoices[0], value_usd=ped.invoices[0].value_usd + Decimal("0.50"))
    assert _check(gen.replace(ped, invoices=[within])) == []
    assert codes(_check(gen.replace(ped, invoices=[within]), RuleContext(tolerances=Tolerances(usd=Decimal("0.10")))))\
        == ["PED-TOTALS"]
    contributions = [(c, f, a + 50 if c == "3" else a) for c, f, a in ped.contributions]
    assert codes(_check(gen.replace(ped, contributions=contributions))) == ["PED-TOTALS"]
    price = gen.replace(ped.partidas[0], unit_price=Decimal("1.00000"))
    assert codes(_check(gen.replace(ped, partidas=[price, ped.partidas[1]]))) == ["PED-TOTALS"]
    fx = gen.replace(ped.partidas[0], commercial_value=ped.commercial(ped.partidas[0]) * 2)
    found = [f for f in _check(gen.replace(ped, partidas=[fx, ped.partidas[1]])) if "tipo de cambio" in f.message]
    assert codes(found) == ["PED-TOTALS"] and found[0].severity.value == "warning"


def test_immex():
    ped = gen.sample_pedimento(1, 1)
    assert codes(_check(gen.replace(ped, identifiers=[]))) == ["PED-IMMEX"]
    assert codes(_check(gen.replace(ped, identifiers=[("IM", "7777-2010", "", "")]))) == ["PED-IMMEX"]
    assert codes(_check(gen.replace(ped, operation_type="2"))) == ["PED-IMMEX"]
    other = gen.replace(ped, rfc="AAA010101AAA")
    assert "PED-IMMEX" in codes(_check(other))
    assert _check(gen.replace(ped, identifiers=[]), RuleContext()) != []  # IM required even without a company
    assert _check(gen.replace(ped, identifiers=[("IM", "7777-2010", "", "")]), RuleContext()) == []


def test_rfc():
    ped = gen.sample_pedimento(1, 1, clave="A1", program=None)
    assert codes(_check(gen.replace(ped, rfc="EKU900317"))) == ["RFC-INVALID"]
    found = _check(gen.replace(ped, rfc="EKU9003173C8"))
    assert codes(found) == ["RFC-INVALID"] and found[0].severity.value == "warning"


def test_sample_files_from_the_reference():
    from tests.pedimento_fixtures import PEDIMENTO_SAMPLES

    data = (PEDIMENTO_SAMPLES / "SYNTHETIC_m3456001.245").read_bytes()
    result = MFileKind(COMPANY).check_named(data, "m3456001.245")
    (part,) = list(result.parts)
    assert result.findings == []
    # the sample's own note: its number 0000001 breaks the year digit; its unit prices are in USD (real
    # pedimentos and Data Stage rows give them in pesos: precio unitario × cantidad = valor comercial);
    # 8544.30.99 has no NICO 00 in SAT's tariff catalog (warning)
    found = PedimentoKind().check(part.data).findings
    assert codes(found) == ["PED-FRACCION", "PED-NUMBER", "PED-TOTALS", "PED-TOTALS", "RFC-INVALID"]
    assert next(f for f in found if f.code == "PED-FRACCION").severity.value == "warning"


_VALID = gen.sample_mfile(2, 3)[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.sampled_from(["delete", "insert", "replace", "cut",
                                                                             "dup_line"]),
                          st.binary(min_size=1, max_size=3)), min_size=1, max_size=4))
def test_mutated_m_files_never_crash_the_reader(mutations):
    data = bytearray(_VALID)
    for position, action, payload in mutations:
        position = min(position, len(data))
        if action == "delete":
            del data[position:position + len(payload)]
        elif action == "insert":
            data[position:position] = payload
        elif action == "replace":
            data[position:position + len(payload)] = payload
        elif action == "cut":
            del data[position:]
        else:
            start = data.rfind(b"\n", 0, position) + 1
            end = data.find(b"\n", position)
            line = bytes(data[start:end + 1 if end >= 0 else len(data)])
            data[start:start] = line
    container = MFileKind(COMPANY).check_named(bytes(data), "m3456001.245")
    parts = list(container.parts)
    for part in parts:
        result = PedimentoKind(COMPANY).check(part.data)
        assert result.findings or result.record is not None  # each mutation: findings or a valid record
        assert result.ok == (result.record is not None)
    if bytes(data) != _VALID and not container.findings:
        assert parts  # a file accepted whole still yields its pedimentos


_ABSURD = [b"NaN", b"sNaN", b"Infinity", b"-Infinity", b"1E+70", b"-1E-70", b"9" * 40]


@pytest.mark.parametrize("token", _ABSURD, ids=lambda t: t.decode()[:12])
def test_absurd_numbers_in_any_field_are_findings_not_crashes(token):
    """Every field of every record of an M file set to a number Python parses but no amount is (found by fuzzing:
    'NaN' in a 557 importe raised InvalidOperation in the totals, 'Infinity' in an amount in the canonical sum)."""
    name, data = gen.sample_mfile(1, 2)
    lines = data.split(b"\n")
    checked = 0
    for i, line in enumerate(lines):
        fields = line.split(b"|")
        for j in range(1, len(fields)):
            edited = b"|".join([*fields[:j], token, *fields[j + 1:]])
            container = MFileKind(COMPANY).check_named(b"\n".join([*lines[:i], edited, *lines[i + 1:]]), name)
            for part in container.parts:
                result = PedimentoKind(COMPANY).check(part.data)
                assert result.ok == (result.record is not None)
                checked += 1
    assert checked > 100


def test_dates_of_the_key_come_from_the_payment_date():
    ped = gen.sample_pedimento(1, 1, payment_date=date(2025, 3, 3))
    result = PedimentoKind(COMPANY).check(("\n".join(gen.pedimento_lines(ped)) + "\n").encode())
    assert result.ok and result.business_key == "2025-240-3456-5000001"


def test_the_m_file_reader_is_lazy():
    from gateway.kinds.pedimento import mfile

    name, data = gen.sample_mfile(50, 2)
    check = mfile.FileCheck(name)
    reader = mfile.blocks(data, check)
    first = next(reader)
    assert check.pedimentos == 1 and first.key == ("3456", "6000001", "240")  # one block read, not the file
    assert len(list(reader)) == 49 and check.findings == []


_SET = gen.datastage_zip([gen.sample_pedimento(1, 2), gen.sample_pedimento(2, 1)])
_ASC = gen.datastage_files([gen.sample_pedimento(3, 2)])["1839483_551.asc"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["zip", "asc"]), st.integers(0, 10**6), st.binary(min_size=0, max_size=3),
       st.sampled_from(["cut", "replace", "insert"]))
def test_mutated_data_stage_input_never_crashes(form, position, payload, action):
    from gateway.kinds.pedimento.kind import DataStageKind

    data = bytearray(_SET if form == "zip" else _ASC)
    position %= len(data)
    if action == "cut":
        del data[position:]
    elif action == "replace":
        data[position:position + len(payload)] = payload
    else:
        data[position:position] = payload
    result = DataStageKind().check_named(bytes(data), "1839483.zip" if form == "zip" else "1839483_551.asc")
    for part in result.parts:
        checked = PedimentoKind(COMPANY).check(part.data)
        assert checked.ok == (checked.record is not None)
    assert result.findings or form == "zip"  # a loose 551 alone is always reported as an incomplete set
