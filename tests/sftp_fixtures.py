"""A real OpenSSH server for the SFTP tests: ``/usr/sbin/sshd -D`` on a free 127.0.0.1 port.

Its own sshd_config, host key, authorized key and internal-sftp, all in a temp dir, run as
the current user (root in CI, which then logs in as root with a key only it holds). No
mock server: what the adapters talk to is the sshd brokers run.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")

#: workspace configuration around the SFTP tables under test (the `workspace` fixture's folders)
BASE = """
[gateway]
data_dir = "var"
poll_interval = "0.5s"

[validation]
certificate_dirs = ["certs"]
max_file_size = "1MB"

[logging]
level = "warning"
format = "json"
"""
FOLDER_SOURCE = """
[[source]]
name = "broker-drop"
type = "folder"
path = "inbox"
stable_time = "0.2s"
"""
FOLDER_SINK = """
[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "", fmt: str | None = None) -> Path:
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path), "-C", "immex-test"]
    if kind == "rsa":
        args += ["-b", "2048"]
    if fmt:
        args += ["-m", fmt]
    subprocess.run(args, check=True, capture_output=True)
    return path


def fingerprint_of(public_key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True, capture_output=True, text=True)
    return out.stdout.split()[1]


@dataclass
class SshServer:
    root: Path
    port: int
    user: str
    host_key: Path
    client_key: Path
    known_hosts: Path
    remote: Path  # a directory the tests use as the broker's drop (an absolute path on the "server")
    process: subprocess.Popen | None = None
    extra_config: list[str] = field(default_factory=list)

    @property
    def config_file(self) -> Path:
        return self.root / "sshd_config"

    @property
    def log_file(self) -> Path:
        return self.root / "sshd.log"

    def write_config(self) -> None:
        lines = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin yes",
            f"AllowUsers {self.user}",
            "Subsystem sftp internal-sftp",
            "ForceCommand internal-sftp",
            "MaxStartups 50",
            "LogLevel INFO",
            *self.extra_config,
        ]
        self.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self) -> None:
        self.write_config()
        log = open(self.log_file, "ab")  # noqa: SIM115 - owned by the server process
        self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.config_file)], stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log_file.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {self.log_file.read_text(errors='replace')}")

    def sessions(self) -> list[int]:
        """Process ids of the per-connection sshd processes (children of the listener)."""
        if self.process is None:
            return []
        children = []
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat_file.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat_file.parent.name))
        return children

    def descendants(self) -> list[int]:
        """Every process under the listener (per-connection monitors and their session processes)."""
        parents: dict[int, int] = {}
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                parents[int(stat_file.parent.name)] = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        found, frontier = [], {self.process.pid} if self.process else set()
        while frontier:
            children = [pid for pid, parent in parents.items() if parent in frontier]
            found += children
            frontier = set(children)
        return found

    def signal_sessions(self, signum: int) -> None:
        for pid in self.descendants():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def kill_sessions(self) -> int:
        """Cut every open connection the hard way (the listener keeps running)."""
        killed = 0
        for pid in self.sessions():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def stop(self) -> None:
        if self.process is None:
            return
        self.kill_sessions()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def source_toml(self, name: str = "broker-sftp", remote_path: str | None = None, **options: object) -> str:
        """A [[source]] table for this server (keys given as Python values)."""
        values: dict[str, object] = {
            "name": name, "type": "sftp", "host": "127.0.0.1", "port": self.port, "username": self.user,
            "private_key_file": str(self.client_key), "known_hosts_file": str(self.known_hosts),
            "remote_path": remote_path or str(self.remote), "stable_time": "0.3s", "poll_interval": "0.1s",
            "connect_timeout": "3s", "timeout": "5s", "retry_initial_wait": "0.1s", "retry_max_wait": "1s",
        }
        values.update(options)
        return "[[source]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items() if v is not None)

    def sink_toml(self, name: str = "broker-out", remote_path: str | None = None, **options: object) -> str:
        values: dict[str, object] = {
            "name": name, "type": "sftp", "host": "127.0.0.1", "port": self.port, "username": self.user,
            "private_key_file": str(self.client_key), "known_hosts_file": str(self.known_hosts),
            "remote_path": remote_path or str(self.root / "upload"), "connect_timeout": "3s", "timeout": "5s",
            "retry_initial_wait": "0.1s", "retry_max_wait": "1s",
        }
        values.update(options)
        return "[[sink]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items() if v is not None)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory) -> dict[str, Path]:
    """Host and client keys made once per session (RSA generation is the slow part)."""
    if not SSHD.exists():
        pytest.fail(f"{SSHD} is missing: install Debian's openssh-server (.ci/run does)")
    keys = tmp_path_factory.mktemp("ssh-keys")
    return {
        "host": keygen(keys / "host_ed25519"),
        "other_host": keygen(keys / "other_host_ed25519"),
        "client": keygen(keys / "client_ed25519"),
        "stranger": keygen(keys / "stranger_ed25519"),
        "client_pem": keygen(keys / "client_rsa_pem", kind="rsa", fmt="PEM", passphrase="s3creto-de-prueba"),
    }


@pytest.fixture
def sshd(tmp_path, ssh_keys):
    """A running sshd that accepts ``client`` and ``client_pem`` keys; stopped after the test."""
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    root = tmp_path / "sshd"
    root.mkdir()
    port = free_port()
    authorized = "".join(Path(f"{ssh_keys[k]}.pub").read_text() for k in ("client", "client_pem"))
    (root / "authorized_keys").write_text(authorized)
    host_pub = Path(f"{ssh_keys['host']}.pub").read_text().split()
    known_hosts = root / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    remote = tmp_path / "remote" / "outbound"
    remote.mkdir(parents=True)
    server = SshServer(root=root, port=port, user=getpass.getuser(), host_key=ssh_keys["host"],
                       client_key=ssh_keys["client"], known_hosts=known_hosts, remote=remote)
    server.start()
    try:
        yield server
    finally:
        server.stop()
