"""Delivery test helpers: the reference receiver (in a thread or as a real process) and HTTP sink workspaces."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO, write_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """The reference receiver in this process (a real HTTP server on a thread)."""

    def __init__(self, db: Path, token: str | None = None, tls=None, port: int = 0, **faults) -> None:
        from gateway.demo.receiver import Faults, ReceiverDb, ReceiverServer

        self.db_path = db
        self.db = ReceiverDb(db)
        self.faults = Faults(seed=7, **faults)
        self.server = ReceiverServer(("127.0.0.1", port), self.db, self.faults, token, tls=tls)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/documents"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stats(self) -> dict:
        return self.db.stats()

    def bodies(self) -> dict[str, dict]:
        rows = _rows(self.db_path, "SELECT idempotency_key, body FROM documents")
        return {key: json.loads(body) for key, body in rows}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.db.close()


class ReceiverProcess:
    """``immex-gateway receiver`` as its own process, for the crash and flapping harnesses."""

    def __init__(self, db: Path, port: int, *args: str) -> None:
        self.db_path, self.port = db, port
        self.url = f"http://127.0.0.1:{port}/documents"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "receiver", "--port", str(port), "--db", str(db), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        line = self.process.stdout.readline()
        assert "listening" in line, self.process.stderr.read()

    def admin(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def faults(self, **values) -> dict:
        return self.admin("PUT", "/_admin/faults", values)

    def stats(self) -> dict:
        return self.admin("GET", "/_admin/stats")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(str(db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def received_keys(db: Path) -> dict[str, int]:
    """Rows per idempotency key in the receiver's database (1 each, by construction of the contract)."""
    return dict(_rows(db, "SELECT idempotency_key, COUNT(*) FROM documents GROUP BY idempotency_key"))


def received_uuids(db: Path) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT business_key FROM documents")]


def http_sink(url: str, name: str = "inventory", **options) -> str:
    """A [[sink]] table of type http (TOML)."""
    lines = ["[[sink]]", f'name = "{name}"', 'type = "http"', f'url = "{url}"']
    for key, value in options.items():
        lines.append(f"{key} = {json.dumps(value) if not isinstance(value, bool) else str(value).lower()}")
    return "\n".join(lines) + "\n"


def use_sinks(workspace, *sinks: str, stable_time: str = "0.2s") -> None:
    """Replace the workspace's folder sink by the given sink tables."""
    write_config(workspace.root, stable_time=stable_time)
    text = workspace.config.read_text()
    head = text[:text.index("[[sink]]")]
    workspace.config.write_text(head + "\n".join(sinks))


def wait_until(condition, timeout: float = 60.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def make_pki(root: Path) -> dict[str, Path]:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    root.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("immex test CA")).issuer_name(name("immex test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    paths = {"ca": root / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for role, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH), ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(f"immex test {role}")).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if role == "server":
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        paths[f"{role}_cert"] = root / f"{role}.pem"
        paths[f"{role}_key"] = root / f"{role}.key"
        paths[f"{role}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, paths[f"{role}_key"])
    return paths
