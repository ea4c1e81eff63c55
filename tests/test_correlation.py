"""Correlation: a pedimento and the COVEs its invoices declare are checked together, whatever the arrival order."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gateway import operations, outbox, runner
from gateway.correlation import correlate
from tests.correlation_fixtures import by_key, deliver, import_group, later, open_gateway, write_workspace

PEDIMENTO_FIRST = ["m3456001.245", "COVE260000100.xml", "solicitud.xml", "respuesta.xml"]


@pytest.fixture
def gw(tmp_path):
    gateway = open_gateway(write_workspace(tmp_path))
    yield gateway
    gateway.close()


def states(gw) -> dict[str, str]:
    return {key: doc.state for key, doc in by_key(gw).items()}


def test_pedimento_waits_for_its_coves_then_the_group_moves_on_together(gw, tmp_path):
    group = import_group()
    for name in PEDIMENTO_FIRST[:-1]:
        deliver(gw, name, group.files[name])
        assert set(states(gw).values()) == {"pending"}, name
    deliver(gw, "respuesta.xml", group.files["respuesta.xml"])
    assert states(gw) == {group.pedimento_key: "forwarded", "COVE260000100": "forwarded",
                          "factura INV-1-1": "forwarded", "operación 65100001": "forwarded"}
    docs = by_key(gw)
    # the request is completed with the number its answer gave it
    request = docs["factura INV-1-1"]
    assert (request.record["e_document"], request.record["numero_operacion"]) == ("COVE260000101", "65100001")
    out = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "outbox").glob("*/*.json")}
    pedimento_links = [link for link in out[docs[group.pedimento_key].id]["links"] if link["role"] != "part-of"]
    assert sorted((link["role"], link["key"], link["kind"]) for link in pedimento_links) == [
        ("cove", "COVE260000100", "cove"), ("cove", "COVE260000101", "cove"), ("cove", "COVE260000101", "cove")]
    assert {link["id"] for link in pedimento_links} == {docs[k].id for k in
                                                        ("COVE260000100", "factura INV-1-1", "operación 65100001")}
    request_links = {(link["role"], link["id"]) for link in out[request.id]["links"]}
    assert request_links == {("declared-in", docs[group.pedimento_key].id),
                             ("respuesta-cove", docs["operación 65100001"].id)}


def test_cove_arriving_first_waits_to_be_claimed(gw):
    group = import_group()
    deliver(gw, "COVE260000100.xml", group.files["COVE260000100.xml"])
    assert states(gw) == {"COVE260000100": "pending"}
    assert correlate.resolve_timeouts(gw) == 0  # not yet: the default timeout is 72 h
    for name in ("respuesta.xml", "m3456001.245", "solicitud.xml"):
        deliver(gw, name, group.files[name])
    assert set(states(gw).values()) == {"forwarded"}


def test_disagreement_rejects_every_member_and_names_both_documents(gw):
    group = import_group(defect="valor")
    for name in PEDIMENTO_FIRST:
        deliver(gw, name, group.files[name])
    docs = by_key(gw)
    assert set(states(gw).values()) == {"rejected"}
    pedimento = {f.code for f in gw.store.findings(docs[group.pedimento_key].id)}
    cove = gw.store.findings(docs["COVE260000100"].id)
    assert pedimento == {"XDOC-COVE-VALUE"} and {f.code for f in cove} == {"XDOC-COVE-VALUE"}
    value = next(f for f in cove if f.location.get("field") == "505.7")
    assert "Pedimento 26  24  3456  6000001" in value.message and "COVE COVE260000100" in value.message
    assert "1010.00" in value.message and "1000.00" in value.message and "diferencia 10.00" in value.message
    assert value.location == {"pedimento": "26  24  3456  6000001", "record": "505", "invoice": 1, "field": "505.7",
                              "cove": "COVE260000100"}
    # Σ partidas (551.10) against Σ COVE USD names every COVE of the pedimento
    request = gw.store.findings(docs["factura INV-1-1"].id)
    assert [(f.code, f.location["field"]) for f in request] == [("XDOC-COVE-VALUE", "551.10")]


def test_replacing_the_wrong_document_rechecks_the_whole_group(gw, tmp_path):
    bad = import_group(defect="valor")
    for name in PEDIMENTO_FIRST:
        deliver(gw, name, bad.files[name])
    pedimento = by_key(gw)[bad.pedimento_key]
    # the pedimento part is what was rejected: the broker's corrected pedimento (500 … 800) replaces it
    part = tmp_path / "pedimento-corregido.txt"
    part.write_bytes(import_group().files["m3456001.245"].split(b"801|")[0])
    operations.replace(gw, pedimento.id, part, "test:operator", "valor corregido por el agente")
    outbox.deliver_due(gw)
    assert states(gw) == {bad.pedimento_key: "forwarded", "COVE260000100": "forwarded", "factura INV-1-1": "forwarded",
                     "operación 65100001": "forwarded"}
    assert gw.store.get(pedimento.id).state == "replaced"


def test_timeout_rejects_and_a_late_cove_still_completes_the_group(gw):
    group = import_group()
    for name in ("m3456001.245", "solicitud.xml", "respuesta.xml"):
        deliver(gw, name, group.files[name])
    assert correlate.resolve_timeouts(gw, at=later()) == 1
    docs = by_key(gw)
    assert set(states(gw).values()) == {"rejected"}
    missing = [f for f in gw.store.findings(docs[group.pedimento_key].id) if f.code == "XDOC-COVE-MISSING"]
    assert len(missing) == 1 and "COVE260000100" in missing[0].message and missing[0].severity.value == "error"
    deliver(gw, "COVE260000100.xml", group.files["COVE260000100.xml"])
    assert set(states(gw).values()) == {"forwarded"}
    assert not [f for d in by_key(gw).values() for f in gw.store.findings(d.id) if f.code.startswith("XDOC")]


def test_forward_with_warning_policy(tmp_path):
    gw = open_gateway(write_workspace(tmp_path, policy="forward-with-warning"))
    try:
        group = import_group()
        for name in ("m3456001.245", "COVE260000100.xml"):
            deliver(gw, name, group.files[name])
        correlate.resolve_timeouts(gw, at=later())
        outbox.deliver_due(gw)
        docs = by_key(gw)
        assert states(gw) == {group.pedimento_key: "forwarded", "COVE260000100": "forwarded"}
        found = [(f.code, f.severity.value) for f in gw.store.findings(docs[group.pedimento_key].id)]
        assert found == [("XDOC-COVE-MISSING", "warning")]
    finally:
        gw.close()


def test_an_unclaimed_cove_is_forwarded_with_a_warning_at_the_timeout(gw):
    group = import_group()
    deliver(gw, "COVE260000100.xml", group.files["COVE260000100.xml"])
    correlate.resolve_timeouts(gw, at=later())
    outbox.deliver_due(gw)
    doc = by_key(gw)["COVE260000100"]
    assert doc.state == "forwarded"
    assert [f.code for f in gw.store.findings(doc.id)] == ["XDOC-UNCLAIMED"]


def test_queue_show_lists_the_links(gw, workspace_cli):
    group = import_group(defect="valor")
    for name in PEDIMENTO_FIRST:
        deliver(gw, name, group.files[name])
    pedimento = by_key(gw)[group.pedimento_key]
    shown = workspace_cli("queue", "show", pedimento.id, "--json")
    data = json.loads(shown.stdout)
    roles = sorted((link["role"], link.get("key")) for link in data["links"])
    assert roles == [("cove", "COVE260000100"), ("cove", "COVE260000101"), ("cove", "COVE260000101"),
                     ("part-of", None)]
    text = workspace_cli("queue", "show", pedimento.id).stdout
    assert "vínculo: cove" in text and "(cove COVE260000100)" in text and "XDOC-COVE-VALUE" in text


@pytest.fixture
def workspace_cli(tmp_path):
    from tests.conftest import run_cli

    return lambda *args: run_cli(*args, "-c", str(tmp_path / "gateway.toml"))


def test_run_once_resolves_timeouts(tmp_path):
    config = write_workspace(tmp_path, timeout="0s")
    group = import_group()
    (tmp_path / "inbox" / "m3456001.245").write_bytes(group.files["m3456001.245"])
    gw = open_gateway(config)
    try:
        runner.run_once(gw, drain_timeout=2)
        pedimento = by_key(gw)[group.pedimento_key]
        assert pedimento.state == "rejected"
        assert {f.code for f in gw.store.findings(pedimento.id)} == {"XDOC-COVE-MISSING"}
    finally:
        gw.close()


def test_run_forever_resolves_timeouts(tmp_path):
    config = write_workspace(tmp_path, timeout="0s", policy="forward-with-warning")
    group = import_group()
    (tmp_path / "inbox" / "COVE260000100.xml").write_bytes(group.files["COVE260000100.xml"])
    gw = open_gateway(config)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(gw, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and states(gw).get("COVE260000100") != "forwarded":
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    try:
        doc = by_key(gw)["COVE260000100"]
        assert doc.state == "forwarded"
        assert [f.code for f in gw.store.findings(doc.id)] == ["XDOC-UNCLAIMED"]
    finally:
        gw.close()


def test_a_kill_while_the_group_verdict_is_written_repeats_it_once(tmp_path):
    from tests.conftest import run_cli

    config = write_workspace(tmp_path)
    group = import_group()
    for name, data in group.files.items():
        (tmp_path / "inbox" / name).write_bytes(data)
    crashed = run_cli("run", "--once", "-c", str(config), env={"IMMEX_GATEWAY_CRASH_AT": "correlate.before-commit"})
    assert crashed.returncode == -9, crashed.stderr
    restarted = run_cli("run", "--once", "-c", str(config))
    assert restarted.returncode == 0, restarted.stderr
    gw = open_gateway(config)
    try:
        assert set(states(gw).values()) == {"forwarded"} and len(states(gw)) == 4
        assert sorted(d.state for d in gw.store.list_documents()) == ["forwarded"] * 4 + ["split"]
    finally:
        gw.close()
    outputs = [json.loads(p.read_text()) for p in (tmp_path / "outbox").glob("*/*.json")]
    assert len(outputs) == 4 and len({o["id"] for o in outputs}) == 4


def test_a_bug_in_a_check_rejects_the_arriving_document_and_the_gateway_goes_on(gw, monkeypatch):
    from gateway.correlation import correlate as engine

    def broken(members, tolerances):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(engine, "check_group", broken)
    group = import_group()
    for name in PEDIMENTO_FIRST:
        deliver(gw, name, group.files[name])
    assert states(gw) == {group.pedimento_key: "pending", "COVE260000100": "pending", "factura INV-1-1": "pending",
                          "operación 65100001": "rejected"}
    last = by_key(gw)["operación 65100001"]
    assert [f.code for f in gw.store.findings(last.id)] == ["INTERNAL"]
    monkeypatch.undo()
    operations.retry(gw, last.id, "test:operator", "corregido")
    outbox.deliver_due(gw)
    assert set(states(gw).values()) == {"forwarded"}
