"""SQL sink on SQLite and on the real PostgreSQL (a schema of its own per test, dropped afterwards)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from adapters.sinks.sql import driver_url
from gateway import outbox, runner
from tests.conftest import force_state
from tests.delivery_fixtures import use_sinks

POSTGRES = "postgresql://127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(driver_url(POSTGRES))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """(sink TOML lines, engine, schema) for a fresh database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
        engine = sa.create_engine(url)
        yield f'url = "{url}"\n', engine, None
        engine.dispose()
        return
    if not _postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES}: the SQL sink is tested on a real server, "
                    "which every machine here (CI's too) runs")
    schema = f"immex_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(driver_url(POSTGRES))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f'url = "{POSTGRES}"\nschema = "{schema}"\n', engine, schema
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _sql_sink(lines: str, **extra) -> str:
    more = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in extra.items())
    return f'[[sink]]\nname = "warehouse-db"\ntype = "sql"\nbackoff_base = "10ms"\nbackoff_max = "50ms"\n{lines}{more}'


def _rows(engine, schema):
    table = sa.Table("immex_documents", sa.MetaData(), autoload_with=engine, schema=schema)
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.select(table))]


def test_canonical_records_are_inserted_once_by_document_id(workspace, make_invoice, database):
    lines, engine, schema = database
    use_sinks(workspace, _sql_sink(lines))
    for seq in (1, 2, 3):
        (workspace.inbox / f"f{seq}.xml").write_bytes(make_invoice(seq))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=20)
        docs = gw.store.list_documents()
        assert {d.state for d in docs} == {"forwarded"}
        doc = docs[0]
        with gw.store.transaction():  # the outbox commit was lost in a crash: the insert is repeated
            gw.store.record_delivery(doc.id, "warehouse-db", "pending", 1, "2000-01-01T00:00:00.000000Z", None, None)
            force_state(gw.store, doc.id, "ready")  # the state the crash left: set up, not a transition
        outbox.deliver_due(gw)
        assert gw.store.get(doc.id).state == "forwarded"
    finally:
        gw.close()
    rows = _rows(engine, schema)
    assert sorted(r["id"] for r in rows) == sorted(d.id for d in docs)
    by_id = {r["id"]: r for r in rows}
    for d in docs:
        row = by_id[d.id]
        assert (row["kind"], row["model_version"], row["business_key"]) == ("cfdi", "1.0", d.business_key)
        assert row["record"] == d.record and row["record"]["uuid"] == d.business_key
        assert row["document"]["id"] == d.id and row["source_sha256"] == d.sha256
        assert row["source_filename"] == d.filename


def test_an_unreachable_database_is_retried_then_dead_lettered(workspace, make_invoice):
    use_sinks(workspace, _sql_sink('url = "postgresql://127.0.0.1:1/test"\n', max_attempts=2))
    (workspace.inbox / "f.xml").write_bytes(make_invoice(4))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=20)
        doc = gw.store.list_documents()[0]
        assert doc.state == "rejected"
        delivery = gw.store.deliveries(doc.id)[0]
        assert (delivery.state, delivery.attempts) == ("dead", 2)
        assert "base de datos no disponible" in delivery.last_error
    finally:
        gw.close()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite does not enforce column lengths
def test_a_row_postgresql_refuses_is_a_dead_letter_with_its_message(workspace, make_invoice, database):
    lines, engine, schema = database
    with engine.begin() as connection:  # a table someone created with a too-short column
        connection.execute(sa.text(f'CREATE TABLE "{schema}".immex_documents (id VARCHAR(26) PRIMARY KEY, '
                                   "kind VARCHAR(2) NOT NULL, model_version TEXT, business_key TEXT, "
                                   "source_name TEXT, source_filename TEXT, source_sha256 TEXT, "
                                   "received_at TIMESTAMPTZ, record JSONB, document JSONB, "
                                   "delivered_at TIMESTAMPTZ DEFAULT now())"))
    use_sinks(workspace, _sql_sink(lines, max_attempts=5))
    (workspace.inbox / "f.xml").write_bytes(make_invoice(5))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=20)
        doc = gw.store.list_documents()[0]
        delivery = gw.store.deliveries(doc.id)[0]
        assert (doc.state, delivery.state, delivery.attempts) == ("rejected", "dead", 1)
        finding = next(f for f in gw.store.findings(doc.id) if f.code == "DELIVERY-FAILED")
        assert "rechazó el registro" in finding.message and "character varying(2)" in finding.message
    finally:
        gw.close()
