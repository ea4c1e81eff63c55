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
