"""Progress on long work: drawn when stdout is a terminal (a real pty here), nothing extra when it is not."""

from __future__ import annotations

import io
import json

from tests.conftest import run_cli
from tests.pty_fixtures import run_in_pty


def _invoices(folder, make_invoice, count):
    folder.mkdir(exist_ok=True)
    paths = []
    for seq in range(count):
        path = folder / f"factura-{seq:03d}.xml"
        path.write_bytes(make_invoice(200 + seq))
        paths.append(str(path))
    return paths


def test_validate_many_files_on_a_terminal_and_off_one(tmp_path, make_invoice):
    paths = _invoices(tmp_path / "lote", make_invoice, 6)
    code, screen = run_in_pty("validate", *paths, timeout=180)
    assert code == 0, screen
    assert "\r\x1b[Kvalidando 1/6 (16 %)" in screen and "validando 6/6 (100 %)" in screen
    assert screen.count("VÁLIDO") == 6
    after = screen.rsplit("\r\x1b[K", 1)[1]  # the line is erased before the results are printed
    assert after.lstrip().startswith(paths[0])

    piped = run_cli("validate", *paths)
    assert piped.returncode == 0, piped.stderr
    verdicts = [line for line in piped.stdout.splitlines() if not line.startswith(" ")]
    assert verdicts == [f"{path}: VÁLIDO (cfdi)" for path in paths]  # nothing but the results
    assert "\r" not in piped.stdout + piped.stderr


def test_run_once_on_a_terminal_shows_each_stage(workspace, make_invoice):
    _invoices(workspace.inbox, make_invoice, 5)
    code, screen = run_in_pty("run", "--once", "-c", str(workspace.config), timeout=180)
    assert code == 0, screen
    assert "tomando archivos 5/5 (100 %)" in screen and "procesando 5/5 (100 %)" in screen
    summary = json.loads(screen.rsplit("\r\x1b[K", 1)[1].strip())
    assert summary["states"] == {"forwarded": 5}


def test_run_once_off_a_terminal_prints_only_its_summary(workspace, make_invoice):
    _invoices(workspace.inbox, make_invoice, 3)
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 and json.loads(result.stdout)["states"] == {"forwarded": 3}


def test_progress_line_text_and_silence_on_a_pipe():
    from gateway.progress import Progress

    progress = Progress(500, "validando", stream=io.StringIO())
    assert not progress.enabled
    progress.advance(120)
    progress.close()
    assert progress.stream.getvalue() == ""
    assert progress.line(elapsed=10.0) == "validando 120/500 (24 %) · 12.0/s · faltan 0:32"
    progress.update(500, 500)
    assert progress.line(elapsed=10.0) == "validando 500/500 (100 %) · 50.0/s"
    progress.update(3, 40, "entregando")  # a new stage counts its rate from here
    assert progress.line(elapsed=0.0) == "entregando 3/40 (7 %)"
