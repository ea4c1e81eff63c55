"""SAT's CFDI metadata through ``run --once``: cancelled invoices reversed by a notice, or rejected, in any order."""

from __future__ import annotations

import io
import json
import zipfile

import jsonschema
from lxml import etree

from tests.conftest import REPO

SCHEMAS = REPO / "docs" / "schema"

HEADER = ("Uuid~RfcEmisor~NombreEmisor~RfcReceptor~NombreReceptor~RfcPac~FechaEmision~FechaCertificacionSat~Monto~"
          "EfectoComprobante~Estatus~FechaCancelacion")


def _uuid(invoice: bytes) -> str:
    root = etree.fromstring(invoice)
    timbre = root.find(".//{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital")
    return timbre.get("UUID").upper()


def _metadata(rows: list[tuple[str, str, str]], extra_column: bool = False) -> bytes:
    """(uuid, estatus, fecha de cancelación) rows as SAT writes them: BOM, CRLF, '~'."""
    header = HEADER + ("~FechaProcesoCancelacion" if extra_column else "")
    lines = [header]
    for uuid, status, cancelled in rows:
        line = (f"{uuid}~EKU9003173C9~ESCUELA KEMPER URGATE~XEXX010101000~BUYER INC~SAT970701NN3~"
                f"2026-11-01 10:00:00~2026-11-01 10:01:00~1160.00~I~{status}~{cancelled}")
        lines.append(line + ("~" if extra_column else ""))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _run(workspace, name: str, data: bytes) -> None:
    (workspace.inbox / name).write_bytes(data)
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def _show(workspace, document_id: str) -> dict:
    shown = workspace.cli("queue", "show", document_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def _notices(workspace) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(workspace.outbox.glob("cfdi.cancellation/*.json"))]


def test_a_forwarded_invoice_cancelled_at_sat_gets_one_notice(workspace, make_invoice):
    cancelled, kept = make_invoice(8101), make_invoice(8102)
    _run(workspace, "a.xml", cancelled)
    _run(workspace, "b.xml", kept)
    uuid = _uuid(cancelled)
    _run(workspace, "metadatos.txt", _metadata([(uuid, "0", "2026-11-20 12:00:00"), (_uuid(kept), "1", "")],
                                               extra_column=True))
    notices = _notices(workspace)
    assert len(notices) == 1
    jsonschema.validate(notices[0], json.loads((SCHEMAS / "envelope.schema.json").read_text(encoding="utf-8")))
    jsonschema.validate(notices[0]["record"],
                        json.loads((SCHEMAS / "cfdi.cancellation.schema.json").read_text(encoding="utf-8")))
    record = notices[0]["record"]
    assert record["uuid"] == uuid and record["status"] == "cancelado"
    assert record["cancelled_at"] == "2026-11-20 12:00:00"
    assert record["issuer"]["rfc"] == "EKU9003173C9"
    invoice = next(d for d in workspace.documents() if d["filename"] == "a.xml")
    assert any(link["role"] == "cancels" and link["id"] == invoice["id"] for link in notices[0]["links"])
    history = _show(workspace, invoice["id"])
    assert invoice["state"] == "forwarded"
    assert any(a["action"] == "sat-cancelled" for a in history["audit"])
    # the same UUID cancelled again (a new monthly download) sends no second notice
    _run(workspace, "metadatos-dic.txt", _metadata([(uuid, "0", "2026-11-20 12:00:00")]))
    assert len(_notices(workspace)) == 1
    states = [d["state"] for d in workspace.documents() if d["kind"] == "cfdi.cancellation"]
    assert sorted(states) == ["forwarded", "recorded"]


def test_an_invoice_arriving_after_its_cancellation_is_rejected(workspace, make_invoice):
    invoice = make_invoice(8201)
    _run(workspace, "metadatos.txt", _metadata([(_uuid(invoice), "0", "2026-11-21 08:00:00")]))
    assert _notices(workspace) == []
    _run(workspace, "tarde.xml", invoice)
    doc = next(d for d in workspace.documents() if d["filename"] == "tarde.xml")
    assert doc["state"] == "rejected"
    findings = _show(workspace, doc["id"])["findings"]
    assert [f["code"] for f in findings if f["severity"] == "error"] == ["CFDI-CANCELLED"]
    assert "2026-11-21 08:00:00" in findings[0]["message"]
    assert not list(workspace.outbox.glob("cfdi/*.json"))


def test_metadata_inside_a_bulk_zip_with_the_invoices(workspace, make_invoice):
    first, second = make_invoice(8301), make_invoice(8302)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.txt", _metadata([(_uuid(first), "0", "2026-11-22 09:00:00"),
                                                    (_uuid(second), "1", "")]))
        archive.writestr(f"{_uuid(first)}.xml", first)
        archive.writestr(f"{_uuid(second)}.xml", second)
    _run(workspace, "descarga.zip", buffer.getvalue())
    by_uuid = {d["filename"].rsplit(" ", 1)[-1].removesuffix(".xml"): d for d in workspace.documents()
               if d["kind"] == "cfdi"}
    # processed in whichever order, the effect is one of two consistent outcomes, never a silent forward
    cancelled, notices = by_uuid[_uuid(first)], _notices(workspace)
    if cancelled["state"] == "rejected":
        assert notices == []
    else:
        assert cancelled["state"] == "forwarded"
        assert [n["record"]["uuid"] for n in notices] == [_uuid(first)]
    assert by_uuid[_uuid(second)]["state"] == "forwarded"


def test_malformed_rows_are_rejected_alone_with_their_line(workspace):
    data = _metadata([("not-a-uuid", "0", "2026-11-01"), ("6128396F-C09B-4EC6-8699-43C5A9F3E6A1", "7", "")])
    _run(workspace, "metadatos.txt", data)
    parts = [d for d in workspace.documents() if d["kind"] == "cfdi.cancellation" or "#" in d["filename"]]
    assert len(parts) == 2 and {d["state"] for d in parts} == {"rejected"}
    messages = [f for d in parts for f in _show(workspace, d["id"])["findings"]]
    assert {f["code"] for f in messages} == {"SAT-METADATA"}
    assert {f["location"]["field"] for f in messages} == {"Uuid", "Estatus"}


def test_a_metadata_file_missing_columns_is_rejected_naming_them(workspace):
    _run(workspace, "metadatos.txt", b"Uuid~RfcEmisor~Monto\r\nX~Y~1\r\n")
    [doc] = workspace.documents()
    assert doc["state"] == "rejected"
    [finding] = _show(workspace, doc["id"])["findings"]
    assert finding["code"] == "SAT-METADATA" and "rfcreceptor" in finding["message"]


def _export_pedimento(gw):
    return next(d for d in gw.store.list_documents() if d.kind == "pedimento")


def test_an_export_pedimento_declaring_a_cancelled_cfdi_is_told_in_either_order(tmp_path, make_invoice, identities):
    from gateway.demo.generate.cfdi import write_certificate
    from tests.correlation_fixtures import deliver, export_group, open_gateway, write_workspace

    _, pac = identities
    group = export_group(make_invoice, seq=7)
    invoices = sorted(name for name in group.files if name.endswith(".xml"))
    uuid = _uuid(group.files[invoices[0]])
    metadata = _metadata([(uuid, "0", "2026-11-23 10:00:00")])
    for order in ("cancellation-first", "cancellation-last"):
        root = tmp_path / order
        config = write_workspace(root, pac)
        write_certificate(pac, root / "certs")
        gw = open_gateway(config)
        try:
            files = list(group.files.items())
            if order == "cancellation-first":
                files.insert(0, ("metadatos.txt", metadata))
            else:
                files.append(("metadatos.txt", metadata))
            for name, data in files:
                deliver(gw, name, data)
            pedimento = _export_pedimento(gw)
            warnings = [f for f in gw.store.findings(pedimento.id) if f.code == "XDOC-CFDI-CANCELLED"]
            assert len(warnings) == 1, order
            assert uuid in warnings[0].message and "2026-11-23 10:00:00" in warnings[0].message
            roles = {link["role"] for link in gw.store.links(pedimento.id)}
            assert "cfdi-cancelled" in roles
            if order == "cancellation-last":
                assert any(a.action == "cfdi-cancelled" for a in gw.store.audit_trail(pedimento.id))
        finally:
            gw.close()
