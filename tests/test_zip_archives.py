"""ZIP archives through the real pipeline (``immex-gateway run --once``): SAT bulk downloads, broker expedientes,
and every way a hostile or broken archive can hurt (bomb, traversal, encryption, links, nesting, damage)."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import jsonschema

from gateway.demo.generate.pedimento import sample_mfile
from tests.conftest import REPO


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _by_name(documents: list[dict]) -> dict[str, dict]:
    return {d["filename"].split("#", 1)[-1].split(" ", 1)[-1]: d for d in documents if "#" in d["filename"]}


def _codes(workspace, document_id: str) -> list[str]:
    shown = workspace.cli("queue", "show", document_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return [f["code"] for f in json.loads(shown.stdout)["findings"]]


def _run(workspace, name: str, data: bytes) -> list[dict]:
    (workspace.inbox / name).write_bytes(data)
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return workspace.documents()


def test_a_bulk_download_of_invoices_becomes_one_document_per_invoice(workspace, make_invoice):
    invoices = {f"{i:04d}-ABC.xml": make_invoice(9100 + i) for i in range(12)}
    documents = _run(workspace, "descarga-masiva.zip", _zip(invoices))
    container = next(d for d in documents if d["filename"] == "descarga-masiva.zip")
    assert container["state"] == "split" and container["kind"] == "zip"
    parts = _by_name(documents)
    assert sorted(parts) == sorted(invoices)
    assert {d["state"] for d in parts.values()} == {"forwarded"}
    assert {d["kind"] for d in parts.values()} == {"cfdi"}
    assert len(workspace.forwarded_files()) == 12
    record = json.loads(next(workspace.outbox.glob("cfdi/*.json")).read_text())
    assert {"role": "part-of", "id": container["id"]}.items() <= next(
        link for link in record["links"] if link["role"] == "part-of").items()
    assert (workspace.processed / "descarga-masiva.zip").exists()


def test_an_expediente_keeps_pdf_and_images_as_attachments_and_forwards_the_documents(workspace, make_invoice):
    m_name, m_data = sample_mfile(1)
    data = _zip({f"expediente/{m_name}": m_data, "expediente/factura.xml": make_invoice(9201),
                 "expediente/3420-6000001.pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                 "expediente/foto.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 64})
    documents = _run(workspace, "expediente 3420-6000001.zip", data)
    parts = _by_name(documents)
    pdf = next(d for n, d in parts.items() if n.startswith("expediente/3420-6000001.pdf"))
    assert pdf["state"] == "attached"
    assert "pedimento 3420-6000001" in pdf["filename"]
    assert parts["expediente/foto.png"]["state"] == "attached"
    assert parts["expediente/factura.xml"]["state"] == "forwarded"
    mfile = parts[f"expediente/{m_name}"]
    assert mfile["kind"] == "mfile" and mfile["state"] == "split"
    assert not list(workspace.outbox.glob("attachment/*"))  # attachments are never forwarded
    envelope = json.loads(next(workspace.outbox.glob("cfdi/*.json")).read_text())
    attachments = {link["filename"]: link for link in envelope["links"] if link["role"] == "attachment"}
    assert attachments["expediente/3420-6000001.pdf"]["pedimento"] == "3420-6000001"
    assert attachments["expediente/3420-6000001.pdf"]["id"] == pdf["id"]
    assert set(attachments) == {"expediente/3420-6000001.pdf", "expediente/foto.png"}
    jsonschema.validate(envelope, json.loads((REPO / "docs/schema/envelope.schema.json").read_text(encoding="utf-8")))
    shown = workspace.cli("queue", "show", next(d["id"] for d in documents if d["filename"].endswith(".zip")),
                          "--json")
    assert shown.returncode == 0, shown.stderr
    links = {(link["role"], link.get("filename", "")) for link in json.loads(shown.stdout)["links"]}
    assert any(role == "attachment" and "3420-6000001.pdf" in name for role, name in links)


def test_bad_entries_are_rejected_alone_and_the_rest_flows(workspace, make_invoice):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("buena.xml", make_invoice(9301))
        archive.writestr("../../etc/evil.xml", make_invoice(9302))
        archive.writestr("/abs/evil2.xml", make_invoice(9303))
        link = zipfile.ZipInfo("enlace.xml")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("bomba.xml", b" " * (300 * 2**20))  # 300 MiB of spaces: ~1000:1
        archive.writestr("rota.xml", b"<cfdi:Comprobante")
    documents = _run(workspace, "lote.zip", buffer.getvalue())
    parts = _by_name(documents)
    assert parts["buena.xml"]["state"] == "forwarded"
    for name in ("../../etc/evil.xml", "/abs/evil2.xml", "enlace.xml", "bomba.xml"):
        assert parts[name]["state"] == "rejected", name
        assert _codes(workspace, parts[name]["id"]) == ["ARCHIVE-UNSAFE"], name
    assert parts["rota.xml"]["state"] == "rejected"
    assert not (workspace.root / "etc").exists() and not (workspace.root.parent / "etc" / "evil.xml").exists()
    bomb = workspace.cli("queue", "show", parts["bomba.xml"]["id"], "--json")
    finding = json.loads(bomb.stdout)["findings"][0]
    assert finding["location"] == {"entry": "bomba.xml", "limit": "limits.max_compression_ratio"}
    assert "bomba ZIP" in finding["message"]


def test_an_encrypted_entry_is_refused_with_a_clear_finding(workspace, make_invoice):
    data = bytearray(_zip({"cifrada.xml": make_invoice(9401), "clara.xml": make_invoice(9402)},
                          zipfile.ZIP_STORED))
    # set the "encrypted" flag of the first entry in its local header and in the central directory
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x01\x02"))
    data[central + 8] |= 1
    documents = _run(workspace, "cifrado.zip", bytes(data))
    parts = _by_name(documents)
    assert parts["cifrada.xml"]["state"] == "rejected"
    shown = json.loads(workspace.cli("queue", "show", parts["cifrada.xml"]["id"], "--json").stdout)
    assert "cifrado" in shown["findings"][0]["message"]
    assert parts["clara.xml"]["state"] == "forwarded"


def test_a_corrupt_archive_rejects_the_container_whole(workspace, make_invoice):
    data = _zip({"a.xml": make_invoice(9501), "b.xml": make_invoice(9502)})
    documents = _run(workspace, "roto.zip", data[: len(data) - 30])  # central directory cut off
    assert [d["state"] for d in documents] == ["rejected"]
    assert _codes(workspace, documents[0]["id"]) == ["ARCHIVE-CORRUPT"]


def test_nested_zips_are_opened_up_to_the_depth_limit(workspace, make_invoice):
    inner = _zip({"interna.xml": make_invoice(9601)})
    deep = _zip({"n3.zip": _zip({"n4.zip": _zip({"muy-honda.xml": make_invoice(9602)})})})
    documents = _run(workspace, "anidado.zip", _zip({"facturas.zip": inner, "n2.zip": deep}))
    parts = _by_name(documents)
    assert parts["facturas.zip/interna.xml"]["state"] == "forwarded"
    too_deep = parts["n2.zip/n3.zip/n4.zip"]
    assert too_deep["state"] == "rejected" and _codes(workspace, too_deep["id"]) == ["ARCHIVE-UNSAFE"]


def _limit(workspace, line: str) -> None:
    """Add ``line`` to the workspace's ``[limits]`` table (the file already has one)."""
    config = workspace.config.read_text(encoding="utf-8")
    if "[limits]" in config:
        config = config.replace("[limits]", "[limits]\n" + line, 1)
    else:
        config += "\n[limits]\n" + line + "\n"
    workspace.config.write_text(config, encoding="utf-8")


def test_too_many_entries_refuse_the_archive_before_reading_it(workspace, make_invoice):
    _limit(workspace, "max_container_entries = 3")
    documents = _run(workspace, "muchos.zip", _zip({f"{i}.xml": make_invoice(9700 + i) for i in range(5)}))
    assert [d["state"] for d in documents] == ["rejected"]
    assert _codes(workspace, documents[0]["id"]) == ["ARCHIVE-UNSAFE"]


def test_the_former_archives_table_still_works_and_config_check_says_where_it_moved(workspace, make_invoice):
    config = workspace.config.read_text(encoding="utf-8") + "\n[archives]\nmax_entries = 3\n"
    workspace.config.write_text(config, encoding="utf-8")
    documents = _run(workspace, "muchos.zip", _zip({f"{i}.xml": make_invoice(9750 + i) for i in range(5)}))
    assert [d["state"] for d in documents] == ["rejected"]
    check = workspace.cli("config", "check")
    assert "archives.max_entries → limits.max_container_entries" in check.stdout


def test_a_key_in_both_tables_with_different_values_stops_start_up(workspace):
    _limit(workspace, "max_compression_ratio = 100")
    config = workspace.config.read_text(encoding="utf-8") + "\n[archives]\nmax_ratio = 300\n"
    workspace.config.write_text(config, encoding="utf-8")
    result = workspace.cli("run", "--once")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "archives.max_ratio" in result.stderr and "limits.max_compression_ratio" in result.stderr


def test_an_unknown_archives_key_stops_start_up_naming_it(workspace):
    config = workspace.config.read_text(encoding="utf-8") + "\n[archives]\nmax_entrys = 3\n"
    workspace.config.write_text(config, encoding="utf-8")
    result = workspace.cli("run", "--once")
    assert result.returncode != 0
    assert "archives.max_entrys" in result.stderr and "Traceback" not in result.stderr


def test_validate_shows_the_verdict_of_every_entry(workspace, make_invoice, tmp_path):
    path = tmp_path / "lote.zip"
    path.write_bytes(_zip({"buena.xml": make_invoice(9801), "mala.xml": b"<a>", "nota.pdf": b"%PDF-1.4\n"}))
    result = workspace.cli("validate", str(path), "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report[0]["kind"] == "zip"
    entries = {item["filename"].split(" ", 1)[-1]: item for item in report[1:]}
    assert entries["buena.xml"]["kind"] == "cfdi" and entries["buena.xml"]["valid"] is True
    assert entries["mala.xml"]["valid"] is False
    assert entries["nota.pdf"]["kind"] == "attachment" and entries["nota.pdf"]["valid"] is True


def test_the_web_api_lists_a_containers_parts_and_attachments_and_downloads_each(tmp_path, make_invoice, identities):
    from tests.web_fixtures import start_server, stop_server

    server = start_server(tmp_path, make_invoice, identities)
    try:
        pdf = b"%PDF-1.4\n% pedimento impreso\n%%EOF\n"
        (tmp_path / "inbox" / "expediente.zip").write_bytes(_zip({"factura.xml": make_invoice(9901),
                                                                  "3459-6000123.pdf": pdf}))
        assert server.cli("run", "--once").returncode == 0
        container = server.doc("expediente.zip")
        token = server.tokens["ana"]
        status, shown = server.api("GET", f"/documents/{container['id']}", token=token)
        assert status == 200
        roles = {link["role"]: link for link in shown["links"]}
        assert roles["attachment"]["state"] == "attached" and roles["part"]["kind"] == "cfdi"
        status, body, _ = server.request("GET", f"/api/documents/{roles['attachment']['id']}/original", token=token)
        assert status == 200 and body == pdf
    finally:
        stop_server(server)


def test_an_expediente_zip_of_m_file_coves_and_pdf_is_correlated_as_one_group(tmp_path):
    """A broker's whole operation in one ZIP: the pedimento waits inside for its COVEs and the group moves on."""
    from tests.correlation_fixtures import by_key, deliver, import_group, open_gateway, write_workspace

    group = import_group()
    entries = {f"operacion/{name}": data for name, data in group.files.items()}
    entries["operacion/pedimento-impreso.pdf"] = b"%PDF-1.4\n% pedimento impreso\n%%EOF\n"
    gw = open_gateway(write_workspace(tmp_path))
    try:
        deliver(gw, "expediente.zip", _zip(entries))
        states = {key: doc.state for key, doc in by_key(gw).items()}
        assert states == {group.pedimento_key: "forwarded", "COVE260000100": "forwarded",
                          "factura INV-1-1": "forwarded", "operación 65100001": "forwarded"}
        envelope = json.loads(next((tmp_path / "outbox" / "pedimento").glob("*.json")).read_text())
        roles = {link["role"] for link in envelope["links"]}
        assert {"cove", "attachment", "part-of"} <= roles
        [pdf] = [link for link in envelope["links"] if link["role"] == "attachment"]
        assert pdf["filename"] == "operacion/pedimento-impreso.pdf"
    finally:
        gw.close()
