"""``immex-gateway init DIR``: a starter workspace that loads, runs and says what to do next."""

from __future__ import annotations

import json
import tomllib

from tests.conftest import run_cli
from tests.pty_fixtures import run_in_pty


def test_init_with_options_makes_a_workspace_that_runs(tmp_path, make_invoice, identities):
    from gateway.demo.generate.cfdi import write_certificate

    root = tmp_path / "planta"
    result = run_cli("init", str(root), "--rfc", "eku9003173c9", "--program", "1234-2006")
    assert result.returncode == 0, result.stderr
    config = root / "gateway.toml"
    for folder in ("inbox", "outbox", "certs", "mappings", "var"):
        assert (root / folder).is_dir(), folder
    assert (root / "var").stat().st_mode & 0o777 == 0o700  # store, archive and staging: the owner's alone
    text = config.read_text(encoding="utf-8")
    assert text.count("\n#") > 10  # commented for a person
    raw = tomllib.loads(text)
    assert raw["gateway"]["company_rfc"] == "EKU9003173C9"
    assert raw["gateway"]["immex_program"] == "1234-2006"
    lines = result.stdout.splitlines()
    assert any(line.strip().endswith(f"config check -c {config}") for line in lines)
    assert any(line.strip().endswith(f"run --once -c {config}") for line in lines)

    _, pac = identities
    write_certificate(pac, root / "certs")
    (root / "inbox" / "factura.xml").write_bytes(make_invoice(7))
    run = run_cli("run", "--once", "-c", str(config))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["states"] == {"forwarded": 1}
    assert len(list((root / "outbox").glob("cfdi/*.json"))) == 1
    assert (root / "var" / "gateway.db").stat().st_mode & 0o777 == 0o600
    assert (root / "var" / "archive").stat().st_mode & 0o777 == 0o700


def test_init_never_overwrites_and_refuses_bad_values(tmp_path):
    root = tmp_path / "ws"
    assert run_cli("init", str(root), "--rfc", "EKU9003173C9").returncode == 0
    before = (root / "gateway.toml").read_text()
    again = run_cli("init", str(root), "--rfc", "XAXX010101000")
    assert again.returncode == 2
    assert "ya existe" in again.stderr and "Traceback" not in again.stderr
    assert (root / "gateway.toml").read_text() == before

    missing = run_cli("init", str(tmp_path / "b"))  # no terminal: nothing to ask, the option is named
    assert missing.returncode == 2 and "--rfc" in missing.stderr
    assert not (tmp_path / "b").exists()
    bad = run_cli("init", str(tmp_path / "c"), "--rfc", "EKU90031")
    assert bad.returncode == 2 and "--rfc: 'EKU90031' tiene 8 caracteres" in bad.stderr
    bad = run_cli("init", str(tmp_path / "d"), "--rfc", "EKU9003173C9", "--program", "12 34")
    assert bad.returncode == 2 and "--program" in bad.stderr


def test_init_program_optional_and_absolute_folders(tmp_path):
    root, drop = tmp_path / "ws", tmp_path / "drop"
    result = run_cli("init", str(root), "--rfc", "EKU9003173C9", "--inbox", str(drop))
    assert result.returncode == 0, result.stderr
    raw = tomllib.loads((root / "gateway.toml").read_text())
    assert "immex_program" not in raw["gateway"]
    assert raw["source"][0]["path"] == str(drop) and drop.is_dir()
    assert raw["sink"][0]["path"] == "outbox"


def test_init_asks_on_a_terminal(tmp_path):
    root = tmp_path / "ws"
    code, screen = run_in_pty("init", str(root), answers="EKU9003173C9\n1234-2006\nentrada\n\n", timeout=120)
    assert code == 0, screen
    assert "RFC de la empresa" in screen and "Número de programa IMMEX" in screen
    raw = tomllib.loads((root / "gateway.toml").read_text())
    assert raw["gateway"]["company_rfc"] == "EKU9003173C9"
    assert raw["source"][0]["path"] == "entrada" and (root / "entrada").is_dir()
    assert raw["sink"][0]["path"] == "outbox"
    assert "Traceback" not in screen
