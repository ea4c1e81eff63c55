"""Keyed transactions on the machine's PostgreSQL: writers on different keys commit side by side, writers on one
key (or an unkeyed writer) wait for each other, a deadlock between keyed writers is a ``StoreConflict`` that
leaves nothing behind, and audit ids stay in commit order (``answers`` and ``notify`` follow them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from gateway.errors import StoreConflict
from gateway.store.base import Document, now
from gateway.store.postgres import PostgresStore
from tests.conftest import pg_database


@pytest.fixture
def url() -> str:
    return pg_database()


def _document(store: PostgresStore, document_id: str) -> None:
    stamp = now()
    store.insert_document(Document(document_id, None, "auto", "received", "s", f"{document_id}.xml", "0" * 64, 1,
                                   stamp, stamp), "test", "intake")


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _waiting_on_a_lock(url: str, store: PostgresStore) -> None:
    """Until ``store``'s backend is blocked on an advisory lock (the server says so, not a clock)."""
    pid = store._db.raw.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as db:
        for _ in range(600):
            row = db.execute("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s",
                             (pid,)).fetchone()
            if row == ("Lock", "advisory"):
                return
            time.sleep(0.05)
    raise AssertionError("the second writer never waited for the first")


def test_keyed_writers_on_other_keys_go_by_and_a_writer_on_the_same_key_waits(url):
    a, b, c = PostgresStore(url), PostgresStore(url), PostgresStore(url)
    for document_id in ("d1", "d2"):
        _document(a, document_id)
    inside, release = threading.Event(), threading.Event()

    def hold_d1() -> None:
        with a.transaction(keys=["doc:d1"]):
            a.audit("d1", "a", "holding")
            inside.set()
            release.wait(60)
    holder, errors = _in_thread(hold_d1)
    assert inside.wait(30)
    with b.transaction(keys=["doc:d2"]):  # another key: committed while d1 is held
        b.audit("d2", "b", "other key")
    assert [e.action for e in b.audit_trail("d2")][-1] == "other key"

    def same_key() -> None:
        with c.transaction(keys=["doc:d1"]):
            c.audit("d1", "c", "after the holder")
    waiter, waiter_errors = _in_thread(same_key)
    _waiting_on_a_lock(url, c)
    release.set()
    holder.join(30)
    waiter.join(30)
    assert not errors and not waiter_errors
    assert [e.action for e in a.audit_trail("d1")][-2:] == ["holding", "after the holder"]


def test_an_unkeyed_writer_waits_for_every_keyed_one(url):
    a, b = PostgresStore(url), PostgresStore(url)
    _document(a, "d1")
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with a.transaction(keys=["doc:d1"]):
            inside.set()
            release.wait(60)
    holder, errors = _in_thread(hold)
    assert inside.wait(30)

    def unkeyed() -> None:
        with b.transaction():
            b.audit("d1", "b", "unkeyed")
    waiter, waiter_errors = _in_thread(unkeyed)
    _waiting_on_a_lock(url, b)
    release.set()
    holder.join(30)
    waiter.join(30)
    assert not errors and not waiter_errors


def test_a_deadlock_between_keyed_writers_is_a_conflict_that_leaves_nothing_behind(url):
    a, b = PostgresStore(url), PostgresStore(url)
    for document_id in ("d1", "d2"):
        _document(a, document_id)
    both_in = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def writer(store: PostgresStore, name: str, first: str, then: str) -> None:
        try:
            with store.transaction(keys=[f"doc:{first}"]):
                store.audit(first, name, f"{name} first")
                both_in.wait()
                store.lock_keys([f"doc:{then}"])  # met on the way, in the opposite order of the other writer
                store.audit(then, name, f"{name} then")
            outcomes[name] = "committed"
        except StoreConflict:
            outcomes[name] = "conflict"
    one, _ = _in_thread(lambda: writer(a, "a", "d1", "d2"))
    two, _ = _in_thread(lambda: writer(b, "b", "d2", "d1"))
    one.join(60)
    two.join(60)
    assert sorted(outcomes.values()) == ["committed", "conflict"]
    loser = next(name for name, outcome in outcomes.items() if outcome == "conflict")
    actions = {e.action for d in ("d1", "d2") for e in a.audit_trail(d)}
    assert not {f"{loser} first", f"{loser} then"} & actions
    winner = "a" if loser == "b" else "b"
    assert {f"{winner} first", f"{winner} then"} <= actions


def test_audit_ids_follow_the_commit_order_of_keyed_writers(url):
    a, b = PostgresStore(url), PostgresStore(url)
    for document_id in ("d1", "d2"):
        _document(a, document_id)
    written, release = threading.Event(), threading.Event()

    def early_writer_late_commit() -> None:
        with a.transaction(keys=["doc:d1"]):
            a.audit("d1", "a", "written first, committed last")
            written.set()
            release.wait(60)
    slow, errors = _in_thread(early_writer_late_commit)
    assert written.wait(30)
    with b.transaction(keys=["doc:d2"]):
        b.audit("d2", "b", "written last, committed first")
    after = b.last_audit_id()
    release.set()
    slow.join(30)
    assert not errors
    ids = {e.action: e.id for d in ("d1", "d2") for e in a.audit_trail(d)}
    assert ids["written last, committed first"] == after
    assert ids["written first, committed last"] > after  # a reader that stopped at ``after`` misses nothing


def test_a_savepoint_rolled_back_takes_its_deferred_audit_rows_with_it(url):
    store = PostgresStore(url)
    _document(store, "d1")
    with store.transaction(keys=["doc:d1"]):
        store.audit("d1", "t", "kept before")
        with pytest.raises(RuntimeError), store.savepoint():
            store.audit("d1", "t", "undone")
            raise RuntimeError("this document fails alone")
        store.audit("d1", "t", "kept after")
    assert [e.action for e in store.audit_trail("d1")] == ["intake", "kept before", "kept after"]
