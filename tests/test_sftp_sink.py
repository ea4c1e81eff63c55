"""SFTP sink against a real OpenSSH sshd: atomic upload, idempotent by document id, failures retried."""

from __future__ import annotations

import json
import os
import signal
import tomllib
from pathlib import Path

import pytest

from gateway import health, outbox, runner
from gateway.app import build_sink, settings_from_dict
from gateway.ports import Outgoing, SinkError
from tests import sftp_fixtures
from tests.sftp_fixtures import BASE, FOLDER_SOURCE

ssh_keys, sshd = sftp_fixtures.ssh_keys, sftp_fixtures.sshd  # fixtures


def sink_from(sshd_server, tmp_path: Path, **options):
    raw = tomllib.loads(sshd_server.sink_toml(**options))
    return build_sink(settings_from_dict(raw, tmp_path).sinks[0])


def outgoing(doc_id: str = "01JDOC", payload: str = "uno") -> Outgoing:
    return Outgoing(doc_id, "cfdi", {"id": doc_id, "record": {"valor": payload}}, "factura.xml",
                    lambda: b"<original/>")


def test_upload_round_trip_through_the_gateway(workspace, sshd, make_invoice):
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    (workspace.inbox / "b.xml").write_bytes(make_invoice(2))
    upload = sshd.root / "upload"
    workspace.config.write_text(BASE + FOLDER_SOURCE + sshd.sink_toml("inventory-sftp", str(upload)),
                                encoding="utf-8")
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    docs = workspace.documents()
    assert {d["state"] for d in docs} == {"forwarded"} and len(docs) == 2
    uploaded = sorted((upload / "cfdi").iterdir())
    assert sorted(p.name for p in uploaded) == sorted(f"{d['id']}.json" for d in docs)  # no temp files left
    for path in uploaded:
        envelope = json.loads(path.read_text(encoding="utf-8"))
        assert envelope["kind"] == "cfdi" and envelope["source"]["name"] == "broker-drop"


def test_delivering_the_same_id_twice_leaves_one_file(tmp_path, sshd):
    sink = sink_from(sshd, tmp_path)
    sink.deliver(outgoing(payload="uno"))
    sink.deliver(outgoing(payload="uno"))
    folder = sshd.root / "upload" / "cfdi"
    assert [p.name for p in folder.iterdir()] == ["01JDOC.json"]
    assert json.loads((folder / "01JDOC.json").read_text())["record"] == {"valor": "uno"}
    sink.close()


def test_original_content_keeps_the_bytes_and_extension(tmp_path, sshd):
    sink = sink_from(sshd, tmp_path, content="original")
    sink.deliver(outgoing())
    assert (sshd.root / "upload" / "cfdi" / "01JDOC.xml").read_bytes() == b"<original/>"
    sink.close()


def test_a_dropped_connection_between_deliveries_is_reconnected(tmp_path, sshd):
    sink = sink_from(sshd, tmp_path)
    sink.deliver(outgoing("01A"))
    assert sshd.kill_sessions() >= 1
    sink.deliver(outgoing("01B"))
    assert sorted(p.name for p in (sshd.root / "upload" / "cfdi").iterdir()) == ["01A.json", "01B.json"]
    sink.close()


def test_server_down_is_a_retryable_failure_and_the_sink_turns_unhealthy(workspace, sshd, make_invoice):
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    workspace.config.write_text(BASE + FOLDER_SOURCE + sshd.sink_toml("inventory-sftp", retry_attempts=1),
                                encoding="utf-8")
    sshd.stop()
    gw = workspace.gateway()
    try:
        with pytest.raises(SinkError, match="connection refused") as failed:
            gw.sinks["inventory-sftp"].deliver(outgoing())
        assert failed.value.retryable
        runner.run_once(gw, drain_timeout=0)  # validated and queued; the delivery thread may or may not try yet
        for _ in range(health.UNHEALTHY_AFTER):
            _due_now(gw)
            outbox.deliver_due(gw)
        component, = [c for c in health.snapshot(gw.store)["components"] if c["name"] == "inventory-sftp"]
        assert component["healthy"] is False and "connection refused" in component["last_error"]
        assert [d.state for d in gw.store.list_documents()] == ["ready"]  # waiting, not lost
        sshd.start()
        runner.run_once(gw, drain_timeout=10)
        states = [d.state for d in gw.store.list_documents()]
    finally:
        gw.close()
    assert states == ["forwarded"]
    assert len(list((sshd.root / "upload" / "cfdi").iterdir())) == 1


def test_a_hung_server_fails_the_next_deliveries_at_once(tmp_path, sshd):
    sink = sink_from(sshd, tmp_path, timeout="1s", retry_attempts=1, retry_initial_wait="20s")
    sink.deliver(outgoing("01A"))
    sshd.signal_sessions(signal.SIGSTOP)
    os.kill(sshd.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(SinkError, match="timed out") as first:
            sink.deliver(outgoing("01B"))
        with pytest.raises(SinkError, match="left alone") as second:
            sink.deliver(outgoing("01C"))
    finally:
        os.kill(sshd.process.pid, signal.SIGCONT)
        sshd.signal_sessions(signal.SIGCONT)
        sshd.kill_sessions()
        sink.close()
    assert first.value.retryable and second.value.retryable
    assert [p.name for p in (sshd.root / "upload" / "cfdi").iterdir()] == ["01A.json"]


def test_wrong_host_key_refuses_to_upload(tmp_path, sshd, ssh_keys):
    other = Path(f"{ssh_keys['other_host']}.pub").read_text().split()
    impostor = tmp_path / "known_hosts"
    impostor.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    sink = sink_from(sshd, tmp_path, known_hosts_file=str(impostor))
    with pytest.raises(SinkError, match="HOST KEY MISMATCH"):
        sink.deliver(outgoing())
    assert not (sshd.root / "upload").exists()


def _due_now(gw) -> None:
    """Skip the outbox's backoff wait (what the test checks is the outcome of each attempt, not its timing)."""
    for doc in gw.store.list_documents():
        for d in gw.store.deliveries(doc.id):
            if d.state == "pending":
                gw.store.record_delivery(d.document_id, d.sink, "pending", d.attempts, "2000-01-01T00:00:00.000000Z",
                                         d.last_error, None)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"remote_path": None}, "remote_path: required"),
        ({"content": "xml"}, "content"),
        ({"known_hosts_file": None}, "known_hosts_file: required"),
        ({"passphrase_env": "P", "private_key_file": None, "password_env": "X"}, "a passphrase needs private_key_file"),
        ({"timeout": "0s"}, "timeout: must be more than zero"),
    ],
)
def test_sink_config_errors_name_the_key(tmp_path, options, key):
    from gateway.config import ConfigError

    table = {"name": "up", "type": "sftp", "host": "h", "username": "u", "private_key_file": "k",
             "known_hosts_file": "kh", "remote_path": "/in", **options}
    with pytest.raises(ConfigError, match=key) as raised:
        settings_from_dict({"sink": [{k: v for k, v in table.items() if v is not None}]}, tmp_path)
    assert "sink 'up'" in str(raised.value)
