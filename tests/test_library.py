"""``from gateway import validate`` and ``immex-gateway --version``: the validator used from other programs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, SAMPLES, run_cli


def test_version_flag_names_the_installed_version():
    from importlib.metadata import version

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"immex-gateway {version('immex-gateway')}"


def test_import_gateway_loads_nothing_else():
    code = "import sys, gateway; print(sorted(m for m in sys.modules if m.startswith(('gateway.', 'lxml'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_validate_bytes_of_a_valid_invoice(tmp_path, make_invoice, identities):
    from gateway import validate
    from gateway.demo.generate.cfdi import write_certificate

    _, pac = identities
    write_certificate(pac, tmp_path / "certs")
    result = validate(make_invoice(1), certificate_dirs=[tmp_path / "certs"])
    assert result.kind == "cfdi"
    assert result.ok, [f.to_dict() for f in result.findings]
    assert result.record["uuid"]
    assert result.to_dict()["valid"] is True


def test_validate_a_path_and_a_broken_document(tmp_path, make_invoice):
    from gateway import validate

    path = tmp_path / "truncada.xml"
    path.write_bytes(make_invoice(2)[:700])
    result = validate(path)
    assert result.kind is None or result.kind == "cfdi"
    assert not result.ok and result.record is None
    assert result.findings[0].code == "XML-MALFORMED"
    assert result.findings[0].location.get("line")
    result = validate(str(path))  # a str is a path too
    assert result.findings[0].code == "XML-MALFORMED"


def test_validate_never_raises_on_junk_but_does_on_a_missing_file(tmp_path):
    from gateway import validate

    for junk in (b"", b"\x00\xff" * 50, b"<a>", b"hola"):
        result = validate(junk)
        assert not result.ok and result.findings
    with pytest.raises(FileNotFoundError):
        validate(tmp_path / "no-existe.xml")


def test_validate_a_container_checks_each_part():
    from gateway import validate

    mfile = SAMPLES / "pedimento" / "SYNTHETIC_m3456001.245"
    result = validate(mfile)
    assert result.kind == "mfile"
    assert result.parts and all(part.kind == "pedimento" for part in result.parts)
    assert all(part.label.startswith("pedimento ") for part in result.parts)
    assert result.ok == all(part.ok for part in result.parts)
    assert all(part.record for part in result.parts if part.ok)
