"""The three forms of a pedimento: M file, Data Stage and VUCEM answers, through the kinds and the CLI."""

from __future__ import annotations

import io
import json
import zipfile

import jsonschema
import pytest

from gateway import runner
from gateway.demo.generate import pedimento as gen
from gateway.kinds.pedimento.kind import DataStageKind, MFileKind, PedimentoKind
from tests.pedimento_fixtures import COMPANY, PEDIMENTO_SAMPLES, SCHEMA, codes


def _strip_origin(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "origin"}


def test_the_same_pedimentos_as_m_file_and_as_data_stage_normalise_to_the_same_records():
    peds = [gen.sample_pedimento(1, 4, invoices=2), gen.sample_pedimento(2, 3, clave="RT", operation_type="2",
                                                                          use_cfdi=True)]
    name, data = gen.mfile(peds)
    m_parts = list(MFileKind(COMPANY).check_named(data, name).parts)
    ds = DataStageKind().check_named(gen.datastage_zip(peds), "1839483.zip")
    ds_parts = list(ds.parts)
    assert ds.findings == [] and ds.record["pedimentos"] == 2 and len(m_parts) == 2
    kind = PedimentoKind(COMPANY)
    for m_part, ds_part in zip(m_parts, ds_parts, strict=True):
        from_m, from_ds = kind.check(m_part.data), kind.check(ds_part.data)
        assert from_m.findings == [] and from_ds.findings == []
        assert _strip_origin(from_m.record) == _strip_origin(from_ds.record)
        assert from_m.business_key == from_ds.business_key
        assert from_m.record["origin"]["format"] == "mfile" and from_ds.record["origin"]["format"] == "datastage"
        assert from_ds.record["origin"]["payment_real_at"] == "2026-08-20T17:48:15"
        jsonschema.validate(from_ds.record, SCHEMA)


def test_data_stage_header_order_case_lf_and_slash_dates_are_tolerated():
    files = gen.datastage_files([gen.sample_pedimento(3, 2)])
    header, *rows = files["1839483_551.asc"].decode().split("\r\n")
    columns = header.split("|")
    order = list(reversed(range(len(columns))))  # columns in reverse order, lower case, LF, no trailing pipe

    def reorder(line: str) -> str:
        fields = line.split("|")[:len(columns)]
        return "|".join(fields[i] for i in order)

    files["1839483_551.asc"] = ("\n".join([reorder(header).lower()] + [reorder(r) for r in rows if r]) + "\n").encode()
    files["1839483_506.asc"] = files["1839483_506.asc"].replace(b"2026-08-20", b"2026/08/20")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    ds = DataStageKind().check_named(buffer.getvalue(), "set.zip")
    (part,) = list(ds.parts)
    result = PedimentoKind(COMPANY).check(part.data)
    assert ds.findings == [] and result.findings == []
    _, mdata = gen.mfile([gen.sample_pedimento(3, 2)])
    (m_part,) = list(MFileKind().check_named(mdata, "m3456001.245").parts)
    assert _strip_origin(result.record) == _strip_origin(PedimentoKind(COMPANY).check(m_part.data).record)


def test_an_incomplete_or_truncated_data_stage_set_is_reported_not_half_loaded():
    files = gen.datastage_files([gen.sample_pedimento(1, 2), gen.sample_pedimento(2, 2)])
    without_551 = {k: v for k, v in files.items() if not k.endswith("_551.asc")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in without_551.items():
            archive.writestr(name, data)
    result = DataStageKind().check_named(buffer.getvalue(), "set.zip")
    assert list(result.parts) == [] and codes(result.findings) == ["PED-SEQUENCE"]
    assert "_551.asc" in result.findings[0].message
    truncated = files["1839483_557.asc"][:-30]  # cut in the middle of the last row
    result = DataStageKind().check_named(truncated, "1839483_557.asc")
    list(result.parts)
    assert "PED-LAYOUT" in codes(result.findings)
    assert any("truncada" in f.message for f in result.findings)


def test_real_data_stage_rows_are_read_by_their_headers():
    r501 = (PEDIMENTO_SAMPLES / "datastage-sample_501.asc").read_bytes()
    r551 = (PEDIMENTO_SAMPLES / "datastage-sample_551.asc").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("1798546_501.asc", r501)
        archive.writestr("1798546_551.asc", r551)
    ds = DataStageKind().check_named(buffer.getvalue(), "1798546.zip")
    parts = list(ds.parts)
    assert ds.findings == [] and [p.label for p in parts] == ["pedimento 3953-6000098 (240)",
                                                                "pedimento 1769-6000343 (480)"]
    result = PedimentoKind().check(parts[1].data)
    # the sample set has no 505/506 files: the partida's USD value has no invoice to match
    assert "PED-TOTALS" in codes(result.findings)
    from gateway.kinds.pedimento import datastage, normalise

    records, origin = datastage.records_from_part(parts[1].data, [])
    record = normalise.build(records, origin)
    (partida,) = record["partidas"]
    assert (partida["fraccion"], partida["nico"], partida["tariff_code"]) == ("85389099", "99", "8538909999")
    assert (partida["commercial_value"], partida["value_usd"], partida["umc_quantity"]) == ("35553", "1976.88",
                                                                                           "12.000")
    assert record["clave"] == "A1" and record["operation"] == "EXP" and record["exchange_rate"] == "17.00000"
    assert origin["payment_real_at"] == "2026-01-13T15:57:02"


def test_vucem_pedimento_completo_and_partida_answers():
    completo = PedimentoKind(COMPANY).check((PEDIMENTO_SAMPLES / "vucem-consultarpedimentocompleto-resp.xml")
                                            .read_bytes())
    assert completo.ok and [f.code for f in completo.findings] == []
    record = completo.record
    jsonschema.validate(record, SCHEMA)
    assert record["key"] == {"year": 2015, "aduana_seccion": "160", "patente": None, "pedimento": "5006792"}
    assert [i["cove"] for i in record["invoices"]] == ["COVE151AP7WJ5", "COVE151AP7WG8"]
    assert record["exchange_rate"] == "16.76360" and record["dates"]["payment"] == "2015-11-24"
    assert {c["code"]: c["amount"] for c in record["contributions"]} == {"15": "210", "21": "57", "1": "9677"}
    partida = PedimentoKind().check((PEDIMENTO_SAMPLES / "vucem-consultarpartida-resp.xml").read_bytes())
    assert partida.ok and codes(partida.findings) == ["PED-FRACCION"]  # 2015: before the NICO existed (warning)
    (line,) = partida.record["partidas"]
    assert (line["fraccion"], line["umt"], line["umt_quantity"], line["valuation_method"], line["vinculacion"]) == \
        ("61161099", "9", "24480.00000", "1", "1")
    assert {c["code"]: c["amount"] for c in line["contributions"]} == {"3": "113771", "6": "117727"}


@pytest.fixture
def pedimento_workspace(workspace):
    text = workspace.config.read_text()
    workspace.config.write_text(text.replace('[gateway]\n', '[gateway]\ncompany_rfc = "EKU9003173C9"\n'
                                             'immex_program = "1234-2006"\n', 1))
    return workspace


def test_all_three_forms_flow_through_run_once(pedimento_workspace):
    ws = pedimento_workspace
    name, data = gen.sample_mfile(3, 2)
    (ws.inbox / name).write_bytes(data)
    (ws.inbox / "1839483.zip").write_bytes(gen.datastage_zip([gen.sample_pedimento(10 + i, 2) for i in range(2)]))
    (ws.inbox / "pedimento-5006792.xml").write_bytes(
        (PEDIMENTO_SAMPLES / "vucem-consultarpedimentocompleto-resp.xml").read_bytes())
    gw = ws.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        docs = gw.store.list_documents()
    finally:
        gw.close()
    by_kind = sorted((d.kind, d.state) for d in docs)
    assert by_kind == [("datastage", "split"), ("mfile", "split")] + [("pedimento", "forwarded")] * 6
    outputs = [json.loads(p.read_text()) for p in ws.forwarded_files()]
    assert len(outputs) == 6 and {o["kind"] for o in outputs} == {"pedimento"}
    formats = sorted(o["record"]["origin"]["format"] for o in outputs)
    assert formats == ["datastage", "datastage", "mfile", "mfile", "mfile", "vucem"]
    from_m = next(o for o in outputs if o["record"]["origin"]["format"] == "mfile")
    assert from_m["source"]["filename"] == name and from_m["links"][0]["role"] == "part-of"


def test_one_bad_pedimento_is_rejected_alone_and_a_bad_801_rejects_the_file(pedimento_workspace):
    ws = pedimento_workspace
    peds = [gen.sample_pedimento(1, 2), gen.sample_pedimento(2, 2, program="9999-2020")]
    name, data = gen.mfile(peds)
    (ws.inbox / name).write_bytes(data)
    _, other = gen.mfile([gen.sample_pedimento(5, 2)], name="m3456002.245")
    (ws.inbox / "m3456002.245").write_bytes(other.replace(b"|1|", b"|2|", 1).replace(b"801|m3456002.245|1|",
                                                                                      b"801|m3456002.245|3|"))
    gw = ws.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        docs = {d.filename: d for d in gw.store.list_documents()}
        assert docs[name].state == "split" and docs["m3456002.245"].state == "rejected"
        assert [f.code for f in gw.store.findings(docs["m3456002.245"].id)] == ["PED-SEQUENCE"]
        states = sorted((d.filename.split(" ")[1], d.state) for d in docs.values() if d.parent_id)
        assert states == [("pedimento", "forwarded"), ("pedimento", "rejected")]
        bad = next(d for d in docs.values() if d.parent_id and d.state == "rejected")
        assert [f.code for f in gw.store.findings(bad.id)] == ["PED-IMMEX"]
    finally:
        gw.close()


def test_validate_checks_each_pedimento_of_an_m_file(tmp_path):
    from tests.conftest import run_cli
    name, data = gen.mfile([gen.sample_pedimento(1, 2), gen.sample_pedimento(2, 2, clave="IN", program=None)])
    path = tmp_path / name
    path.write_bytes(data)
    proc = run_cli("validate", str(path), "--json")
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert [(r["kind"], r["valid"]) for r in results] == [("mfile", True), ("pedimento", True), ("pedimento", False)]
    assert [f["code"] for f in results[2]["findings"]] == ["PED-IMMEX"]
    vucem = run_cli("validate", str(PEDIMENTO_SAMPLES / "vucem-consultarpedimentocompleto-resp.xml"))
    assert vucem.returncode == 0 and "VÁLIDO (pedimento)" in vucem.stdout


def test_tolerances_come_from_the_configuration(tmp_path):
    from gateway.config import ConfigError, from_dict
    from gateway.kinds.pedimento.settings import rule_context

    settings = from_dict({"gateway": {"company_rfc": "EKU9003173C9", "immex_program": "1234-2006"},
                          "validation": {"tolerances": {"usd": "0.10"}}}, tmp_path)
    ctx = rule_context(settings)
    assert (str(ctx.tolerances.usd), str(ctx.tolerances.relative), ctx.immex_program) == ("0.10", "0.005", "1234-2006")
    with pytest.raises(ConfigError, match="validation.tolerances.usd"):
        from_dict({"validation": {"tolerances": {"usd": "-1"}}}, tmp_path)
    with pytest.raises(ConfigError, match="validation.tolerances.pesos"):
        from_dict({"validation": {"tolerances": {"pesos": "1"}}}, tmp_path)


def test_a_rectification_supersedes_and_a_resend_is_recognised_by_its_key(pedimento_workspace):
    ws = pedimento_workspace
    original = gen.sample_pedimento(1, 2)
    rectification = gen.sample_pedimento(50, 2, clave="R1", program=None, payment_date=original.payment_date)
    rectification.trailing_records = ["701|3456|6000050|240|R1|20260825|6000001|3456|240|IN|20260820"]
    name, data = gen.mfile([original, rectification])
    (ws.inbox / name).write_bytes(data)
    gw = ws.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        _, again = gen.mfile([original], name="m3456002.245")  # the same pedimento, resent in another file
        # a byte-identical block would be a duplicate; a new e.firma serial makes it byte-different
        (ws.inbox / "m3456002.245").write_bytes(again.replace(b"|00001000000512345678", b"|00001000000599999999"))
        runner.run_once(gw, drain_timeout=5)
        docs = {d.business_key: d for d in gw.store.list_documents() if d.kind == "pedimento"}
        resent = next(d for d in gw.store.list_documents() if d.kind == "pedimento" and
                      d.filename.startswith("m3456002"))
        assert [f.code for f in gw.store.findings(resent.id)] == ["DOC-RESEND"]
    finally:
        gw.close()
    first = docs["2026-240-3456-6000001"]
    envelopes = {json.loads(p.read_text())["id"]: json.loads(p.read_text()) for p in ws.forwarded_files()}
    rect = envelopes[docs["2026-240-3456-6000050"].id]
    assert {"kind": "pedimento", "id": first.id, "role": "supersedes"} in rect["links"]
    assert rect["record"]["rectification"]["corrects"]["key"] == "2026-240-3456-6000001"
    assert {"kind": "pedimento", "id": first.id, "role": "resend-of"} in envelopes[resent.id]["links"]


def test_loose_data_stage_files_are_held_until_their_set_is_complete(pedimento_workspace):
    ws = pedimento_workspace
    last = "551"
    gw = ws.gateway()
    try:
        for folio, seqs in (("1839483", (1, 2)), ("1839484", (3,))):
            files = gen.datastage_files([gen.sample_pedimento(s, 2) for s in seqs], folio=folio, complete=True)
            for name, data in files.items():
                if not name.endswith(f"_{last}.asc"):
                    (ws.inbox / name).write_bytes(data)
            runner.run_once(gw, drain_timeout=5)
            docs = [d for d in gw.store.list_documents() if d.filename.startswith(folio)]
            # the second folio's header-only files are byte-identical to the first's: duplicates, seen once
            assert {d.state for d in docs} <= {"pending", "duplicate"} and len(docs) == len(files) - 1
            held = min((d for d in docs if d.state == "pending"), key=lambda d: len(d.record["waiting_for"]))
            assert held.record["waiting_for"] == [f"{folio}_{last}.asc"]
            (ws.inbox / f"{folio}_{last}.asc").write_bytes(files[f"{folio}_{last}.asc"])
            runner.run_once(gw, drain_timeout=5)
            docs = [d for d in gw.store.list_documents() if d.filename.startswith(folio)]
            completing = next(d for d in docs if d.filename == f"{folio}_{last}.asc")
            assert completing.state == "split" and completing.record["pedimentos"] == len(seqs)
            assert {d.state for d in docs if d.kind == "datastage" and d.state != "duplicate"} == {"split"}
            assert {"kind": "datastage", "id": completing.id, "role": "same-set"} in gw.store.links(held.id)
        pedimentos = [d for d in gw.store.list_documents() if d.kind == "pedimento"]
        assert sorted(d.state for d in pedimentos) == ["forwarded"] * 3
        late = ws.inbox / "1839483_558.asc"  # a file of a folio already split is reported, not lost silently
        late.write_bytes(b"Patente|Pedimento|SeccionAduanera|Fraccion|SecuenciaFraccion|X|FechaPagoReal\r\n"
                         b"3456|6000001|240|85443099|1|X|2026-08-20 17:48:15|\r\n")
        runner.run_once(gw, drain_timeout=5)
        doc = next(d for d in gw.store.list_documents() if d.filename == "1839483_558.asc")
        assert doc.state == "rejected" and "después" in gw.store.findings(doc.id)[0].message
    finally:
        gw.close()


def test_validate_reports_a_loose_file_as_an_incomplete_set(tmp_path):
    from tests.conftest import run_cli

    files = gen.datastage_files([gen.sample_pedimento(1, 2)])
    path = tmp_path / "1839483_501.asc"
    path.write_bytes(files["1839483_501.asc"])
    proc = run_cli("validate", str(path), "--json")
    (result,) = json.loads(proc.stdout)
    assert proc.returncode == 1 and result["kind"] == "datastage"
    assert [f["code"] for f in result["findings"]] == ["PED-SEQUENCE"]
    assert "_551.asc" in result["findings"][0]["message"]


def test_a_part_finding_names_the_line_of_the_original_m_file(pedimento_workspace):
    ws = pedimento_workspace
    name, data = gen.mfile([gen.sample_pedimento(1, 2), gen.sample_pedimento(2, 2, program="9999-2020")])
    (ws.inbox / name).write_bytes(data)
    gw = ws.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        bad = next(d for d in gw.store.list_documents() if d.state == "rejected")
        (finding,) = gw.store.findings(bad.id)
    finally:
        gw.close()
    lines = data.decode().splitlines()
    assert finding.location["line"] == 6 and lines[finding.location["file_line"] - 1].startswith("507|6000002|IM|")
