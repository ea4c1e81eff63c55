"""``immex-gateway config check``: every part checked without starting; ``--connect`` against a real OpenSSH on
127.0.0.1, a real HTTP server and the machine's PostgreSQL, each reported on its own line."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import sftp_fixtures
from tests.sftp_fixtures import BASE, FOLDER_SINK, FOLDER_SOURCE, fingerprint_of

ssh_keys, sshd = sftp_fixtures.ssh_keys, sftp_fixtures.sshd  # fixtures

TOKEN = "tok-config-check-5e6f7a8b"
DB_PASSWORD = "clave-bd-config-check"


class _Api(BaseHTTPRequestHandler):
    """The inventory API as far as a check sees it: OPTIONS answered 204 with the right token, else 401."""

    def do_OPTIONS(self):  # noqa: N802
        self.send_response(204 if self.headers.get("Authorization") == f"Bearer {TOKEN}" else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/documents"
    server.shutdown()
    server.server_close()


def _configure(workspace, sshd, api_url: str, database: str = "postgres", known_hosts: Path | None = None) -> None:
    (sshd.root / "upload").mkdir(exist_ok=True)
    tables = [
        sshd.source_toml(known_hosts_file=str(known_hosts or sshd.known_hosts)),
        sshd.sink_toml(known_hosts_file=str(known_hosts or sshd.known_hosts)),
        f'[[sink]]\nname = "anexo24"\ntype = "http"\nurl = "{api_url}"\ntoken_env = "TEST_CHECK_TOKEN"\n',
        '[[sink]]\nname = "almacen"\ntype = "sql"\nurl_env = "TEST_CHECK_DB"\n',
    ]
    workspace.config.write_text(BASE + FOLDER_SOURCE + FOLDER_SINK + "\n".join(tables), encoding="utf-8")
    workspace.env = {"TEST_CHECK_TOKEN": TOKEN,
                     "TEST_CHECK_DB": f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:5432/{database}"}


def _lines(result) -> dict[str, str]:
    assert "Traceback" not in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr and DB_PASSWORD not in result.stdout + result.stderr
    rows = {}
    for line in result.stdout.splitlines()[1:]:
        symbol, rest = line.split(" ", 1)
        subject, message = rest.split("  ", 1)
        rows[subject.strip()] = f"{symbol} {message.strip()}"
    return rows


def test_connect_reports_each_server(workspace, sshd, api):
    _configure(workspace, sshd, api)
    result = workspace.cli("config", "check", "--connect", env=workspace.env)
    rows = _lines(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows["store"].startswith("✔")
    host_key = fingerprint_of(Path(f"{sshd.host_key}.pub"))
    assert rows["source 'broker-sftp'"].startswith("✔") and host_key in rows["source 'broker-sftp'"]
    assert f"{sshd.remote}: 0 entrada(s)" in rows["source 'broker-sftp'"]
    assert rows["sink 'broker-out'"].startswith("✔") and "host key verified" in rows["sink 'broker-out'"]
    assert rows["sink 'anexo24'"].startswith("✔") and "HTTP 204" in rows["sink 'anexo24'"]
    assert rows["sink 'almacen'"].startswith("✔") and "conectado / connected" in rows["sink 'almacen'"]
    assert "postgresql+psycopg://postgres:***@127.0.0.1:5432/postgres" in rows["sink 'almacen'"]
    assert rows["source 'broker-drop'"].startswith("✔") and rows["sink 'inventory'"].startswith("✔")
    assert not (workspace.root / "var").exists()  # a check creates nothing: no store, no staging


def test_connect_names_what_fails_and_why(workspace, sshd, api, ssh_keys, tmp_path):
    wrong_hosts = tmp_path / "wrong_known_hosts"
    other = Path(f"{ssh_keys['other_host']}.pub").read_text().split()
    wrong_hosts.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    _configure(workspace, sshd, api.replace("/documents", "/otra"), database="no_existe_i18", known_hosts=wrong_hosts)
    workspace.env["TEST_CHECK_TOKEN"] = "token-equivocado-123"
    result = workspace.cli("config", "check", "--connect", env=workspace.env)
    rows = _lines(result)
    assert result.returncode == 3, result.stdout + result.stderr  # servers failing, the configuration is fine
    presented = fingerprint_of(Path(f"{sshd.host_key}.pub"))
    assert rows["source 'broker-sftp'"].startswith("✘") and presented in rows["source 'broker-sftp'"]
    assert rows["sink 'anexo24'"].startswith("✘") and "HTTP 401" in rows["sink 'anexo24'"]
    assert rows["sink 'almacen'"].startswith("✘") and "no_existe_i18" in rows["sink 'almacen'"]
    assert "token-equivocado-123" not in result.stdout

    sshd.stop()  # without --connect no server is contacted: the same workspace passes
    result = workspace.cli("config", "check", "--json", env=workspace.env)
    assert result.returncode == 0, result.stdout
    report = {row["subject"]: row for row in json.loads(result.stdout)}
    assert report["source 'broker-sftp'"]["status"] == "ok"
    assert report["sink 'anexo24'"]["message"].endswith("token and TLS files readable")


def test_unknown_keys_name_the_closest_known_key(workspace, sshd):
    text = BASE.replace('poll_interval = "0.5s"', 'poll_intervall = "0.5s"') + FOLDER_SOURCE + FOLDER_SINK
    workspace.config.write_text(text)
    result = workspace.cli("config", "check")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "gateway.poll_intervall: unknown key — ¿quiso decir / did you mean `poll_interval`?" in result.stderr

    adapter = sshd.source_toml().replace("remote_path =", "remote_paht =")  # an adapter's own option
    workspace.config.write_text(BASE + adapter + FOLDER_SINK)
    result = workspace.cli("config", "check")
    assert result.returncode == 2
    assert "source 'broker-sftp'.remote_paht: unknown key — ¿quiso decir / did you mean `remote_path`?" in result.stderr

    workspace.config.write_text(BASE + FOLDER_SOURCE + FOLDER_SINK + '\n[web]\nprot = 8080\n')
    result = workspace.cli("config", "check")
    assert result.returncode == 2 and "web.prot: unknown key — ¿quiso decir / did you mean `port`?" in result.stdout


def test_missing_secrets_and_files_are_configuration_errors(workspace):
    workspace.config.write_text(BASE + FOLDER_SOURCE + FOLDER_SINK
                                + '[[sink]]\nname = "anexo24"\ntype = "http"\nurl = "http://127.0.0.1:9/x"\n'
                                  'token_env = "NO_SUCH_TOKEN_I18"\n'
                                + '\n[erp]\nmapping_dirs = ["mapeos"]\n')
    (workspace.root / "mapeos").mkdir()
    (workspace.root / "mapeos" / "roto.toml").write_text('[source]\nformat = "csv"\n')
    result = workspace.cli("config", "check")
    rows = _lines(result)
    assert result.returncode == 2, result.stdout
    assert rows["sink 'anexo24'"] == "✘ sink 'anexo24'.token_env: environment variable NO_SUCH_TOKEN_I18 is not set"
    assert rows["erp.mapping_dirs"].startswith("✘ roto.toml:")
    assert rows["source 'broker-drop'"].startswith("✔")
