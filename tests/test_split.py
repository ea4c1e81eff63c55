"""Containers: a file holding several documents is split into parts that flow on their own (DESIGN §2)."""

from __future__ import annotations

import json

import pytest

from gateway import kinds, runner
from gateway.findings import error
from gateway.kinds.base import CheckResult, Part


class _Bundle:
    """A toy container: ``BUNDLE`` then one invoice per ``\\x00``-separated chunk; ``BROKEN`` at the end is late."""

    name = "bundle"

    def sniff(self, head: bytes, filename: str) -> bool:
        return head.startswith(b"BUNDLE\n")

    def check(self, data: bytes) -> CheckResult:
        result = CheckResult(validated=True, record={"file": "bundle"})
        chunks = data[len(b"BUNDLE\n"):].split(b"\x00")

        def parts():
            for number, chunk in enumerate(chunks, start=1):
                if chunk == b"BROKEN":  # a defect only seen after streaming the earlier parts
                    result.findings.append(error("FILE-ENCODING", "Parte dañada al final del archivo."))
                    return
                yield Part("cfdi", chunk, f"factura {number}")

        result.parts = parts()
        return result


@pytest.fixture
def bundle_kind(monkeypatch):
    monkeypatch.setitem(kinds._FACTORIES, "bundle", lambda registry: _Bundle())


def test_container_parts_are_documents_linked_to_their_file(workspace, make_invoice, bundle_kind):
    (workspace.inbox / "lote.bin").write_bytes(b"BUNDLE\n" + make_invoice(1) + b"\x00" + make_invoice(2))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        docs = {d.id: d for d in gw.store.list_documents()}
    finally:
        gw.close()
    container = next(d for d in docs.values() if d.kind == "bundle")
    parts = [d for d in docs.values() if d.parent_id == container.id]
    assert container.state == "split" and len(parts) == 2
    assert {d.state for d in parts} == {"forwarded"}
    assert sorted(d.filename for d in parts) == ["lote.bin#1 factura 1", "lote.bin#2 factura 2"]
    outputs = [json.loads(p.read_text()) for p in workspace.forwarded_files()]
    assert len(outputs) == 2
    for out in outputs:
        assert out["source"]["filename"] == "lote.bin" and out["source"]["sha256"] == container.sha256
        assert out["links"][0] == {"kind": "bundle", "id": container.id, "role": "part-of"}


def test_a_defect_found_late_rejects_the_container_whole(workspace, make_invoice, bundle_kind):
    (workspace.inbox / "lote.bin").write_bytes(b"BUNDLE\n" + make_invoice(1) + b"\x00BROKEN")
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        docs = gw.store.list_documents()
        assert [(d.kind, d.state) for d in docs] == [("bundle", "rejected")]
        assert [f.code for f in gw.store.findings(docs[0].id)] == ["FILE-ENCODING"]
    finally:
        gw.close()
    assert workspace.forwarded_files() == []


def test_a_part_seen_before_is_a_duplicate(workspace, make_invoice, bundle_kind):
    invoice = make_invoice(1)
    (workspace.inbox / "a.xml").write_bytes(invoice)
    (workspace.inbox / "lote.bin").write_bytes(b"BUNDLE\n" + invoice + b"\x00" + make_invoice(2))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        states = sorted(d.state for d in gw.store.list_documents())
    finally:
        gw.close()
    assert states == ["duplicate", "forwarded", "forwarded", "split"]
