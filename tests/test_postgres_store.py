"""The PostgreSQL store on the machine's server (127.0.0.1:5432): chosen by ``[store] url`` alone, migrated once by
several processes starting together, and failing with a clear message — never a traceback — when it cannot be
reached. The workspace suites run against it too (``IMMEX_TEST_STORE=postgresql``, see the Makefile)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg

from tests.conftest import PG_SERVER, REPO, pg_database


def _with_store(workspace, url: str) -> None:
    text = workspace.config.read_text(encoding="utf-8")
    if "[store]" in text:
        text = text.split("\n[gateway]", 1)[1]
        text = "\n[gateway]" + text
    workspace.config.write_text(f'[store]\nurl = "{url}"\n' + text, encoding="utf-8")


def test_the_whole_flow_and_every_listing_on_postgresql(workspace, make_invoice):
    url = pg_database()
    _with_store(workspace, url)
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(5101))
    (workspace.inbox / "rota.xml").write_bytes(make_invoice(5102)[:1500])
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    documents = {d["filename"]: d for d in workspace.documents()}
    assert documents["buena.xml"]["state"] == "forwarded" and documents["rota.xml"]["state"] == "rejected"
    assert len(workspace.forwarded_files()) == 1
    queue = json.loads(workspace.cli("queue", "list", "--json").stdout)
    assert [q["filename"] for q in queue] == ["rota.xml"]
    assert workspace.cli("queue", "discard", documents["rota.xml"]["id"], "--reason", "prueba").returncode == 0
    shown = json.loads(workspace.cli("queue", "show", documents["rota.xml"]["id"], "--json").stdout)
    assert shown["state"] == "discarded" and [a["action"] for a in shown["audit"]][-1] == "discard"
    assert not (workspace.root / "var" / "gateway.db").exists()  # nothing went to SQLite
    with psycopg.connect(url) as db:
        assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 2
        assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] >= 27


def test_several_processes_starting_at_once_migrate_once(tmp_path):
    url = pg_database()
    code = ("import sys; from gateway.store import open_store; s = open_store(sys.argv[1]); "
            "print(s.schema_version()); s.close()")

    def start(_: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, cwd=REPO,
                              timeout=120)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(start, range(4)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert len({r.stdout for r in results}) == 1
    with psycopg.connect(url) as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == sorted(set(versions))  # each migration recorded once


def test_an_unreachable_server_or_unknown_database_is_a_clear_message(workspace):
    for url, words in ((f"{PG_SERVER}/igw_no_such_database", "igw_no_such_database"),
                       ("postgresql://postgres@127.0.0.1:1/gateway", "127.0.0.1:1")):
        _with_store(workspace, url)
        for command in (("run", "--once"), ("queue", "list"), ("documents", "list")):
            result = workspace.cli(*command)
            assert result.returncode != 0, command
            assert "Traceback" not in result.stderr, result.stderr
            assert words in result.stderr and "PostgreSQL" in result.stderr, result.stderr


def test_a_password_in_the_url_is_never_printed(workspace):
    _with_store(workspace, "postgresql://postgres:muy-secreta@127.0.0.1:1/gateway")
    result = workspace.cli("run", "--once")
    assert result.returncode != 0 and "muy-secreta" not in result.stderr + result.stdout


def test_run_once_takes_nothing_from_a_source_another_node_polls(workspace, make_invoice):
    url = pg_database()
    _with_store(workspace, url)
    (workspace.inbox / "a.xml").write_bytes(make_invoice(5600))
    from gateway.store import open_store

    store = open_store(url)
    try:
        assert store.take_lease("source:broker-drop", "otro-nodo", 60) == "otro-nodo"
        result = workspace.cli("run", "--once")
        assert result.returncode == 0 and "source polled by another node" in result.stderr
        assert (workspace.inbox / "a.xml").exists() and workspace.documents() == []
        store.release_lease("source:broker-drop", "otro-nodo")
    finally:
        store.close()
    assert workspace.cli("run", "--once").returncode == 0
    assert [d["state"] for d in workspace.documents()] == ["forwarded"]
