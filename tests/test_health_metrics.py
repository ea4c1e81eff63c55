"""Health of sources and sinks, and the Prometheus figures, both read from the store."""

from __future__ import annotations

from gateway import health, metrics, runner
from gateway.ports import SourceBase


class _Broken(SourceBase):
    def __init__(self) -> None:
        self.name, self.kind = "broken-sftp", "auto"

    def poll(self):
        raise ConnectionRefusedError("connection refused by sftp.broker.example:22")


def test_a_failing_source_turns_unhealthy_after_repeated_failures_and_recovers(workspace, make_invoice):
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    gw = workspace.gateway()
    try:
        broken = _Broken()
        gw._sources = [broken, *gw.sources]
        stats = runner.RunStats()
        for _ in range(health.UNHEALTHY_AFTER):
            runner.intake_once(gw, stats)
        snap = health.snapshot(gw.store)
        by_name = {c["name"]: c for c in snap["components"]}
        assert snap["status"] == "degraded"
        assert by_name["broken-sftp"]["healthy"] is False
        assert "connection refused" in by_name["broken-sftp"]["last_error"]
        assert by_name["broker-drop"]["healthy"] is True  # the folder source kept working beside it
        runner.run_once(gw, drain_timeout=5)  # the broken source does not block the folder beside it
        assert [d.state for d in gw.store.list_documents()] == ["forwarded"]

        broken.poll = lambda: []
        runner.intake_once(gw, stats)
        assert health.snapshot(gw.store)["status"] == "ok"
    finally:
        gw.close()


def test_metrics_count_documents_and_deliveries(workspace, make_invoice):
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    (workspace.inbox / "b.xml").write_bytes(b"<cfdi:Comprobante")
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=5)
        text = metrics.render(gw.store)
    finally:
        gw.close()
    assert 'immex_documents{kind="cfdi",state="forwarded"} 1' in text
    assert 'immex_deliveries{sink="inventory",state="delivered"} 1' in text
    assert 'immex_component_healthy{component="sink",name="inventory"} 1' in text
    assert "# TYPE immex_documents gauge" in text
