"""A SIGKILL at any step loses nothing and forwards nothing twice (real subprocesses, real kills)."""

from __future__ import annotations

import json

import pytest

POINTS = ["intake.after-archive", "intake.after-commit", "pipeline.after-validate", "outbox.after-deliver"]


@pytest.mark.parametrize("point", POINTS)
def test_crash_then_restart_forwards_each_document_once(workspace, make_invoice, point):
    invoices = {f"f{seq}.xml": make_invoice(seq) for seq in range(1, 4)}
    for name, data in invoices.items():
        (workspace.inbox / name).write_bytes(data)
    crashed = workspace.cli("run", "--once", env={"IMMEX_GATEWAY_CRASH_AT": point})
    assert crashed.returncode == -9, crashed.stderr  # really killed
    restarted = workspace.cli("run", "--once")
    assert restarted.returncode == 0, restarted.stderr
    docs = workspace.documents()
    assert sorted(d["filename"] for d in docs) == sorted(invoices)  # nothing lost, no spurious duplicate rows
    assert {d["state"] for d in docs} == {"forwarded"}
    forwarded = workspace.forwarded_files()
    assert len(forwarded) == 3
    uuids = [json.loads(p.read_text())["record"]["uuid"] for p in forwarded]
    assert len(set(uuids)) == 3
    assert sorted(p.name for p in workspace.processed.iterdir()) == sorted(invoices)
    assert [p for p in workspace.inbox.iterdir() if p.name != "processed"] == []


@pytest.mark.parametrize("point", ["intake.after-archive@20", "intake.after-commit", "pipeline.after-validate@45",
                                   "outbox.after-deliver@30"])
def test_a_kill_inside_a_batch_repeats_the_batch_and_forwards_each_once(workspace, make_invoice, point):
    """Group commit: 70 files taken 64 at a time and processed 32 at a time, by two worker processes; a SIGKILL in
    the middle of a batch loses nothing and forwards nothing twice."""
    text = workspace.config.read_text(encoding="utf-8")
    workspace.config.write_text(text.replace("[gateway]\n", "[gateway]\nworkers = 2\n", 1), encoding="utf-8")
    invoices = {f"f{seq:02}.xml": make_invoice(600 + seq) for seq in range(70)}
    for name, data in invoices.items():
        (workspace.inbox / name).write_bytes(data)
    crashed = workspace.cli("run", "--once", env={"IMMEX_GATEWAY_CRASH_AT": point}, timeout=300)
    assert crashed.returncode == -9, crashed.stderr
    restarted = workspace.cli("run", "--once", timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    docs = workspace.documents()
    assert sorted(d["filename"] for d in docs) == sorted(invoices)
    assert {d["state"] for d in docs} == {"forwarded"}
    uuids = [json.loads(p.read_text())["record"]["uuid"] for p in workspace.forwarded_files()]
    assert len(uuids) == len(set(uuids)) == 70
