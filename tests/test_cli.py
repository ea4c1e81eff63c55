"""The real command line, as a subprocess: validate, run --once, queue actions, documents list."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def test_validate_human_and_json(tmp_path, make_invoice):
    good = tmp_path / "good.xml"
    good.write_bytes(make_invoice(1))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(make_invoice(2).replace(b' Total="', b' Total="9', 1))
    result = run_cli("validate", str(good), str(bad))
    assert result.returncode == 1
    assert "good.xml: VÁLIDO" in result.stdout and "bad.xml: RECHAZADO" in result.stdout
    assert "CFDI-SEAL" in result.stdout and "Traceback" not in result.stdout + result.stderr
    result = run_cli("validate", "--json", str(good))
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report[0]["valid"] is True and report[0]["kind"] == "cfdi"
    # no --certs given; no SAT lists configured (l_RFC, FIX…): both are info findings
    assert {f["code"] for f in report[0]["findings"]} == {"CFDI-SAT-CERT-UNKNOWN", "SAT-DATA-UNCHECKED"}
    assert report[0]["record"]["comercio_exterior"]["clave_pedimento"] == "A1"


def test_validate_an_absurd_amount_is_a_schema_error_not_an_internal_one(tmp_path, make_invoice):
    """1E+70 parses as a number but cannot be rounded to cents; the rules used to raise on it."""
    data = make_invoice(3)
    start = data.index(b' TotalImpuestosTrasladados="') + len(b' TotalImpuestosTrasladados="')
    bad = tmp_path / "absurdo.xml"
    bad.write_bytes(data[:start] + b"1E+70" + data[data.index(b'"', start):])
    result = run_cli("validate", "--json", str(bad))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    findings = json.loads(result.stdout)[0]["findings"]
    codes = {f["code"] for f in findings}
    assert "XSD" in codes and "INTERNAL" not in codes
    xsd = [f for f in findings if f["code"] == "XSD" and "TotalImpuestosTrasladados" in f["message"]]
    assert xsd and xsd[0]["location"]["line"] > 0


def test_validate_reports_unreadable_and_unknown_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hola")
    result = run_cli("validate", "--json", str(text), str(tmp_path / "missing.xml"))
    assert result.returncode == 1
    codes = [f["code"] for item in json.loads(result.stdout) for f in item["findings"]]
    assert codes == ["FILE-UNKNOWN-KIND", "FILE-UNREADABLE"]


def test_invalid_config_names_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[source]]\nname = "x"\ntype = "ftp"\npath = "in"\n')
    result = run_cli("run", "--once", "-c", str(config))
    assert result.returncode == 2
    assert "source 'x'.type" in result.stderr and "Traceback" not in result.stderr


def test_run_once_then_queue_actions(workspace, make_invoice):
    (workspace.inbox / "ok.xml").write_bytes(make_invoice(1))
    (workspace.inbox / "roto.xml").write_bytes(make_invoice(2)[:700])
    (workspace.inbox / "sin-usd.xml").write_bytes(make_invoice(3).replace(b'TotalUSD="', b'TotalUSD="1', 1))
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["states"] == {"forwarded": 1, "rejected": 2}
    assert len(workspace.forwarded_files()) == 1

    queue = json.loads(workspace.cli("queue", "list", "--json").stdout)
    assert {row["filename"] for row in queue} == {"roto.xml", "sin-usd.xml"}
    for row in queue:
        assert set(row) >= {"id", "kind", "state", "source", "filename", "sha256", "received_at", "findings"}
    broken = next(row for row in queue if row["filename"] == "roto.xml")
    assert broken["findings"][0]["code"] == "XML-MALFORMED" and broken["findings"][0]["location"]["line"]

    shown = workspace.cli("queue", "show", broken["id"])
    assert "XML-MALFORMED" in shown.stdout and "Historial" in shown.stdout

    fixed = workspace.root / "roto-corregido.xml"
    fixed.write_bytes(make_invoice(2))
    replaced = workspace.cli("queue", "replace", broken["id"], str(fixed), "--reason", "reenviado por el agente")
    assert replaced.returncode == 0, replaced.stderr
    new_id = replaced.stdout.split("replaced by ")[1].split()[0]

    refused = workspace.cli("queue", "discard", broken["id"], "--reason", "x")
    assert refused.returncode == 1 and "replaced" in refused.stderr

    usd = next(row for row in queue if row["filename"] == "sin-usd.xml")
    assert workspace.cli("queue", "retry", usd["id"]).stdout.strip().endswith("rejected")  # same bytes, same verdict
    discarded = workspace.cli("queue", "discard", usd["id"], "--reason", "factura cancelada por el emisor")
    assert discarded.returncode == 0

    docs = {d["id"]: d for d in workspace.documents()}
    assert docs[new_id]["state"] == "forwarded" and docs[new_id]["replaces_id"] == broken["id"]
    listed = {d["id"]: d for d in json.loads(workspace.cli("documents", "list", "--json").stdout)}
    assert listed.keys() == docs.keys() and all(isinstance(d["findings"], list) for d in listed.values())
    assert [(f["code"], f["severity"]) for f in listed[broken["id"]]["findings"]][0] == ("XML-MALFORMED", "error")
    assert set(listed[broken["id"]]["findings"][0]) >= {"code", "severity", "message", "location"}
    assert docs[broken["id"]]["state"] == "replaced"
    assert docs[usd["id"]]["state"] == "discarded"
    assert len(workspace.forwarded_files()) == 2

    history = json.loads(workspace.cli("queue", "show", usd["id"], "--json").stdout)["audit"]
    assert [a["action"] for a in history] == ["intake", "validate", "retry", "validate", "discard"]
    assert history[-1]["reason"] == "factura cancelada por el emisor" and history[-1]["actor"].startswith("cli:")

    undone = workspace.cli("queue", "undo-discard", usd["id"], "--reason", "se descartó por error")
    assert undone.returncode == 0 and undone.stdout.strip() == f"{usd['id']}: rejected"
    history = json.loads(workspace.cli("queue", "show", usd["id"], "--json").stdout)["audit"]
    assert (history[-1]["action"], history[-1]["from_state"], history[-1]["to_state"]) == (
        "undo-discard", "discarded", "rejected") and history[-1]["reason"] == "se descartó por error"
    again = workspace.cli("queue", "undo-discard", usd["id"])
    assert again.returncode == 1 and "solo se puede deshacer un descarte" in again.stderr


def test_discard_requires_a_reason(workspace):
    result = workspace.cli("queue", "discard", "NOPE")
    assert result.returncode == 2 and "--reason" in result.stderr
