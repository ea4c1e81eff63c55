"""Answers to senders through ``immex-gateway run``: a folder source and a real OpenSSH SFTP source."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jsonschema

from tests.conftest import REPO

SCHEMA = json.loads((REPO / "docs" / "schema" / "answer.schema.json").read_text(encoding="utf-8"))


def _answering(workspace, extra: str = "") -> None:
    text = workspace.config.read_text(encoding="utf-8")
    text = text.replace('path = "inbox"\n', f'path = "inbox"\nreply_path = "respuestas"\n{extra}', 1)
    workspace.config.write_text(text, encoding="utf-8")


def _run(workspace) -> None:
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr


def _answers(workspace) -> dict[str, dict]:
    folder = workspace.root / "respuestas"
    found = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}
    for answer in found.values():
        jsonschema.validate(answer, SCHEMA)
    return found


def test_each_file_gets_an_answer_in_the_senders_folder(workspace, make_invoice):
    _answering(workspace)
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(7001))
    (workspace.inbox / "mala.xml").write_bytes(make_invoice(7002).replace(b' Total="', b' Total="9', 1))
    _run(workspace)
    answers = _answers(workspace)
    assert set(answers) == {"buena.xml.accepted.json", "mala.xml.rejected.json"}
    good, bad = answers["buena.xml.accepted.json"], answers["mala.xml.rejected.json"]
    assert good["verdict"] == "accepted" and good["documents"][0]["state"] == "forwarded"
    assert good["documents"][0]["findings"] == []
    codes = {f["code"] for f in bad["documents"][0]["findings"]}
    assert "CFDI-TOTALS" in codes
    assert all(f["severity"] == "error" for f in bad["documents"][0]["findings"])
    assert any(f.get("sat_code") for f in bad["documents"][0]["findings"])
    text = (workspace.root / "respuestas" / "mala.xml.rejected.txt").read_text(encoding="utf-8")
    assert "Veredicto: RECHAZADO" in text and "CFDI-TOTALS" in text
    # nothing new: no second answer
    _run(workspace)
    assert set(_answers(workspace)) == set(answers)
    history = json.loads(workspace.cli("queue", "show", bad["documents"][0]["id"], "--json").stdout)["audit"]
    assert [a["action"] for a in history if a["action"] in ("answer", "answered")] == ["answer", "answered"]


def test_a_correction_produces_a_second_answer(workspace, make_invoice, tmp_path):
    _answering(workspace)
    (workspace.inbox / "factura.xml").write_bytes(make_invoice(7101)[:1500])
    _run(workspace)
    first = _answers(workspace)["factura.xml.rejected.json"]
    corrected = tmp_path / "factura-corregida.xml"
    corrected.write_bytes(make_invoice(7101))
    replaced = workspace.cli("queue", "replace", first["documents"][0]["id"], str(corrected))
    assert replaced.returncode == 0, replaced.stderr
    _run(workspace)
    answers = _answers(workspace)
    second = answers["factura.xml.2.accepted.json"]
    assert second["answer"] == 2 and second["verdict"] == "accepted"
    assert second["documents"][0]["replaces_id"] == first["documents"][0]["id"]


def test_a_container_answers_one_line_per_part_and_english_on_request(workspace, make_invoice):
    from gateway.demo.generate.pedimento import sample_mfile

    _answering(workspace, 'reply_language = "en"\n')
    name, data = sample_mfile(2)
    broken = data.replace(b"\n505|", b"\n505|X|", 1)  # one pedimento loses its invoice layout
    (workspace.inbox / name).write_bytes(broken)
    _run(workspace)
    [(answer_name, answer)] = _answers(workspace).items()
    assert answer["verdict"] in ("partial", "rejected")
    assert len(answer["documents"]) == 2
    text = (workspace.root / "respuestas" / answer_name.replace(".json", ".txt")).read_text(encoding="utf-8")
    assert "Verdict:" in text and "immex-gateway's answer" in text


def test_reply_on_rejected_answers_only_failures(workspace, make_invoice):
    _answering(workspace, 'reply_on = ["rejected"]\n')
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(7201))
    (workspace.inbox / "vacia.xml").write_bytes(b"")
    _run(workspace)
    assert set(_answers(workspace)) == {"vacia.xml.rejected.json"}


def test_unsafe_names_are_sanitised_predictably(workspace, make_invoice):
    from gateway.answers import safe_name

    assert safe_name("-rf factura:1?.xml") == "_rf factura_1_.xml"
    assert safe_name(".oculto") == "_oculto"
    assert safe_name("a\x07b/c\\d") == "a_b_c_d"
    assert len(safe_name("ñ" * 300).encode()) <= 180
    _answering(workspace)
    (workspace.inbox / "-factura: marzo.xml").write_bytes(make_invoice(7301))
    _run(workspace)
    assert set(_answers(workspace)) == {"_factura_ marzo.xml.accepted.json"}


def test_an_unwritable_reply_folder_is_retried_and_never_blocks_intake(workspace, make_invoice):
    _answering(workspace)
    (workspace.root / "respuestas").write_text("not a folder")  # the reply folder cannot be made
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(7401))
    _run(workspace)
    assert len(workspace.forwarded_files()) == 1  # the document went on
    health = json.loads(workspace.cli("documents", "list", "--json").stdout)
    assert health[0]["state"] == "forwarded"
    (workspace.root / "respuestas").unlink()
    from gateway import answers

    gw = workspace.gateway()
    try:
        rows = gw.store.due_answers("9999")
        assert len(rows) == 1 and rows[0]["attempts"] == 1 and "respuestas" in rows[0]["last_error"]
        assert any(c["component"] == "reply" and c["consecutive_failures"] == 1 for c in gw.store.health())
        gw.store.update_answer(rows[0]["document_id"], 1, next_attempt_at="2000-01-01T00:00:00.000000Z")
        assert answers.send_due(gw) == 1
    finally:
        gw.close()
    assert set(_answers(workspace)) == {"buena.xml.accepted.json"}


def test_answers_survive_sigkill_exactly_once(workspace, make_invoice):
    """SIGKILL right after the answer is recorded and before its file is written: written after restart, once."""
    _answering(workspace)
    for i in range(3):
        (workspace.inbox / f"f{i}.xml").write_bytes(make_invoice(7500 + i))
    env = {**os.environ, "PYTHONPATH": str(REPO), "IMMEX_GATEWAY_CRASH_AT": "answers.before-write"}
    killed = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "-c", str(workspace.config)],
                            env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not list((workspace.root / "respuestas").glob("*.json"))
    _run(workspace)
    answers = _answers(workspace)
    assert set(answers) == {f"f{i}.xml.accepted.json" for i in range(3)}
    time.sleep(0.1)
    _run(workspace)
    assert set(_answers(workspace)) == set(answers)
    gw = workspace.gateway()
    try:
        rows = gw.store.answers_by_source()
        assert rows == [{"source_name": "broker-drop", "written": 3, "waiting": 0,
                         "last_written_at": rows[0]["last_written_at"], "last_error": None}]
    finally:
        gw.close()


pytest_plugins = ("tests.sftp_fixtures",)


def test_an_sftp_broker_finds_its_answers_on_its_own_server(workspace, make_invoice, sshd):
    from tests.sftp_fixtures import BASE, FOLDER_SINK

    workspace.config.write_text(BASE + sshd.source_toml(reply_path="respuestas") + FOLDER_SINK, encoding="utf-8")
    (sshd.remote / "buena.xml").write_bytes(make_invoice(7601))
    (sshd.remote / "rota.xml").write_bytes(make_invoice(7602)[:1200])
    _run(workspace)
    replies = sshd.remote / "respuestas"
    names = sorted(p.name for p in replies.iterdir())
    assert names == ["buena.xml.accepted.json", "buena.xml.accepted.txt", "rota.xml.rejected.json",
                     "rota.xml.rejected.txt"]  # no temp file left behind
    rejected = json.loads((replies / "rota.xml.rejected.json").read_text(encoding="utf-8"))
    jsonschema.validate(rejected, SCHEMA)
    assert rejected["documents"][0]["findings"][0]["code"] == "XML-MALFORMED"
    # the answers folder is never taken as incoming files, and nothing is answered twice
    _run(workspace)
    assert sorted(p.name for p in replies.iterdir()) == names
    assert len(workspace.documents()) == 2


def test_the_overview_shows_which_sources_answer_where_and_what_is_stuck(workspace, make_invoice):
    import urllib.request

    from tests.web_fixtures import free_port, wait_ready

    _answering(workspace, 'reply_on = ["rejected", "partial"]\n')
    (workspace.root / "respuestas").write_text("a file where the folder should be")  # answers cannot be written
    (workspace.inbox / "rota.xml").write_bytes(b"<cfdi")
    _run(workspace)
    env = {"IMMEX_GATEWAY_PASSWORD": "una-clave-larga-de-prueba-7"}
    assert workspace.cli("users", "add", "ana", "--role", "viewer", env=env).returncode == 0
    token = workspace.cli("users", "token", "ana").stdout.strip().split()[-1]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(workspace.config), "--port",
                                str(port)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/overview",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            overview = json.loads(response.read())
    finally:
        process.terminate()
        process.wait(timeout=15)
    [row] = overview["answers"]
    assert row["source"] == "broker-drop" and row["to"].endswith("respuestas")
    assert row["reply_on"] == "rejected, partial"
    assert row["written"] == 0 and row["waiting"] == 1 and "respuestas" in row["last_error"]
    assert any(c["component"] == "reply" for c in overview["health"]["components"])
