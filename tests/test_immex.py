"""IMMEX clocks and discharges: deadlines in the canonical record, 512 discharges linked to their originals in any
order (with restarts between), the four discharge findings, ``deadlines`` and ``/metrics``."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import jsonschema
import pytest

from gateway import deadlines, metrics
from gateway.demo.generate import pedimento as gen
from gateway.kinds.pedimento.clock import CompanyFacts, add_months
from gateway.kinds.pedimento.kind import PedimentoKind
from gateway.kinds.pedimento.rules import RuleContext
from tests.pedimento_fixtures import COMPANY, SCHEMA

TODAY = datetime.now(UTC).date()


def original(seq: int = 1, paid: date = date(2026, 8, 20), clave: str = "IN", partidas: int = 2) -> gen.Pedimento:
    return gen.sample_pedimento(seq, partidas, clave=clave, payment_date=paid)


def quantity(p: gen.Pedimento, partida: int) -> Decimal:
    return p.partidas[partida - 1].umc_quantity


def discharge(seq: int, lines: list[tuple[gen.Pedimento, str, Decimal]], paid: date = date(2026, 10, 5),
              clave: str = "RT") -> gen.Pedimento:
    """A return (RT, exportación) whose 512 records discharge ``(original, fracción, UMT quantity)``."""
    p = gen.sample_pedimento(seq, 1, clave=clave, operation_type="2", payment_date=paid)
    p.extra_records = [f"512|{p.number}|{o.patente}|{o.number}|{o.aduana}|{o.clave}|{o.payment_date:%Y%m%d}|{fraccion}|"
                       f"{o.partidas[0].umt}|{qty}" for o, fraccion, qty in lines]
    return p


def key(p: gen.Pedimento) -> str:
    return f"{p.payment_date.year}-{p.aduana}-{p.patente}-{p.number}"


def check(p: gen.Pedimento, company: CompanyFacts | None = None):
    _, data = gen.mfile([p])
    ctx = RuleContext(COMPANY.company_rfc, COMPANY.immex_program, company=company or CompanyFacts())
    block = data.decode().rsplit("801|", 1)[0].encode()
    return PedimentoKind(ctx).check(block)


# the clock in the canonical record -------------------------------------------------------------------------

def test_an_in_partida_has_18_months_from_its_entry_date_with_its_basis_and_sources():
    result = check(original(1, date(2026, 8, 31)))
    assert result.ok and [f.code for f in result.findings] == []
    jsonschema.validate(result.record, SCHEMA)
    clocks = [p["return_clock"] for p in result.record["partidas"]]
    assert len(clocks) == 2 and clocks[0] == clocks[1]
    # 31-ago-2026 + 18 months: February 2028 has 29 days
    assert clocks[0]["start_date"] == "2026-08-31" and clocks[0]["return_deadline"] == "2028-02-29"
    assert clocks[0]["basis"] == "LA art. 108 fr. I (18 meses)" and clocks[0]["rule"] == "insumos"
    assert "BADO108" in clocks[0]["sources"] and clocks[0]["start_basis"].startswith("fecha de entrada")


def test_activo_fijo_runs_to_the_program_validity_or_warns_without_it():
    fixed = original(2, clave="AF")
    result = check(fixed, CompanyFacts(program_valid_until=date(2031, 6, 30)))
    clock = result.record["partidas"][0]["return_clock"]
    assert (clock["return_deadline"], clock["rule"], clock["months"]) == ("2031-06-30", "activo-fijo", None)
    assert "fr. III" in clock["basis"]
    unknown = check(fixed)
    assert [f.code for f in unknown.findings] == ["IMMEX-CLOCK"] and unknown.findings[0].severity.value == "warning"
    assert unknown.record["partidas"][0]["return_clock"]["return_deadline"] is None
    jsonschema.validate(unknown.record, SCHEMA)


def test_a_certified_company_has_36_months_for_insumos():
    clock = check(original(3), CompanyFacts(certified=True)).record["partidas"][0]["return_clock"]
    assert (clock["return_deadline"], clock["months"], clock["rule"]) == ("2029-08-20", 36, "insumos-certificada")
    assert "7.3.3 fr. XXV" in clock["basis"] and clock["confidence"] == "partial"


def test_a_rectification_keeps_the_originals_start_and_clave():
    rect = gen.sample_pedimento(50, 2, clave="R1", program=None, payment_date=date(2026, 9, 25))
    rect.entry_date = None  # only the rectification's own payment date and the 701's date of the original
    rect.trailing_records = ["701|3456|6000050|240|R1|20260925|6000001|3456|240|IN|20260820"]
    clock = check(rect).record["partidas"][0]["return_clock"]
    assert clock["start_date"] == "2026-08-20" and clock["return_deadline"] == "2028-02-20"
    assert clock["rule"] == "insumos"


def test_other_temporary_claves_carry_their_basis_and_a_deadline_only_where_sourced():
    e1 = check(original(6, clave="E1")).record["partidas"][0]["return_clock"]
    assert (e1["rule"], e1["return_deadline"], e1["confidence"]) == ("deposito-insumos", "2028-02-20", "inferred")
    same_state = check(original(7, clave="BA"))
    clock = same_state.record["partidas"][0]["return_clock"]
    assert (clock["rule"], clock["return_deadline"], clock["confidence"]) == ("retorno-mismo-estado", None, "unsourced")
    assert "art. 106" in clock["basis"] and [f.code for f in same_state.findings] == ["IMMEX-CLOCK"]
    jsonschema.validate(same_state.record, SCHEMA)
    definitive = check(original(8, clave="A1")).record["partidas"][0]
    assert "return_clock" not in definitive  # a definitive import has no clock


def test_no_usable_start_date_is_a_warning_not_a_made_up_deadline():
    p = original(4)
    _, data = gen.mfile([p])
    block = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"506|")).rsplit(b"801|", 1)[0]
    result = PedimentoKind(COMPANY).check(block)
    assert result.ok and "IMMEX-CLOCK" in [f.code for f in result.findings]
    assert result.record["partidas"][0]["return_clock"]["return_deadline"] is None


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28) and add_months(date(2026, 8, 20), 18) == \
        date(2028, 2, 20)


def test_a_512_with_a_malformed_original_number_or_an_impossible_date_is_a_ped_finding_with_its_line():
    o = original(5)
    bad = discharge(60, [(o, o.partidas[0].fraccion, Decimal(1))])
    bad.extra_records = [bad.extra_records[0].replace(f"|{o.number}|", "|12345|")]
    result = check(bad)
    found = [f for f in result.findings if f.code == "PED-NUMBER"]
    assert not result.ok and found and found[0].location["record"] == "512" and found[0].location["line"] > 1
    assert found[0].location["field"] == 4 and "12345" in found[0].message
    impossible = discharge(61, [(o, o.partidas[0].fraccion, Decimal(1))])
    impossible.extra_records = [impossible.extra_records[0].replace("|20260820|", "|20260231|")]
    result = check(impossible)
    found = [f for f in result.findings if f.location.get("record") == "512"]
    assert not result.ok and found[0].code.startswith("PED-") and found[0].location["line"] > 1
    assert "20260231" in found[0].message


# the clock through run ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("certified", [False, True])
def test_in_and_af_deadlines_through_run_for_a_plain_and_a_certified_company(immex_workspace, certified):
    ws = immex_workspace
    if certified:
        ws.config.write_text(ws.config.read_text().replace("[immex]\n", "[immex]\ncertified = true\n"))
    insumos, fixed = original(1), original(2, clave="AF")
    _drop(ws, insumos, 1)
    _drop(ws, fixed, 2)
    _run(ws)
    docs = _by_key(ws)
    envelopes = _envelopes(ws)
    clock_in = envelopes[docs[key(insumos)]["id"]]["record"]["partidas"][0]["return_clock"]
    clock_af = envelopes[docs[key(fixed)]["id"]]["record"]["partidas"][1]["return_clock"]
    assert clock_in["return_deadline"] == ("2029-08-20" if certified else "2028-02-20")
    assert clock_in["basis"].startswith("LA art. 108 fr. I") and ("7.3.3" in clock_in["basis"]) == certified
    assert (clock_af["return_deadline"], clock_af["basis"]) == ("2031-06-30",
                                                                "LA art. 108 fr. III (vigencia del programa IMMEX)")
    for doc in docs.values():
        jsonschema.validate(envelopes[doc["id"]]["record"], SCHEMA)
        assert not [f for f in doc["findings"] if f["code"].startswith("IMMEX-")]


def _datastage_discharge(o: gen.Pedimento, fraccion: str, qty: str, paid_original: str):
    """A return as a SAT Data Stage set whose 512 file discharges ``o``; the part's check result."""
    import io
    import zipfile

    from gateway.kinds.pedimento.kind import DataStageKind

    rt = gen.sample_pedimento(20, 1, clave="RT", operation_type="2", payment_date=date(2026, 10, 5))
    files = gen.datastage_files([rt], complete=True)
    files["1839483_512.asc"] += (f"{rt.patente}|{rt.number}|{rt.aduana}|{o.patente}|{o.number}|{o.aduana}|IN|"
                                 f"{paid_original}|{fraccion}|{o.partidas[0].umt}|{qty}|1|2026-10-05 17:48:15|\r\n"
                                 ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    (part,) = list(DataStageKind().check_named(buffer.getvalue(), "1839483.zip").parts)
    return PedimentoKind(COMPANY).check(part.data)


def test_a_data_stage_return_names_the_same_original_and_a_bad_date_points_at_its_row():
    o = original(1)
    result = _datastage_discharge(o, o.partidas[0].fraccion, "10", "2026-08-20 00:00:00")
    assert result.ok, result.findings
    (line,) = result.record["discharges"]
    assert (line["original_key"], line["fraccion"], line["payment_date"]) == (key(o), o.partidas[0].fraccion,
                                                                               "2026-08-20")
    bad = _datastage_discharge(o, o.partidas[0].fraccion, "10", "2026-02-31 00:00:00")
    (found,) = [f for f in bad.findings if f.location.get("record") == "512"]
    assert not bad.ok and found.code == "PED-LAYOUT" and found.location["file"] == "1839483_512.asc"
    assert found.location["row"] == 2  # the header is row 1


# discharges through run ------------------------------------------------------------------------------------

@pytest.fixture
def immex_workspace(workspace):
    text = workspace.config.read_text()
    workspace.config.write_text(text.replace('[gateway]\n', '[gateway]\ncompany_rfc = "EKU9003173C9"\n'
                                             'immex_program = "1234-2006"\n', 1)
                                + '\n[immex]\nprogram_valid_until = "2031-06-30"\n')
    return workspace


def _drop(ws, p: gen.Pedimento, consecutive: int) -> None:
    name, data = gen.mfile([p], name=gen.file_name(p.patente, consecutive))
    (ws.inbox / name).write_bytes(data)


def _run(ws) -> dict:
    result = ws.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _by_key(ws) -> dict[str, dict]:
    """The newest document of each business key, as `queue show --json` tells it."""
    out = {}
    for doc in sorted(ws.documents(), key=lambda d: d["received_at"]):
        if doc["kind"] == "pedimento":
            shown = ws.cli("queue", "show", doc["id"], "--json")
            out[doc["business_key"]] = json.loads(shown.stdout)
    return out


def _envelopes(ws) -> dict[str, dict]:
    return {json.loads(p.read_text())["id"]: json.loads(p.read_text()) for p in ws.forwarded_files()}


@pytest.mark.parametrize("original_first", [True, False])
def test_a_discharge_links_both_ways_in_either_order_with_restarts_between(immex_workspace, original_first):
    ws = immex_workspace
    o = original(1)
    d = discharge(20, [(o, o.partidas[0].fraccion, Decimal(10))])
    first, second = (o, d) if original_first else (d, o)
    _drop(ws, first, 1)
    _run(ws)  # each `run --once` is a process of its own: a restart between the two arrivals
    if not original_first:
        waiting = _by_key(ws)[key(d)]
        assert waiting["state"] == "pending" and waiting["audit"][-1]["action"] == "immex-wait"
        assert waiting["audit"][-1]["detail"] == {"originals": [key(o)]}
    _drop(ws, second, 2)
    _run(ws)
    docs = _by_key(ws)
    o_doc, d_doc = docs[key(o)], docs[key(d)]
    assert o_doc["state"] == d_doc["state"] == "forwarded"
    assert {"kind": "pedimento", "id": o_doc["id"], "role": "discharges"} in d_doc["links"]
    assert {"kind": "pedimento", "id": d_doc["id"], "role": "discharged-by"} in o_doc["links"]
    assert not [f for f in d_doc["findings"] if f["code"].startswith("IMMEX-")]
    envelopes = _envelopes(ws)
    assert {"kind": "pedimento", "id": o_doc["id"], "role": "discharges"} in envelopes[d_doc["id"]]["links"]
    if not original_first:  # the original was forwarded after the discharge arrived: its envelope shows it
        assert {"kind": "pedimento", "id": d_doc["id"], "role": "discharged-by"} in envelopes[o_doc["id"]]["links"]
    assert envelopes[o_doc["id"]]["record"]["partidas"][0]["return_clock"]["return_deadline"] == "2028-02-20"
    assert envelopes[d_doc["id"]]["record"]["discharges"][0]["original_key"] == key(o)
    jsonschema.validate(envelopes[d_doc["id"]]["record"], SCHEMA)


def test_the_original_missing_after_the_correlation_timeout(immex_workspace):
    ws = immex_workspace
    ws.config.write_text(ws.config.read_text().replace('[gateway]\n', '[gateway]\ncorrelation_timeout = "1s"\n', 1))
    o = original(1)
    d = discharge(21, [(o, o.partidas[0].fraccion, quantity(o, 1) + 3)])  # more than the original will show
    _drop(ws, d, 1)
    _run(ws)
    assert _by_key(ws)[key(d)]["state"] in ("pending", "forwarded")
    time.sleep(1.2)
    _run(ws)
    shown = _by_key(ws)[key(d)]
    assert shown["state"] == "forwarded"
    (missing,) = [f for f in shown["findings"] if f["code"].startswith("IMMEX-")]
    assert missing["code"] == "IMMEX-ORIGINAL-MISSING" and missing["severity"] == "warning"
    assert missing["location"]["original"] == key(o) and "26  24  3456  6000001" in missing["message"]
    # the original arrives late: linked both ways, and what the discharge could not check travels with it
    _drop(ws, o, 2)
    _run(ws)
    docs = _by_key(ws)
    late = docs[key(o)]
    assert late["state"] == "forwarded"
    assert {"kind": "pedimento", "id": docs[key(d)]["id"], "role": "discharged-by"} in late["links"]
    assert {"kind": "pedimento", "id": late["id"], "role": "discharges"} in docs[key(d)]["links"]
    (over,) = [f for f in late["findings"] if f["code"].startswith("IMMEX-")]
    assert over["code"] == "IMMEX-OVER-DISCHARGE" and over["message"].endswith("excedente 3.")


def test_without_waiting_a_discharge_goes_on_at_once(immex_workspace):
    ws = immex_workspace
    ws.config.write_text(ws.config.read_text().replace("[immex]\n", "[immex]\nwait_for_originals = false\n"))
    o = original(1)
    d = discharge(28, [(o, o.partidas[0].fraccion, Decimal(1))])
    _drop(ws, d, 1)
    _run(ws)
    shown = _by_key(ws)[key(d)]
    assert shown["state"] == "forwarded" and [f["code"] for f in shown["findings"]] == ["IMMEX-ORIGINAL-MISSING"]
    assert "wait_for_originals = false" in shown["findings"][0]["message"]


def test_fraccion_not_in_the_original_and_a_discharge_after_the_deadline(immex_workspace):
    ws = immex_workspace
    o = original(1)
    _drop(ws, o, 1)
    _drop(ws, discharge(22, [(o, "99999999", Decimal(1))]), 2)  # a fracción the original never imported
    _drop(ws, discharge(23, [(o, o.partidas[1].fraccion, Decimal(1))], paid=date(2028, 3, 1)), 3)  # after 2028-02-20
    _run(ws)
    docs = _by_key(ws)
    wrong = docs["2026-240-3456-6000022"]
    late = docs["2028-240-3456-8000023"]
    assert wrong["state"] == late["state"] == "forwarded"
    (f1,) = [f for f in wrong["findings"] if f["code"].startswith("IMMEX-")]
    assert f1["code"] == "IMMEX-DISCHARGE-FRACCION" and "99999999" in f1["message"]
    assert f1["location"]["record"] == "512"
    (f2,) = [f for f in late["findings"] if f["code"].startswith("IMMEX-")]
    assert f2["code"] == "IMMEX-DISCHARGE-LATE" and "2028-02-20" in f2["message"] and "2028-03-01" in f2["message"]


def test_over_discharge_counts_each_discharge_once_through_resends_and_retries(immex_workspace):
    ws = immex_workspace
    o = original(1)
    fraccion, imported = o.partidas[0].fraccion, quantity(o, 1)
    half = imported / 2
    first = discharge(24, [(o, fraccion, half)])
    _drop(ws, o, 1)
    _drop(ws, first, 2)
    _run(ws)
    # the same return resent with other bytes (another e.firma serial): one discharge, counted once
    _, again = gen.mfile([first], name=gen.file_name("3456", 3))
    (ws.inbox / gen.file_name("3456", 3)).write_bytes(again.replace(b"|00001000000512345678", b"|00001000000599999999"))
    second = discharge(25, [(o, fraccion, half)])
    _drop(ws, second, 4)
    _run(ws)
    docs = _by_key(ws)
    assert not [f for d in docs.values() for f in d["findings"] if f["code"] == "IMMEX-OVER-DISCHARGE"]
    gw = ws.gateway()
    try:
        (row,) = [r for r in deadlines.due(gw.store, date(2028, 2, 1), 30) if r["partida"] == 1] or [None]
        assert row is None  # imported − 2 × half = 0: nothing left to return on partida 1
        (left,) = deadlines.due(gw.store, date(2028, 2, 1), 30)
        assert (left["partida"], left["remaining"], left["discharged"]) == (2, str(quantity(o, 2)), "0")
    finally:
        gw.close()
    third = discharge(26, [(o, fraccion, Decimal(1))])
    _drop(ws, third, 5)
    _run(ws)
    over = [f for f in _by_key(ws)[key(third)]["findings"] if f["code"] == "IMMEX-OVER-DISCHARGE"]
    assert len(over) == 1 and f"suman {imported + 1}, más de lo importado ({imported} en UMT)" in over[0]["message"]
    assert over[0]["message"].endswith("excedente 1.")


def test_deadlines_cli_and_metrics_show_what_is_left_soonest_first(immex_workspace):
    ws = immex_workspace
    soon = original(1, paid=add_months(TODAY, -18) + timedelta(days=20))  # due in about 20 days
    later = original(2, paid=add_months(TODAY, -18) + timedelta(days=75))
    far = original(3, paid=TODAY - timedelta(days=10))  # 18 months away: outside 90 days
    taken = Decimal(7)
    ret = discharge(30, [(soon, soon.partidas[0].fraccion, taken)], paid=TODAY)
    for n, p in enumerate((soon, later, far, ret), start=1):
        _drop(ws, p, n)
    _run(ws)
    result = ws.cli("deadlines", "--within", "90d", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["key"] for r in rows] == [key(soon)] * 2 + [key(later)] * 2
    assert [r["deadline"] for r in rows] == sorted(r["deadline"] for r in rows)
    first = rows[0]
    assert first["imported"] == str(quantity(soon, 1)) and first["discharged"] == "7"
    assert Decimal(first["remaining"]) == quantity(soon, 1) - taken and 0 < first["days_left"] <= 31
    assert first["basis"] == "LA art. 108 fr. I (18 meses)"
    assert ws.cli("deadlines", "--within", "3 meses").returncode == 2
    narrow = ws.cli("deadlines", "--within", "30")
    assert narrow.returncode == 0 and "no es el saldo del Anexo 24" in narrow.stdout
    assert soon.partidas[0].fraccion in narrow.stdout and later.partidas[0].description not in narrow.stdout
    gw = ws.gateway()
    try:
        text = metrics.render(gw.store)
    finally:
        gw.close()
    assert 'immex_partidas_expiring{within_days="30"} 2' in text
    assert 'immex_partidas_expiring{within_days="90"} 4' in text
    assert "immex_partidas_overdue 0" in text


def test_the_immex_section_is_checked_and_reaches_the_rules(tmp_path):
    from gateway.config import ConfigError, from_dict, load
    from gateway.kinds.pedimento.settings import rule_context
    from tests.conftest import REPO

    settings = from_dict({"immex": {"program_valid_until": "2031-06-30", "certified": True}}, tmp_path)
    facts = rule_context(settings).company
    assert (facts.program_valid_until, facts.certified, settings.immex.wait_for_originals) == \
        (date(2031, 6, 30), True, True)
    assert from_dict({"immex": {"program_valid_until": date(2030, 1, 31)}}, tmp_path).immex.program_valid_until == \
        date(2030, 1, 31)  # a TOML date
    for raw, key in (({"program_valid_until": "31/12/2031"}, "immex.program_valid_until"),
                     ({"certified": "yes"}, "immex.certified"), ({"vigencia": "2031-01-01"}, "immex.vigencia")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            from_dict({"immex": raw}, tmp_path)
    example = load(REPO / "config" / "gateway.toml").immex
    assert (example.certified, example.wait_for_originals, example.program_valid_until) == (False, True, None)


@pytest.mark.parametrize("original_first", [True, False])
def test_a_rectification_supersedes_the_originals_clock_in_either_order(immex_workspace, original_first):
    ws = immex_workspace
    o = original(1)
    rect = gen.sample_pedimento(50, 2, clave="R1", program=None, payment_date=date(2026, 9, 25))
    rect.entry_date = date(2026, 8, 20)  # the goods entered once, with the original
    rect.trailing_records = ["701|3456|6000050|240|R1|20260925|6000001|3456|240|IN|20260820"]
    for n, p in enumerate((o, rect) if original_first else (rect, o), start=1):
        _drop(ws, p, n)
        _run(ws)
    gw = ws.gateway()
    try:
        rows = deadlines.due(gw.store, date(2028, 2, 1), 30)
    finally:
        gw.close()
    assert {r["pedimento"] for r in rows} == {"26  24  3456  6000050"} and len(rows) == 2  # only the rectification's
    assert {r["key"] for r in rows} == {key(o)} and rows[0]["deadline"] == "2028-02-20"
    assert [r["imported"] for r in rows] == [str(q.umc_quantity) for q in rect.partidas]


def test_a_retried_and_then_replaced_discharge_counts_once(immex_workspace):
    ws = immex_workspace
    text = ws.config.read_text().replace('[gateway]\n', '[gateway]\ncorrelation_timeout = "1s"\n', 1)
    ws.config.write_text(text.replace("wait_for = []", 'wait_for = ["cove"]\non_timeout = "reject"'))
    o = original(1)
    o.invoices[0].number = "FAC-2026-0001"  # a foreign invoice without COVE: the original waits for nothing
    fraccion, imported = o.partidas[0].fraccion, quantity(o, 1)
    d = discharge(27, [(o, fraccion, imported)])  # everything it imported; its COVE never comes
    _drop(ws, o, 1)
    _drop(ws, d, 2)
    _run(ws)
    time.sleep(1.2)
    _run(ws)
    first = _by_key(ws)[key(d)]
    assert first["state"] == "rejected" and "XDOC-COVE-MISSING" in {f["code"] for f in first["findings"]}
    assert ws.cli("queue", "retry", first["id"]).returncode == 0  # the same document processed again
    _run(ws)
    time.sleep(1.2)
    _run(ws)
    assert _by_key(ws)[key(d)]["state"] == "rejected"
    ws.config.write_text(ws.config.read_text().replace('on_timeout = "reject"', 'on_timeout = "forward-with-warning"'))
    corrected = ws.root / "m3456099.245"
    _, data = gen.mfile([d], name=corrected.name)
    corrected.write_bytes(data.replace(b"|00001000000512345678", b"|00001000000599999999"))
    replaced = ws.cli("queue", "replace", first["id"], str(corrected))
    assert replaced.returncode == 0, replaced.stderr
    _run(ws)
    time.sleep(1.2)
    _run(ws)
    shown = _by_key(ws)[key(d)]
    assert shown["state"] == "forwarded" and shown["id"] != first["id"]
    assert not [f for f in shown["findings"] if f["code"] == "IMMEX-OVER-DISCHARGE"]
    gw = ws.gateway()
    try:
        assert len(gw.store.immex_discharges(document_id=first["id"], live=False)) == 1  # rewritten, not added
        rows = deadlines.due(gw.store, date(2028, 2, 1), 30)
    finally:
        gw.close()
    assert [r["partida"] for r in rows] == [2]  # partida 1 fully discharged, once


def test_a_crash_while_the_original_wakes_its_discharge_loses_nothing_and_counts_once(immex_workspace):
    ws = immex_workspace
    o = original(1)
    d = discharge(29, [(o, o.partidas[0].fraccion, quantity(o, 1))])  # exactly what was imported
    _drop(ws, d, 1)
    _run(ws)
    _drop(ws, o, 2)
    crashed = ws.cli("run", "--once", env={"IMMEX_GATEWAY_CRASH_AT": "immex.before-commit"})
    assert crashed.returncode == -9  # SIGKILL inside the original's transaction
    assert _by_key(ws)[key(d)]["state"] == "pending"  # nothing of the wake-up was committed
    _run(ws)
    docs = _by_key(ws)
    assert docs[key(o)]["state"] == docs[key(d)]["state"] == "forwarded"
    forwarded = [json.loads(p.read_text())["id"] for p in ws.forwarded_files()]
    assert sorted(forwarded) == sorted({docs[key(o)]["id"], docs[key(d)]["id"]})  # each once
    assert not [f for doc in docs.values() for f in doc["findings"] if f["code"].startswith("IMMEX-")]
    assert {"kind": "pedimento", "id": docs[key(o)]["id"], "role": "discharges"} in docs[key(d)]["links"]


def test_a_rectified_discharge_counts_only_as_its_rectification(immex_workspace):
    ws = immex_workspace
    o = original(1)
    fraccion, imported = o.partidas[0].fraccion, quantity(o, 1)
    rt = discharge(31, [(o, fraccion, imported)])  # declared everything by mistake…
    fix = discharge(32, [(o, fraccion, Decimal(4))], clave="R1", paid=date(2026, 10, 9))  # … corrected to 4
    fix.identifiers = []
    fix.trailing_records = [f"701|3456|{fix.number}|240|R1|20261009|{rt.number}|3456|240|RT|20261005"]
    for n, p in enumerate((o, rt, fix), start=1):
        _drop(ws, p, n)
    _run(ws)
    docs = _by_key(ws)
    assert docs[key(fix)]["state"] == "forwarded"
    assert not [f for d in docs.values() for f in d["findings"] if f["code"] == "IMMEX-OVER-DISCHARGE"]
    gw = ws.gateway()
    try:
        (first,) = [r for r in deadlines.due(gw.store, date(2028, 2, 1), 30) if r["partida"] == 1]
    finally:
        gw.close()
    assert (first["discharged"], first["remaining"]) == ("4", str(imported - 4))
