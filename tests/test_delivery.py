"""Delivery loop: order kept within a business group, concurrency across groups, metrics of delivery."""

from __future__ import annotations

import sqlite3

from gateway import metrics, runner
from gateway.intake import record
from gateway.store.base import now
from tests.delivery_fixtures import Receiver, http_sink, use_sinks

PEDIMENTO_A = "26 47 3807 6000123"
PEDIMENTO_B = "26 47 3807 6000456"


def _ready(gw, label: str, business_key: str) -> str:
    """A ready document of one pedimento (as a future pedimento kind would leave it), enqueued for delivery."""
    sha256, size = gw.archive.put_bytes(f"pedimento {label}".encode())
    document_id = record(gw, "broker-drop", f"{label}.txt", sha256, size, "auto")
    with gw.store.transaction():
        gw.store.update_fields(document_id, source_acked_at=now(), kind="pedimento")
        gw.store.set_state(document_id, "validated", "test", "validate")
        gw.store.set_state(document_id, "normalised", "test", "normalise")
        gw.store.set_state(document_id, "ready", "test", "route", business_key=business_key,
                           record={"pedimento": business_key, "label": label})
        gw.store.enqueue(document_id, ["inventory"], now())
    return document_id


def test_documents_of_one_pedimento_are_delivered_in_order_groups_in_parallel(workspace, tmp_path):
    receiver = Receiver(tmp_path / "receiver.db", delay=0.05)
    try:
        use_sinks(workspace, http_sink(receiver.url, concurrency=4))
        gw = workspace.gateway()
        try:
            group_a = [_ready(gw, f"a{i}", PEDIMENTO_A) for i in range(4)]  # e.g. original then rectifications
            group_b = [_ready(gw, f"b{i}", PEDIMENTO_B) for i in range(4)]
            due = gw.store.due_deliveries(now(), 100)
            assert sorted(d.document_id for d in due) == sorted([group_a[0], group_b[0]])  # heads of each group
            runner.run_once(gw, drain_timeout=30)
            assert {d.state for d in gw.store.list_documents()} == {"forwarded"}
        finally:
            gw.close()
        con = sqlite3.connect(str(receiver.db_path))
        created = [r[0] for r in con.execute("SELECT idempotency_key FROM requests WHERE outcome = 'created' "
                                             "ORDER BY id")]
        con.close()
        assert [k for k in created if k in group_a] == group_a
        assert [k for k in created if k in group_b] == group_b
    finally:
        receiver.stop()


def test_metrics_report_latency_retries_and_dead_letters(workspace, make_invoice, tmp_path):
    receiver = Receiver(tmp_path / "receiver.db", fail_rate=1.0, fail_status=500)
    try:
        use_sinks(workspace, http_sink(receiver.url, max_attempts=2, backoff_base="10ms", backoff_max="20ms"))
        (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
        gw = workspace.gateway()
        try:
            runner.run_once(gw, drain_timeout=10)  # 2 attempts, then a dead letter
            receiver.faults.update({"fail_rate": 0.0})
            (workspace.inbox / "b.xml").write_bytes(make_invoice(2))
            runner.run_once(gw, drain_timeout=10)
            text = metrics.render(gw.store)
        finally:
            gw.close()
    finally:
        receiver.stop()
    assert 'immex_deliveries{sink="inventory",state="dead"} 1' in text
    assert 'immex_deliveries{sink="inventory",state="delivered"} 1' in text
    assert 'immex_delivery_attempts_total{sink="inventory"} 3' in text
    assert 'immex_delivery_retries_total{sink="inventory"} 1' in text
    assert 'immex_delivery_dead_letters_total{sink="inventory"} 1' in text
    assert "# TYPE immex_delivery_latency_seconds histogram" in text
    assert 'immex_delivery_latency_seconds_bucket{sink="inventory",le="+Inf"} 1' in text
    assert 'immex_delivery_latency_seconds_count{sink="inventory"} 1' in text
    buckets = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("immex_delivery_latency_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == 1  # cumulative
