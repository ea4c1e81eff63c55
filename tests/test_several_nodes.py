"""Several ``immex-gateway run`` processes on one PostgreSQL store (127.0.0.1:5432, a database per test), all of
them working: SIGKILLed at random and restarted, every document is delivered once, with the verdicts one node
gives; a dead node's source moves to another; a dropped database connection is survived in place."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, pg_database, run_cli
from tests.delivery_fixtures import Receiver, http_sink, use_sinks, wait_until

pytestmark = pytest.mark.skipif(os.environ.get("IMMEX_TEST_PG_SKIP") == "1", reason="no PostgreSQL here")


class Node:
    """One ``immex-gateway run`` process named ``name``; its log kept in a file (read after it stops)."""

    def __init__(self, workspace, name: str) -> None:
        self.name, self.log = name, workspace.root / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.workspace = workspace

    def start(self) -> Node:
        env = {**os.environ, "PYTHONPATH": str(REPO), "IMMEX_GATEWAY_NODE": self.name}
        with self.log.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(self.workspace.config)],
                                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _shared_workspace(workspace, receiver: Receiver, ttl: str = "3s") -> str:
    url = pg_database()
    use_sinks(workspace, http_sink(receiver.url, max_attempts=50, backoff_base="0.2s", backoff_max="1s"))
    text = workspace.config.read_text(encoding="utf-8")
    text = text.replace("[gateway]\n", f'[gateway]\nlease_ttl = "{ttl}"\n', 1).replace('level = "warning"',
                                                                                        'level = "info"')
    if "[store]" in text:  # the PostgreSQL suite's workspace: one database per test already, use ours
        text = text.split("\n[gateway]", 1)[1]
        text = "\n[gateway]" + text
    workspace.config.write_text(f'[store]\nurl = "{url}"\n' + text, encoding="utf-8")
    return url


def _query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(sql, params).fetchall()


def _source_holder(url: str) -> str | None:
    try:
        rows = _query(url, "SELECT holder FROM leases WHERE name = 'source:broker-drop' AND expires_at > "
                           "EXTRACT(EPOCH FROM clock_timestamp())")
    except psycopg.errors.UndefinedTable:
        return None  # not migrated yet
    return rows[0][0] if rows else None


def _one_node_states(workspace, invoices: dict[str, bytes], tmp_path: Path) -> dict[str, str]:
    """The states the same files get from one node on SQLite: what several nodes must give too."""
    from tests.conftest import Workspace, write_config

    single = tmp_path / "single"
    (single / "inbox").mkdir(parents=True)
    (single / "certs").mkdir()
    for cert in (workspace.root / "certs").iterdir():
        (single / "certs" / cert.name).write_bytes(cert.read_bytes())
    config = write_config(single)
    text = config.read_text(encoding="utf-8")
    if "[store]" in text:
        config.write_text("\n[gateway]" + text.split("\n[gateway]", 1)[1], encoding="utf-8")
    one = Workspace(single, config)
    for name, data in invoices.items():
        (one.inbox / name).write_bytes(data)
    assert one.cli("run", "--once").returncode == 0
    return {d["filename"]: d["state"] for d in one.documents()}


def test_three_nodes_killed_at_random_deliver_each_document_once(workspace, make_invoice, tmp_path):
    receiver = Receiver(tmp_path / "receiver.db")
    url = _shared_workspace(workspace, receiver)
    rng = random.Random(2126)
    invoices = {f"f{seq:03}.xml": make_invoice(7000 + seq) for seq in range(60)}
    invoices["roto.xml"] = make_invoice(7100)[:-40]  # truncated: rejected by every node alike
    invoices["vacio.xml"] = b""
    nodes = [Node(workspace, f"nodo-{letter}").start() for letter in "abc"]
    kills = 0
    try:
        names = sorted(invoices)
        for start in range(0, len(names), 8):  # files keep arriving while nodes die and come back
            for name in names[start:start + 8]:
                (workspace.inbox / name).write_bytes(invoices[name])
            time.sleep(rng.uniform(0.3, 1.5))
            victim = rng.choice(nodes)
            victim.kill()
            kills += 1
            time.sleep(rng.uniform(0.0, 0.5))
            victim.start()
        delivered = wait_until(lambda: receiver.stats()["stored"] == 60, timeout=180)
        settled = wait_until(lambda: {d["state"] for d in workspace.documents()} <= {"forwarded", "rejected"}
                             and len(workspace.documents()) == len(invoices), timeout=60)
        assert delivered and settled, (receiver.stats(), [n.text()[-2000:] for n in nodes])
    finally:
        for node in nodes:
            node.stop()
        stats = receiver.stats()
        receiver.stop()
    assert stats["stored"] == 60 and stats["duplicates"] == 0  # every invoice once, none under two keys
    states = {d["filename"]: d["state"] for d in workspace.documents()}
    assert states == _one_node_states(workspace, invoices, tmp_path)  # the same verdicts as one node
    assert len(states) == len(invoices)  # no document row twice
    assert [p for p in workspace.inbox.iterdir() if p.name != "processed"] == []
    made_by = {row[0] for row in _query(url, "SELECT DISTINCT node FROM audit WHERE node IS NOT NULL")}
    assert made_by and made_by <= {"nodo-a", "nodo-b", "nodo-c"}  # every transition names its node
    listings = {workspace.cli("documents", "list", env={"IMMEX_GATEWAY_NODE": n.name}).stdout for n in nodes}
    assert len(listings) == 1  # every node lists the same
    assert kills >= 7


def test_a_dead_nodes_source_is_taken_over_within_the_lease(workspace, make_invoice, tmp_path):
    receiver = Receiver(tmp_path / "receiver.db")
    url = _shared_workspace(workspace, receiver)
    first = Node(workspace, "nodo-a").start()
    assert wait_until(lambda: _source_holder(url) == "nodo-a", 60)
    second = Node(workspace, "nodo-b").start()
    try:
        assert wait_until(lambda: "nodo-b" in {r[0] for r in _query(url, "SELECT node FROM nodes")}, 60)
        for i in range(4):
            (workspace.inbox / f"a{i}.xml").write_bytes(make_invoice(5200 + i))
        assert wait_until(lambda: receiver.stats()["stored"] == 4, 90)
        assert _source_holder(url) == "nodo-a"  # one node polls the source; the other does not take it
        first.kill()
        killed = time.monotonic()
        for i in range(4):
            (workspace.inbox / f"b{i}.xml").write_bytes(make_invoice(5300 + i))
        taken = wait_until(lambda: _source_holder(url) == "nodo-b", 30)  # within lease_ttl (3 s), plus a beat
        assert taken, second.text()[-3000:]
        print(f"source taken over {time.monotonic() - killed:.1f} s after the kill (lease_ttl 3 s)")
        assert wait_until(lambda: receiver.stats()["stored"] == 8, 90)
        _node_is_shown(workspace, "nodo-b")
    finally:
        first.stop()
        second.stop()
        stats = receiver.stats()
        receiver.stop()
    assert "source taken: this node polls it" in second.text()
    assert stats["duplicates"] == 0
    assert {d["state"] for d in workspace.documents()} == {"forwarded"}


def test_a_dropped_database_connection_is_survived_in_place(workspace, make_invoice, tmp_path):
    receiver = Receiver(tmp_path / "receiver.db")
    url = _shared_workspace(workspace, receiver)
    node = Node(workspace, "nodo-a").start()
    try:
        assert wait_until(lambda: _source_holder(url) == "nodo-a", 60)
        (workspace.inbox / "antes.xml").write_bytes(make_invoice(5400))
        assert wait_until(lambda: receiver.stats()["stored"] == 1, 60)
        database = url.rsplit("/", 1)[1]
        for _ in range(3):  # the server drops every connection of the node, as a failover or restart does
            _query(url.rsplit("/", 1)[0] + "/postgres",
                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                   "AND pid != pg_backend_pid()", database)
            time.sleep(1.0)
        for i in range(3):
            (workspace.inbox / f"despues{i}.xml").write_bytes(make_invoice(5401 + i))
        assert wait_until(lambda: receiver.stats()["stored"] == 4, 90), node.text()[-3000:]
        assert node.process is not None and node.process.poll() is None  # the node never stopped
    finally:
        node.stop()
        receiver.stop()
    log = node.text()
    assert "store unreachable" in log and "store reachable again" in log and "Traceback" not in log
    assert {d["state"] for d in workspace.documents()} == {"forwarded"}


def _node_is_shown(workspace, node: str) -> None:
    """/healthz's snapshot names the nodes and the source each polls; /metrics the node answering."""
    from gateway import health, metrics

    gw = workspace.gateway()
    try:
        snap = health.snapshot(gw.store, "serve-node", 3.0)
        assert snap["node"] == "serve-node"
        [shown] = [n for n in snap["nodes"] if n["node"] == node]
        assert shown["sources"] == ["broker-drop"] and shown["alive"]
        assert any(lease["name"] == "source:broker-drop" and lease["holder"] == node for lease in snap["leases"])
        text = metrics.render(gw.store, "serve-node")
        assert 'immex_node_info{node="serve-node"} 1' in text
        assert f'immex_node_heartbeat_age_seconds{{node="{node}"}}' in text
    finally:
        gw.close()


def test_each_audit_row_names_the_node_that_wrote_it(workspace):
    """The audit trail of one node's transition names that node (the page shows it beside the actor)."""
    gw = workspace.gateway()
    try:
        from gateway.ids import new_id
        from gateway.store.base import Document, now

        stamp = now()
        doc = Document(new_id(), None, "auto", "received", "s", "f.xml", "0" * 64, 1, stamp, stamp)
        gw.store.insert_document(doc, "test", "intake")
        [entry] = gw.store.audit_trail(doc.id)
        assert entry.node == gw.settings.node and json.loads(json.dumps(entry.to_dict()))["node"] == gw.settings.node
    finally:
        gw.close()


def test_a_file_taken_by_a_node_that_died_is_finished_by_another_with_its_own_folder(workspace, make_invoice):
    """The originals live in the database: a node with an empty data folder processes, delivers and serves a
    document whose bytes only the dead node had archived locally."""
    url = pg_database()
    text = workspace.config.read_text(encoding="utf-8")
    if "[store]" in text:
        text = "\n[gateway]" + text.split("\n[gateway]", 1)[1]
    text = text.replace("[gateway]\n", '[gateway]\nlease_ttl = "3s"\n', 1)
    workspace.config.write_text(f'[store]\nurl = "{url}"\n' + text, encoding="utf-8")
    data = make_invoice(5700)
    (workspace.inbox / "a.xml").write_bytes(data)
    crashed = workspace.cli("run", "--once", env={"IMMEX_GATEWAY_CRASH_AT": "intake.after-commit",
                                                  "IMMEX_GATEWAY_NODE": "nodo-a"})
    assert crashed.returncode == -9
    other = workspace.root / "nodo-b.toml"
    other.write_text(workspace.config.read_text(encoding="utf-8").replace('data_dir = "var"', 'data_dir = "var-b"'),
                     encoding="utf-8")
    assert not (workspace.root / "var-b").exists()
    time.sleep(3.5)  # the dead node's source lease (lease_ttl 3 s) runs out
    ran = run_cli("run", "--once", "-c", str(other), env={"IMMEX_GATEWAY_NODE": "nodo-b"})
    assert ran.returncode == 0, ran.stderr
    [doc] = workspace.documents()
    assert doc["state"] == "forwarded"
    [forwarded] = workspace.forwarded_files()
    assert json.loads(forwarded.read_text())["record"]["uuid"]
    fetched = workspace.root / "var-b" / "archive" / doc["sha256"][:2] / doc["sha256"]
    assert fetched.read_bytes() == data  # fetched from the database, byte for byte
    assert _query(url, "SELECT size, chunks FROM originals WHERE sha256 = %s", doc["sha256"]) == [(len(data), 1)]


def _at_once(nodes: list[str], work) -> list[BaseException]:
    """``work(node)`` on a thread per node, started together; what any of them raised."""
    import threading

    start = threading.Barrier(len(nodes))
    failures: list[BaseException] = []

    def run(node: str) -> None:
        try:
            start.wait()
            work(node)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            failures.append(exc)
    threads = [threading.Thread(target=run, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def _take(gw, name: str, data: bytes) -> None:
    """A file taken by ``gw`` as its source would take it (archived, recorded, acknowledged)."""
    from gateway import intake
    from gateway.store.base import now

    sha256, size = gw.archive.put_bytes(data)
    with gw.store.transaction():
        document_id = intake.record(gw, "broker-drop", name, sha256, size, "auto")
        gw.store.update_fields(document_id, source_acked_at=now())


def _one_verdict_each(gw, docs, states: tuple[str, ...]) -> None:
    for doc in docs.values():
        verdicts = [a for a in gw.store.audit_trail(doc.id) if a.to_state in states]
        assert len(verdicts) == 1, (doc.business_key, verdicts)  # one verdict, written once


@pytest.mark.parametrize("defect", [None, "valor"])
def test_a_correlation_group_whose_members_arrive_at_different_nodes_gets_one_verdict(tmp_path, defect):
    """The pedimento reaches one node while its COVEs and the COVE request and answer reach another, at the same
    moment: the group gets the one verdict one node gives (all forwarded, or all rejected naming the value)."""
    from dataclasses import replace

    from gateway import pipeline
    from gateway.app import Gateway
    from gateway.config import load
    from tests.correlation_fixtures import by_key, import_group, write_workspace

    config = write_workspace(tmp_path)
    config.write_text(f'[store]\nurl = "{pg_database()}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    group = import_group(defect=defect)
    names = sorted(group.files)
    shares = {"nodo-a": [n for n in names if n.startswith("m")], "nodo-b": [n for n in names if not n.startswith("m")]}
    gateways = {node: Gateway(replace(load(config), node=node), actor="test") for node in shares}

    def work(node: str) -> None:
        for name in shares[node]:
            _take(gateways[node], name, group.files[name])
            pipeline.process_pending(gateways[node])

    failures = _at_once(list(gateways), work)
    try:
        assert not failures, failures
        for gw in gateways.values():
            pipeline.process_pending(gw)  # what either node left: nothing, if the claims worked
        docs = by_key(gateways["nodo-a"])
        expected = "rejected" if defect else "ready"
        assert {key: doc.state for key, doc in docs.items()} == {key: expected for key in docs} and len(docs) == 4
        _one_verdict_each(gateways["nodo-a"], docs, ("ready", "rejected"))
        if defect:
            codes = {f.code for f in gateways["nodo-a"].store.findings(docs[group.pedimento_key].id)}
            assert codes == {"XDOC-COVE-VALUE"}
    finally:
        for gw in gateways.values():
            gw.close()


def test_the_coves_of_a_waiting_pedimento_reaching_two_nodes_at_once_get_one_verdict(tmp_path, monkeypatch):
    """The pedimento is already waiting; its COVE and the COVE request/answer then reach two nodes at the same
    moment. COVEs commit in keyed transactions, side by side: the group's keys, locked as each verdict walks the
    group, make one of them wait for the other (or the server breaks the deadlock and it runs again), so the
    group still gets exactly one verdict."""
    from dataclasses import replace

    from gateway import pipeline
    from gateway.app import Gateway
    from gateway.config import load
    from tests.correlation_fixtures import by_key, import_group, write_workspace

    config = write_workspace(tmp_path)
    text = config.read_text(encoding="utf-8").replace("[gateway]\n", "[gateway]\nworkers = 1\n", 1)
    config.write_text(f'[store]\nurl = "{pg_database()}"\n' + text, encoding="utf-8")
    monkeypatch.setattr(pipeline, "CLAIM_BATCH", 1)  # each node claims one document: the verdicts overlap
    group = import_group()
    names = sorted(group.files)
    pedimento = [n for n in names if n.startswith("m")]
    others = [n for n in names if not n.startswith("m")]
    shares = {"nodo-a": others[:1], "nodo-b": others[1:]}
    gateways = {node: Gateway(replace(load(config), node=node), actor="test") for node in shares}
    try:
        _take(gateways["nodo-a"], pedimento[0], group.files[pedimento[0]])
        pipeline.process_pending(gateways["nodo-a"])
        assert {d.state for d in by_key(gateways["nodo-a"]).values()} == {"pending"}  # waits for its COVEs
        for node, share in shares.items():
            for name in share:
                _take(gateways[node], name, group.files[name])
        failures = _at_once(list(gateways), lambda node: pipeline.process_pending(gateways[node]))
        assert not failures, failures
        for gw in gateways.values():
            pipeline.process_pending(gw)
        docs = by_key(gateways["nodo-a"])
        assert len(docs) == 4 and {doc.state for doc in docs.values()} == {"ready"}
        _one_verdict_each(gateways["nodo-a"], docs, ("ready",))
    finally:
        for gw in gateways.values():
            gw.close()


def test_two_nodes_never_both_deliver_a_document(workspace, make_invoice, tmp_path):
    """Without any failure, no document is sent twice: the receiver sees each Idempotency-Key once (no replay)."""
    receiver = Receiver(tmp_path / "receiver.db")
    url = _shared_workspace(workspace, receiver)
    nodes = [Node(workspace, f"nodo-{letter}").start() for letter in "ab"]
    try:
        assert wait_until(lambda: len(_query(url, "SELECT node FROM nodes")) == 2
                          if _source_holder(url) else False, 60)
        for seq in range(40):
            (workspace.inbox / f"f{seq}.xml").write_bytes(make_invoice(7500 + seq))
        assert wait_until(lambda: receiver.stats()["stored"] == 40, 120), [n.text()[-2000:] for n in nodes]
        assert wait_until(lambda: {d["state"] for d in workspace.documents()} == {"forwarded"}, 60)
    finally:
        for node in nodes:
            node.stop()
        stats = receiver.stats()
        receiver.stop()
    assert stats["stored"] == 40 and stats["replays"] == 0 and stats["duplicates"] == 0
    # (how the work is shared depends on each node's speed; bench/bench_nodes.py measures it)
    assert {row[0] for row in _query(url, "SELECT DISTINCT node FROM audit WHERE action = 'validate'")} <= \
        {"nodo-a", "nodo-b"}
