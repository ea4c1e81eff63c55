"""Delivery: failures retry with backoff, then dead-letter into the queue; an operator retry re-delivers."""

from __future__ import annotations

import random

from gateway import operations, outbox, runner
from gateway.outbox import backoff
from gateway.ports import SinkBase, SinkError
from tests.conftest import force_state


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    assert 0.5 <= backoff(1, rng) <= 1.0
    assert 4.0 <= backoff(4, rng) <= 8.0
    assert outbox.BACKOFF_CAP / 2 <= backoff(30, rng) <= outbox.BACKOFF_CAP


def test_dead_letter_then_operator_retry(workspace, make_invoice, monkeypatch):
    monkeypatch.setattr(outbox, "BACKOFF_BASE", 0.01)
    config = workspace.config.read_text().replace("max_attempts = 10", "max_attempts = 3")
    workspace.config.write_text(config)
    workspace.outbox.write_text("a file where the sink's folder should be")  # every write fails
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    gw = workspace.gateway()
    try:
        from adapters.sinks.folder import FolderSink

        gw._sinks = {"inventory": _LazyFolderSink(gw.settings.sinks[0], FolderSink)}
        runner.run_once(gw, drain_timeout=5)
        doc = gw.store.list_documents()[0]
        assert doc.state == "rejected"
        delivery = gw.store.deliveries(doc.id)[0]
        assert (delivery.state, delivery.attempts) == ("dead", 3)
        assert "DELIVERY-FAILED" in {f.code for f in gw.store.findings(doc.id)}
        actions = [a.action for a in gw.store.audit_trail(doc.id)]
        assert actions[-1] == "dead-letter"

        workspace.outbox.unlink()  # the operator fixes the destination
        assert operations.retry(gw, doc.id, "cli:ana") == "ready"
        outbox.deliver_due(gw)
        doc = gw.store.get(doc.id)
        assert doc.state == "forwarded"
        assert "DELIVERY-FAILED" not in {f.code for f in gw.store.findings(doc.id)}
    finally:
        gw.close()
    assert len(workspace.forwarded_files()) == 1


class _LazyFolderSink(SinkBase):
    """The folder sink, built at each delivery so the test can break and then fix its directory."""

    def __init__(self, config, factory) -> None:
        self.name, self._config, self._factory = config.name, config, factory

    def deliver(self, item) -> None:
        try:
            sink = self._factory(self._config)
        except OSError as exc:
            raise SinkError(str(exc)) from exc
        sink.deliver(item)


def test_delivery_repeated_after_crash_has_one_effect(workspace, make_invoice):
    (workspace.inbox / "a.xml").write_bytes(make_invoice(5))
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        doc = gw.store.list_documents()[0]
        before = workspace.forwarded_files()[0].read_bytes()
        gw.store.enqueue(doc.id, ["inventory"], "2000-01-01T00:00:00.000000Z")  # redelivery forced
        with gw.store.transaction():
            force_state(gw.store, doc.id, "ready")  # the state the crash left: set up, not a transition
        outbox.deliver_due(gw)
    finally:
        gw.close()
    assert len(workspace.forwarded_files()) == 1
    assert workspace.forwarded_files()[0].read_bytes() == before


def test_the_folder_sink_writes_a_batch_with_one_outcome_per_document(tmp_path):
    from adapters.sinks.folder import FolderSink
    from gateway.config import SinkConfig
    from gateway.ports import Outgoing

    sink = FolderSink(SinkConfig("inventory", "folder", options={"path": tmp_path / "out"}))
    assert sink.batch_size > 1
    items = [Outgoing(f"d{i}", "cfdi", {"id": f"d{i}", "n": i}, f"d{i}.xml", lambda: b"", None) for i in range(5)]
    (tmp_path / "out" / "pedimento").write_text("a file where a kind's folder should be")  # one folder broken
    items.append(Outgoing("p1", "pedimento", {"id": "p1"}, "p1.txt", lambda: b"", None))
    outcomes = sink.deliver_batch(items)
    assert outcomes[:5] == [None] * 5
    assert isinstance(outcomes[5], SinkError) and "cannot write" in str(outcomes[5])
    written = sorted(p.name for p in (tmp_path / "out" / "cfdi").iterdir())
    assert written == [f"d{i}.json" for i in range(5)]  # no temporary file left behind
    assert '"n": 3' in (tmp_path / "out" / "cfdi" / "d3.json").read_text(encoding="utf-8")


def test_a_node_reads_past_the_deliveries_another_live_node_holds(workspace):
    from gateway.store.base import Document, now

    gw = workspace.gateway()
    try:
        stamp = now()
        for seq in range(3):
            gw.store.insert_document(Document(f"d{seq}", "cfdi", "auto", "received", "s", f"f{seq}.xml", "0" * 64, 1,
                                              stamp, stamp), "test", "intake")
            gw.store.enqueue(f"d{seq}", ["inventory"], "2000-01-01T00:00:00.000000Z")
        due = gw.store.due_deliveries("9999-01-01T00:00:00.000000Z", 10)
        assert [d.document_id for d in due] == ["d0", "d1", "d2"]
        assert gw.store.claim_deliveries([("d0", "inventory", 0)], "node-a", 60)
        seen_by_b = gw.store.due_deliveries("9999-01-01T00:00:00.000000Z", 10, node="node-b")
        assert [d.document_id for d in seen_by_b] == ["d1", "d2"]
        seen_by_a = gw.store.due_deliveries("9999-01-01T00:00:00.000000Z", 10, node="node-a")
        assert [d.document_id for d in seen_by_a] == ["d0", "d1", "d2"]  # its own claims it keeps
    finally:
        gw.close()
