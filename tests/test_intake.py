"""Folder intake: complete files only, never twice, never lost; odd names handled."""

from __future__ import annotations

import os
import threading
import time

from adapters.sources.folder import FolderSource
from gateway import runner
from gateway.config import SourceConfig


def folder_source(path, **options) -> FolderSource:
    options = {"path": path, "stable_time": 0.3, "after_pickup": "move", "include": [], "exclude": [], **options}
    return FolderSource(SourceConfig("drop", "folder", "auto", options))


def test_file_written_slowly_is_not_taken_early(tmp_path, make_invoice):
    data = make_invoice(1)
    source = folder_source(tmp_path, stable_time=1.0)  # ten times the writer's pause: margin for a loaded CI
    target = tmp_path / "slow.xml"
    done = threading.Event()

    def writer():
        with open(target, "wb") as handle:
            for start in range(0, len(data), 400):
                handle.write(data[start:start + 400])
                handle.flush()
                time.sleep(0.1)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    taken_early = []
    while not done.is_set():
        taken_early += source.poll()
        time.sleep(0.05)
    thread.join()
    assert taken_early == []
    deadline = time.monotonic() + 5
    ready = []
    while not ready and time.monotonic() < deadline:
        ready = source.poll()
        time.sleep(0.05)
    assert [r.name for r in ready] == ["slow.xml"]
    assert source.open(ready[0]).read() == data


def test_temp_names_dotfiles_symlinks_and_directories_are_ignored(tmp_path):
    for name in ["a.tmp", "b.PART", ".hidden.xml", "c.xml.filepart"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.xml").write_text("x")
    os.symlink("/etc/passwd", tmp_path / "link.xml")
    source = folder_source(tmp_path, stable_time=0)
    source.poll()
    assert source.poll() == []


def test_done_marker_gates_the_file_and_is_removed(tmp_path):
    (tmp_path / "a.xml").write_text("x")
    source = folder_source(tmp_path, done_marker=".done")
    assert source.poll() == []
    (tmp_path / "a.xml.done").write_text("")
    ready = source.poll()
    assert [r.name for r in ready] == ["a.xml"]
    source.acknowledge(ready[0])
    assert not (tmp_path / "a.xml.done").exists()
    assert (tmp_path / "processed" / "a.xml").exists()


def test_odd_file_names_are_taken_safely(workspace, make_invoice):
    names = ["espacio y acentos ñ.xml", "-leading-dash.xml", "semi;colon$(x).xml", "new\nline.xml"]
    for seq, name in enumerate(names, start=1):
        (workspace.inbox / name).write_bytes(make_invoice(seq))
    raw = os.fsencode(str(workspace.inbox)) + b"/latin1-\xf1.xml"
    with open(raw, "wb") as handle:
        handle.write(make_invoice(9))
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        docs = gw.store.list_documents()
        assert len(docs) == 5 and {d.state for d in docs} == {"forwarded"}
        assert "latin1-\ufffd.xml" in {d.filename for d in docs}
    finally:
        gw.close()
    assert [p for p in os.listdir(workspace.inbox) if p != "processed"] == []
    assert len(os.listdir(workspace.processed)) == 5


def test_byte_identical_file_is_a_duplicate_and_not_forwarded_again(workspace, make_invoice):
    data = make_invoice(3)
    (workspace.inbox / "first.xml").write_bytes(data)
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        (workspace.inbox / "first.xml").write_bytes(data)  # same name again, later
        (workspace.inbox / "other-name.xml").write_bytes(data)
        runner.run_once(gw)
        docs = gw.store.list_documents()
        states = sorted(d.state for d in docs)
        assert states == ["duplicate", "duplicate", "forwarded"]
        original = next(d for d in docs if d.state == "forwarded")
        assert {d.duplicate_of for d in docs if d.state == "duplicate"} == {original.id}
    finally:
        gw.close()
    assert len(workspace.forwarded_files()) == 1
    assert len(os.listdir(workspace.processed)) == 3  # the processed folder never overwrites


def test_empty_and_oversized_files_are_rejected_with_codes(workspace):
    (workspace.inbox / "vacio.xml").write_bytes(b"")
    (workspace.inbox / "enorme.xml").write_bytes(b"<a>" + b" " * 1_100_000 + b"</a>")
    (workspace.inbox / "texto.txt").write_bytes(b"hola")
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        found = {d.filename: {f.code for f in gw.store.findings(d.id)} for d in gw.store.list_documents()}
        assert gw.archive.exists(next(d.sha256 for d in gw.store.list_documents() if d.filename == "enorme.xml"))
    finally:
        gw.close()
    assert found == {"vacio.xml": {"FILE-EMPTY"}, "enorme.xml": {"FILE-TOO-LARGE"}, "texto.txt": {"FILE-UNKNOWN-KIND"}}


def test_archive_keeps_the_original_bytes(workspace, make_invoice):
    data = make_invoice(4)
    (workspace.inbox / "a.xml").write_bytes(data)
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        doc = gw.store.list_documents()[0]
        assert gw.archive.read(doc.sha256) == data
    finally:
        gw.close()


def test_set_state_refuses_a_transition_the_state_machine_does_not_allow(tmp_path):
    """States and their transitions are written once (gateway/store/states.py); the store enforces them."""
    import pytest

    from gateway.errors import TransitionRefused
    from gateway.store import open_store
    from gateway.store.base import Document, now
    from gateway.store.states import ALLOWED, FINAL, State

    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        stamp = now()
        store.insert_document(Document("d1", None, "auto", "received", "drop", "a.xml", "0" * 64, 1, stamp, stamp),
                              "test", "intake")
        with pytest.raises(TransitionRefused, match="received → forwarded"):
            store.set_state("d1", "forwarded", "test", "deliver")
        assert store.get("d1").state == "received" and len(store.audit_trail("d1")) == 1  # nothing written
        for to_state in ("validated", "normalised", "ready", "forwarded"):
            store.set_state("d1", to_state, "test", "step")
        with pytest.raises(TransitionRefused):
            store.set_state("d1", "rejected", "test", "late")  # forwarded is final
    finally:
        store.close()
    assert set(ALLOWED) == set(State) and "forwarded" in FINAL and "rejected" not in FINAL


def test_only_set_state_changes_a_state(tmp_path):
    """``update_fields`` writes other columns; a state change always goes through the checked, audited path."""
    import pytest

    from gateway.errors import TransitionRefused
    from gateway.store import open_store
    from gateway.store.base import Document, now

    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        stamp = now()
        store.insert_document(Document("d1", None, "auto", "received", "drop", "a.xml", "0" * 64, 1, stamp, stamp),
                              "test", "intake")
        with pytest.raises(TransitionRefused, match="only through set_state"):
            store.update_fields("d1", state="forwarded", kind="cfdi")
        assert (store.get("d1").state, store.get("d1").kind) == ("received", None)
    finally:
        store.close()
