"""`run` without --once watches the folder until SIGTERM, then stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import REPO


def test_run_watches_and_stops_on_sigterm(workspace, make_invoice):
    workspace.config.write_text(workspace.config.read_text().replace('level = "warning"', 'level = "info"'))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(workspace.config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        time.sleep(1.5)  # started and idle
        (workspace.inbox / "llega-despues.xml").write_bytes(make_invoice(11))
        deadline = time.monotonic() + 60
        while not workspace.forwarded_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workspace.forwarded_files()) == 1
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert '"stop requested"' in stderr and '"gateway stopped"' in stderr and "Traceback" not in stderr
    assert '"document_id"' in stderr  # JSON log lines carry the document id
    assert (workspace.processed / "llega-despues.xml").exists()
