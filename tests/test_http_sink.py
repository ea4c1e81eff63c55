"""HTTP sink against the real reference receiver: contract, idempotency, classification of answers, TLS, secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from gateway import operations, outbox, runner
from gateway.config import ConfigError
from tests.conftest import force_state
from tests.delivery_fixtures import Receiver, http_sink, make_pki, received_keys, use_sinks

FAST = {"backoff_base": "10ms", "backoff_max": "50ms"}


@pytest.fixture
def receiver(tmp_path):
    server = Receiver(tmp_path / "receiver.db", token="s3cr3t-token")
    yield server
    server.stop()


def _drop(workspace, make_invoice, *seqs: int) -> None:
    for seq in seqs:
        (workspace.inbox / f"f{seq}.xml").write_bytes(make_invoice(seq))


def test_documents_are_posted_once_with_idempotency_key_token_and_canonical_body(
        workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", **FAST))
    _drop(workspace, make_invoice, 1, 2, 3)
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-token" not in result.stderr + result.stdout
    docs = workspace.documents()
    assert {d["state"] for d in docs} == {"forwarded"} and len(docs) == 3
    bodies = receiver.bodies()
    assert sorted(bodies) == sorted(d["id"] for d in docs)  # Idempotency-Key = document id
    schema_dir = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "schema"
    envelope_schema = json.loads((schema_dir / "envelope.schema.json").read_text())
    cfdi_schema = json.loads((schema_dir / "cfdi.schema.json").read_text())
    for key, body in bodies.items():
        assert body["id"] == key and body["kind"] == "cfdi"
        jsonschema.validate(body, envelope_schema)
        jsonschema.validate(body["record"], cfdi_schema)
    assert receiver.stats()["replays"] == 0


def test_a_document_the_receiver_already_has_counts_as_delivered(workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", **FAST))
    _drop(workspace, make_invoice, 4)
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=10)
        doc = gw.store.list_documents()[0]
        with gw.store.transaction():  # as if the process had died before recording the delivery
            gw.store.record_delivery(doc.id, "inventory", "pending", 1, "2000-01-01T00:00:00.000000Z", None, None)
            force_state(gw.store, doc.id, "ready")  # the state the crash left: set up, not a transition
        outbox.deliver_due(gw)
        assert gw.store.get(doc.id).state == "forwarded"
        assert gw.store.deliveries(doc.id)[0].state == "delivered"
    finally:
        gw.close()
    stats = receiver.stats()
    assert (stats["stored"], stats["replays"], stats["requests"]) == (1, 1, {"created": 1, "replay": 1})
    assert received_keys(receiver.db_path) == {doc.id: 1}


def test_a_refusal_is_a_dead_letter_at_once_with_the_answer_kept(workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "wrong-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", max_attempts=5, **FAST))
    _drop(workspace, make_invoice, 5)
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=10)
        doc = gw.store.list_documents()[0]
        assert doc.state == "rejected"
        delivery = gw.store.deliveries(doc.id)[0]
        assert (delivery.state, delivery.attempts) == ("dead", 1)  # 401 is not retried
        finding = next(f for f in gw.store.findings(doc.id) if f.code == "DELIVERY-FAILED")
        assert "HTTP 401" in finding.message and "missing or wrong bearer token" in finding.message
        assert "wrong-token" not in finding.message
    finally:
        gw.close()


def test_429_waits_at_least_retry_after_then_retries(workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", **FAST))
    receiver.faults.update({"fail_rate": 1.0, "fail_status": 429, "retry_after": 120})
    _drop(workspace, make_invoice, 6)
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=0.5)
        doc = gw.store.list_documents()[0]
        delivery = gw.store.deliveries(doc.id)[0]
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        assert "HTTP 429" in delivery.last_error
        scheduled = datetime.strptime(delivery.next_attempt_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert scheduled > datetime.now(UTC) + timedelta(seconds=100)  # not the 10 ms backoff: Retry-After
    finally:
        gw.close()


def test_5xx_until_dead_letter_then_operator_retry_delivers(workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", max_attempts=3, **FAST))
    receiver.faults.update({"fail_rate": 1.0, "fail_status": 503})
    _drop(workspace, make_invoice, 7)
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=10)
        doc = gw.store.list_documents()[0]
        assert doc.state == "rejected"
        assert (gw.store.deliveries(doc.id)[0].state, gw.store.deliveries(doc.id)[0].attempts) == ("dead", 3)
        receiver.faults.update({"fail_rate": 0.0})
        assert operations.retry(gw, doc.id, "cli:ana") == "ready"
        outbox.deliver_due(gw)
        assert gw.store.get(doc.id).state == "forwarded"
        assert gw.store.delivery_totals() == [("inventory", 4, 2, 1)]  # 4 attempts: 2 retried, 1 dead letter
    finally:
        gw.close()
    assert received_keys(receiver.db_path) == {doc.id: 1}


def test_timeouts_and_lost_answers_are_retried_without_a_second_copy(workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", timeout="200ms", **FAST))
    receiver.faults.update({"delay": 1.0})  # stored, answered after the client gave up
    _drop(workspace, make_invoice, 8)
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=0.1)
        doc = gw.store.list_documents()[0]
        delivery = gw.store.deliveries(doc.id)[0]
        assert delivery.state == "pending" and "sin respuesta a tiempo" in delivery.last_error
        receiver.faults.update({"delay": 0.0, "drop_rate": 1.0})  # stored again? no: the answer is lost
        gw.store.record_delivery(doc.id, "inventory", "pending", delivery.attempts, "2000-01-01T00:00:00.000000Z",
                                 delivery.last_error, None)
        outbox.deliver_due(gw)
        delivery = gw.store.deliveries(doc.id)[0]
        assert delivery.state == "pending" and "error de conexión" in delivery.last_error
        receiver.faults.update({"drop_rate": 0.0})
        gw.store.record_delivery(doc.id, "inventory", "pending", delivery.attempts, "2000-01-01T00:00:00.000000Z",
                                 delivery.last_error, None)
        outbox.deliver_due(gw)
        assert gw.store.get(doc.id).state == "forwarded"
    finally:
        gw.close()
    stats = receiver.stats()
    assert (stats["stored"], stats["duplicates"]) == (1, 0)
    assert stats["replays"] == 2  # the dropped answer and the final 409 were the same document again
    assert received_keys(receiver.db_path) == {doc.id: 1}


def test_tls_is_verified_by_default_and_mtls_client_certificate_is_sent(workspace, make_invoice, tmp_path):
    from gateway.demo.receiver import tls_context

    pki = make_pki(tmp_path / "pki")
    server = Receiver(tmp_path / "tls.db", tls=tls_context(pki["server_cert"], pki["server_key"], pki["ca"]))
    try:
        # no CA configured: the private CA is not trusted, the delivery is retried, nothing stored
        use_sinks(workspace, http_sink(server.url, max_attempts=2, client_cert_file=str(pki["client_cert"]),
                                       client_key_file=str(pki["client_key"]), **FAST))
        _drop(workspace, make_invoice, 9)
        result = workspace.cli("run", "--once")
        assert result.returncode == 0, result.stderr
        assert [d["state"] for d in workspace.documents()] == ["rejected"]
        assert server.stats()["stored"] == 0
        # trusted CA but no client certificate: the server refuses the handshake
        use_sinks(workspace, http_sink(server.url, max_attempts=1, ca_file=str(pki["ca"]), **FAST))
        doc_id = workspace.documents()[0]["id"]
        assert workspace.cli("queue", "retry", doc_id).returncode == 0
        assert workspace.cli("run", "--once").returncode == 0
        assert [d["state"] for d in workspace.documents()] == ["rejected"]
        # CA and client certificate: delivered
        use_sinks(workspace, http_sink(server.url, ca_file=str(pki["ca"]), client_cert_file=str(pki["client_cert"]),
                                       client_key_file=str(pki["client_key"]), **FAST))
        assert workspace.cli("queue", "retry", doc_id).returncode == 0
        assert workspace.cli("run", "--once").returncode == 0
        assert [d["state"] for d in workspace.documents()] == ["forwarded"]
        assert received_keys(server.db_path) == {doc_id: 1}
    finally:
        server.stop()


def test_secrets_come_from_env_or_file_and_their_absence_names_the_key(workspace, tmp_path, monkeypatch):
    from gateway.app import build_sink
    from gateway.app import load_settings as load

    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    use_sinks(workspace, http_sink("https://inventory.example/api/documents", token_env="NO_SUCH_TOKEN"))
    with pytest.raises(ConfigError, match=r"sink 'inventory'\.token_env: environment variable NO_SUCH_TOKEN"):
        build_sink(load(workspace.config).sinks[0])
    (tmp_path / "token").write_text("from-a-file\n")
    use_sinks(workspace, http_sink("https://inventory.example/api/documents", token_file="token"))
    sink = build_sink(load(workspace.config).sinks[0])
    assert sink._client.headers["Authorization"] == "Bearer from-a-file"
    sink.close()
    for bad, key in (({"url": "ftp://x"}, "url"), ({"url": "https://x", "timeout": "soon"}, "timeout"),
                     ({"url": "https://x", "verify": "no"}, "verify"), ({"url": "https://x", "batch_size": 5},
                                                                        "batch_size")):
        use_sinks(workspace, http_sink(**bad))
        with pytest.raises(ConfigError, match=rf"sink 'inventory'\.{key}"):
            load(workspace.config)


def test_batch_endpoint_delivers_many_per_request_and_retries_only_the_failed_ones(
        workspace, make_invoice, receiver, monkeypatch):
    monkeypatch.setenv("ANNEX24_TOKEN", "s3cr3t-token")
    batch_url = receiver.url + "/batch"
    use_sinks(workspace, http_sink(receiver.url, token_env="ANNEX24_TOKEN", batch_url=batch_url, batch_size=10,
                                   **FAST))
    receiver.faults.update({"fail_rate": 0.3, "fail_status": 503})  # per document inside the batch
    _drop(workspace, make_invoice, *range(20, 45))
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    docs = workspace.documents()
    assert {d["state"] for d in docs} == {"forwarded"} and len(docs) == 25
    assert received_keys(receiver.db_path) == {d["id"]: 1 for d in docs}
    stats = receiver.stats()
    assert stats["requests"]["fault"] > 0 and stats["duplicates"] == 0
    assert 3 <= stats["requests"]["batch"] < 25 + stats["requests"]["fault"]  # several documents per request


def test_retry_after_as_seconds_or_http_date_and_urls_shown_without_credentials():
    from email.utils import format_datetime

    from adapters.sinks.http import redact, retry_after

    assert retry_after("120") == 120.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 <= retry_after(in_a_minute) <= 60
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no extra wait
    assert retry_after("soon") is None and retry_after(None) is None
    assert redact("https://user:pw@inventory.example:8443/api/documents?key=abc") == \
        "https://inventory.example:8443/api/documents"
