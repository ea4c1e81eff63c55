"""SMTP mailer for the ``[notify]`` digest: STARTTLS (or implicit TLS) and login, the password never in the file.

Keys (``[notify]``): ``smtp_host``, ``smtp_port`` (587), ``security`` = ``starttls`` (default) | ``tls`` | ``none``
(``none`` only to 127.0.0.1), ``username`` with ``password_env`` or ``password_file``, ``from``, ``to`` (a list),
``ca_file`` (a private CA for the server's certificate), ``timeout`` (10s). A refused connection, a TLS or login
failure or a refused recipient is a ``MailError``: the digest is tried again on the next pass and the component
``notify`` turns unhealthy; the pipeline never waits for it beyond ``timeout``.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from adapters.secrets import read_secret
from gateway.config import NotifyConfig, _only, parse_duration
from gateway.errors import ConfigError, TransportError
from gateway.ports import MailerBase

KEYS = {"smtp_host", "smtp_port", "security", "username", "password_env", "password_file", "from", "to", "ca_file",
        "timeout"}


class MailError(TransportError):
    """The mail server could not be reached, refused the login or the message."""


class SmtpMailer(MailerBase):
    TYPE = "smtp"

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
        _only(options, where, KEYS)
        if not isinstance(options.get("smtp_host"), str) or not options["smtp_host"]:
            raise ConfigError(f"{where}.smtp_host: required, the mail server's name")
        port = options.setdefault("smtp_port", 587)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(f"{where}.smtp_port: must be a port number")
        security = options.setdefault("security", "starttls")
        if security not in ("starttls", "tls", "none"):
            raise ConfigError(f"{where}.security: '{security}' must be starttls, tls or none")
        if security == "none" and options["smtp_host"] not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"{where}.security: none is only allowed for a mail server on this machine")
        recipients = options.get("to")
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) and "@" in r
                                                                          for r in recipients):
            raise ConfigError(f"{where}.to: required, a list of e-mail addresses")
        options["to"] = recipients
        if not isinstance(options.get("from"), str) or "@" not in options["from"]:
            raise ConfigError(f"{where}.from: required, the sender's e-mail address")
        if options.get("username") and not (options.get("password_env") or options.get("password_file")):
            raise ConfigError(f"{where}.password_env: a username needs password_env or password_file")
        for key in ("password_file", "ca_file"):
            if options.get(key):
                options[key] = str(base_dir / options[key])
        options["timeout"] = parse_duration(options.get("timeout", "10s"), f"{where}.timeout")
        return options

    def __init__(self, config: NotifyConfig) -> None:
        super().__init__(config)
        options = config.options
        self.host: str = options["smtp_host"]
        self.port: int = options["smtp_port"]
        self.security: str = options["security"]
        self.username: str | None = options.get("username")
        self.password = read_secret(options, "notify", "password", keep_spaces=True)
        self.sender: str = options["from"]
        self.recipients: list[str] = options["to"]
        self.timeout: float = options["timeout"]
        self.context = ssl.create_default_context(cafile=options.get("ca_file"))

    def describe(self) -> str:
        return f"smtp://{self.host}:{self.port} → {', '.join(self.recipients)}"

    def send(self, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, ", ".join(self.recipients), subject
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain="immex-gateway")
        message.set_content(body)
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=self.context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=self.context)
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{self.describe()}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the server refused the login (username or password)"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        return f"{exc.smtp_code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    return str(exc) or type(exc).__name__
