"""The operations digest through ``immex-gateway run --once``, to a real SMTP server on 127.0.0.1 (aiosmtpd) that
requires STARTTLS and a login, with a certificate of a private CA the gateway is told to trust."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.sftp_fixtures import free_port

PASSWORD = "correo-s3creto-de-prueba"


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"gateway" and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _certificate(folder) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class MailServer:
    """aiosmtpd on a fixed port, stoppable and startable again (a controller runs once, so each start is new)."""

    def __init__(self, context: ssl.SSLContext, port: int) -> None:
        self.context, self.port, self.inbox, self.controller = context, port, Inbox(), None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, tls_context=self.context,
                                     require_starttls=True, authenticator=_authenticator, auth_require_tls=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(tmp_path):
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = MailServer(context, free_port())
    server.start()
    try:
        yield server.inbox, server.port, cert, server
    finally:
        server.stop()


def _notify(workspace, port: int, ca_file, interval: str = "0s") -> None:
    workspace.config.write_text(workspace.config.read_text(encoding="utf-8") + f"""
[notify]
smtp_host = "127.0.0.1"
smtp_port = {port}
username = "gateway"
password_env = "IMMEX_TEST_SMTP_PASSWORD"
from = "immex-gateway@planta.example"
to = ["operaciones@planta.example"]
ca_file = "{ca_file}"
timeout = "5s"
interval = "{interval}"
base_url = "https://gateway.planta.example"
""", encoding="utf-8")


def _run(workspace):
    result = workspace.cli("run", "--once", env={"IMMEX_TEST_SMTP_PASSWORD": PASSWORD})
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stderr
    return result


def test_a_digest_of_new_rejections_grouped_by_source_and_code(workspace, make_invoice, smtp_server):
    inbox, port, cert, _ = smtp_server
    _notify(workspace, port, cert)
    (workspace.inbox / "rota-1.xml").write_bytes(make_invoice(6101)[:1200])
    (workspace.inbox / "rota-2.xml").write_bytes(make_invoice(6102)[:1300])
    (workspace.inbox / "vacia.xml").write_bytes(b"")
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(6103))
    _run(workspace)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "operaciones@planta.example"
    assert "3 documento(s)" in message["Subject"]
    body = message.get_content()
    assert "Fuente broker-drop" in body
    assert "XML-MALFORMED — 2 rechazados" in body and "FILE-EMPTY — 1 rechazados" in body
    ids = {d["filename"]: d["id"] for d in workspace.documents()}
    assert f"https://gateway.planta.example/documents/{ids['rota-1.xml']}" in body
    assert "buena.xml" not in body
    # nothing new: nothing sent
    _run(workspace)
    assert len(inbox.messages) == 1
    # a new rejection: a new digest with only it
    (workspace.inbox / "rota-3.xml").write_bytes(b"<cfdi")
    _run(workspace)
    assert len(inbox.messages) == 2
    assert "rota-3.xml" in inbox.messages[1].get_content() and "rota-1.xml" not in inbox.messages[1].get_content()


def test_a_failing_mail_server_is_retried_shown_unhealthy_and_never_blocks(workspace, make_invoice, smtp_server):
    inbox, port, cert, controller = smtp_server
    _notify(workspace, port, cert)
    controller.stop()
    (workspace.inbox / "rota.xml").write_bytes(make_invoice(6201)[:1200])
    (workspace.inbox / "buena.xml").write_bytes(make_invoice(6202))
    _run(workspace)
    assert len(workspace.forwarded_files()) == 1  # the pipeline went on
    gw = workspace.gateway()
    try:
        [component] = [c for c in gw.store.health() if c["component"] == "notify"]
        assert component["consecutive_failures"] == 1 and "127.0.0.1" in component["last_error"]
    finally:
        gw.close()
    controller.start()
    _run(workspace)
    assert len(inbox.messages) == 1 and "rota.xml" in inbox.messages[0].get_content()


def test_a_wrong_password_is_a_failure_not_a_crash(workspace, make_invoice, smtp_server):
    inbox, port, cert, _ = smtp_server
    _notify(workspace, port, cert)
    (workspace.inbox / "rota.xml").write_bytes(b"<a")
    result = workspace.cli("run", "--once", env={"IMMEX_TEST_SMTP_PASSWORD": "otra"})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert inbox.messages == []
    gw = workspace.gateway()
    try:
        [component] = [c for c in gw.store.health() if c["component"] == "notify"]
        assert "login" in component["last_error"]
    finally:
        gw.close()


def test_notify_keys_are_checked_at_start_up(workspace):
    workspace.config.write_text(workspace.config.read_text(encoding="utf-8") + """
[notify]
smtp_host = "mail.example"
to = ["ops@example"]
frm = "x@example"
""", encoding="utf-8")
    result = workspace.cli("run", "--once")
    assert result.returncode != 0 and "notify.frm" in result.stderr and "Traceback" not in result.stderr
    json.dumps(result.stderr)
