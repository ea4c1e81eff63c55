"""Shared fixtures: generated invoices (no shared files needed) and a throw-away workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples"
CFDI_SAMPLES = SAMPLES / "cfdi"


def require_samples() -> Path:
    if not CFDI_SAMPLES.is_dir():
        pytest.fail(f"the shared samples are missing at {CFDI_SAMPLES}")
    return CFDI_SAMPLES


@pytest.fixture(scope="session")
def sat_root():
    from gateway.kinds.cfdi.satfiles import default_root

    return default_root()


@pytest.fixture(scope="session")
def identities():
    from gateway.demo.generate.cfdi import demo_identities

    now = datetime.now().replace(microsecond=0)
    return demo_identities(now - timedelta(days=365), now + timedelta(days=365))


@pytest.fixture(scope="session")
def verifier(sat_root):
    from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier

    return SealVerifier(sat_root, CertificateStore([]))


@pytest.fixture(scope="session")
def make_invoice(identities, verifier):
    from gateway.demo.generate.cfdi import export_invoice

    issuer, pac = identities
    fecha = datetime.now().replace(microsecond=0) - timedelta(days=1)

    def make(seq: int, **kwargs) -> bytes:
        return export_invoice(seq, issuer, pac, verifier, fecha=fecha, **kwargs)

    return make


@dataclass
class Workspace:
    root: Path
    config: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def processed(self) -> Path:
        return self.inbox / "processed"

    def gateway(self, actor: str = "test"):
        from gateway.app import Gateway
        from gateway.config import load

        return Gateway(load(self.config), actor=actor)

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return run_cli(*args, "-c", str(self.config), env=env, timeout=timeout)

    def forwarded_files(self) -> list[Path]:
        return sorted(self.outbox.glob("*/*.json"))

    def documents(self) -> list[dict]:
        result = self.cli("documents", "list", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO)


def write_config(root: Path, stable_time: str = "0.2s", extra_sink: str = "", max_attempts: int = 10) -> Path:
    config = root / "gateway.toml"
    config.write_text(f"""
[gateway]
data_dir = "var"
poll_interval = "0.5s"

[validation]
certificate_dirs = ["certs"]
max_file_size = "1MB"

[correlation]
wait_for = []   # this generic workspace receives no COVEs: its pedimentos flow on (tests/test_correlation*.py wait)

[logging]
level = "warning"
format = "json"

[[source]]
name = "broker-drop"
type = "folder"
path = "inbox"
stable_time = "{stable_time}"

[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
max_attempts = {max_attempts}
{extra_sink}
""", encoding="utf-8")
    return config


@pytest.fixture
def workspace(tmp_path, identities) -> Workspace:
    from gateway.demo.generate.cfdi import write_certificate

    _, pac = identities
    write_certificate(pac, tmp_path / "certs")
    (tmp_path / "inbox").mkdir()
    return Workspace(tmp_path, write_config(tmp_path))


def force_state(store, document_id: str, state: str) -> None:
    """Put a document in the state a crash would have left it in: test set-up, not a transition (no audit row).

    The product changes state only through ``set_state``, which checks the transition and audits it.
    """
    with store.transaction():
        store._db.execute("UPDATE documents SET state = ? WHERE id = ?", (state, document_id))
