"""`immex-gateway demo` runs the whole flow, delivering over HTTP to the reference receiver as well."""

from __future__ import annotations

from tests.conftest import run_cli
from tests.delivery_fixtures import received_keys


def test_demo_forwards_the_valid_invoices_to_the_folder_and_the_reference_api(tmp_path):
    root = tmp_path / "demo"
    result = run_cli("demo", "--dir", str(root), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout and "procesando " not in result.stdout  # no progress off a terminal
    assert "11 documento(s)" in result.stdout  # 8 invoices, the valid pedimento of the M file, 2 from the Data Stage
    keys = received_keys(root / "receiver.db")
    assert len(keys) == 11 and set(keys.values()) == {1}
    assert len(list((root / "outbox").glob("pedimento/*.json"))) == 3
    assert len(list((root / "outbox").glob("cfdi/*.json"))) == 8


def test_demo_on_a_terminal_shows_progress_and_not_off_one(tmp_path):
    from tests.pty_fixtures import run_in_pty

    code, screen = run_in_pty("demo", "--dir", str(tmp_path / "demo"), timeout=300)
    assert code == 0, screen
    assert "\r\x1b[Kprocesando " in screen and "tomando archivos " in screen
    assert "11 documento(s)" in screen  # the same summary after the progress line is erased


def test_demo_never_wipes_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "gateway.toml").write_text("[gateway]\n")
    (tmp_path / "inbox").mkdir()
    result = run_cli("demo", "--dir", str(tmp_path))
    assert result.returncode == 2 and "no se borra" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "gateway.toml").read_text() == "[gateway]\n" and (tmp_path / "inbox").is_dir()
