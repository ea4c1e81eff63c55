"""HTTP sink: POST each canonical document to the inventory system's API (docs/api/openapi.yaml).

``Idempotency-Key: <document id>`` makes a repeated POST (after a crash, a lost answer or a
timeout) harmless: the receiver answers 409 for a key it already has, and 409 counts as
delivered. Classification of answers, which decides what the outbox does next:

- 2xx, 409                 → delivered
- 408, 425, 429, 5xx       → retry with backoff, never sooner than ``Retry-After``
- connection errors, timeouts → retry with backoff
- any other answer (400, 401, 403, 404, 422, 3xx…) → permanent: dead letter at once, with the
  status and the start of the response body kept in the DELIVERY-FAILED finding.

TLS verification is on unless ``verify = false``; ``ca_file`` adds a private CA; a client
certificate (mTLS) comes from ``client_cert_file``/``client_key_file``; a bearer token from
``token_env``/``token_file``. The token is sent only in the Authorization header, never logged.
httpx transports retry nothing themselves: durable retries belong to the outbox.
"""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from adapters.secrets import read_secret
from gateway.config import SinkConfig, _only, _path, parse_duration
from gateway.ports import ConfigContext, ConfigError, Outgoing, SinkBase, SinkError

HTTP_KEYS = {"url", "token_env", "token_file", "client_cert_file", "client_key_file", "ca_file", "verify", "timeout",
             "batch_url", "batch_size"}
RETRYABLE_STATUS = {408, 425, 429}
BODY_KEPT = 1000  # characters of a refusal's body kept in the finding


class HttpSink(SinkBase):
    TYPE = "http"

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        _only(options, where, HTTP_KEYS)
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url: required, must start with https:// (or http:// on a trusted network)")
        if options.get("token_env") and options.get("token_file"):
            raise ConfigError(f"{where}.token_env: give token_env or token_file, not both")
        for key in ("token_file", "client_cert_file", "client_key_file", "ca_file"):
            if options.get(key):
                options[key] = _path(context.base_dir, options[key])
        if not url.startswith("https://") and any(options.get(k) for k in ("client_cert_file", "ca_file")):
            raise ConfigError(f"{where}.url: client_cert_file and ca_file need an https:// url")
        if options.get("client_key_file") and not options.get("client_cert_file"):
            raise ConfigError(f"{where}.client_cert_file: required when client_key_file is set")
        verify = options.setdefault("verify", True)
        if not isinstance(verify, bool):
            raise ConfigError(f"{where}.verify: must be true or false (TLS certificate verification)")
        options["timeout"] = parse_duration(options.get("timeout", "30s"), f"{where}.timeout")
        if options["timeout"] <= 0:
            raise ConfigError(f"{where}.timeout: must be more than zero")
        batch_url = options.get("batch_url")
        if batch_url is not None and (not isinstance(batch_url, str) or not batch_url.startswith(("http://", "https://"))):
            raise ConfigError(f"{where}.batch_url: must start with https:// (or http://)")
        size = options.setdefault("batch_size", 50 if batch_url else 1)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 1000:
            raise ConfigError(f"{where}.batch_size: must be a whole number from 1 to 1000")
        if size > 1 and not batch_url:
            raise ConfigError(f"{where}.batch_size: needs batch_url (the endpoint that takes several documents)")
        return options

    def __init__(self, config: SinkConfig) -> None:
        options = config.options
        where = f"sink '{config.name}'"
        self.name = config.name
        self.url: str = options["url"]
        self.batch_url: str | None = options.get("batch_url")
        self.batch_size: int = options.get("batch_size", 1)
        self.shown_url = redact(self.url)
        headers = {"User-Agent": f"immex-gateway/{_version()}", "Accept": "application/json"}
        token = read_secret(options, where, "token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(options.get("timeout", 30.0)),
            verify=_tls_context(options, where) if self.url.startswith("https://") else True,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
        )

    def deliver(self, item: Outgoing) -> None:
        body = json.dumps(item.canonical, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        response = self._post(self.url, body, {"Idempotency-Key": item.id})
        check(response, self.shown_url)

    def deliver_batch(self, items: list[Outgoing]) -> list[SinkError | None]:
        """Several documents in one POST to ``batch_url``; the answer (207) carries one status per document."""
        if not self.batch_url:
            raise SinkError("batch delivery needs batch_url", retryable=False)
        shown = redact(self.batch_url)
        body = json.dumps({"documents": [item.canonical for item in items]}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        response = self._post(self.batch_url, body, {})
        if response.status_code not in (200, 207):
            check(response, shown)  # the whole batch failed: one error for all
            raise SinkError(f"{shown}: HTTP {response.status_code} is not a batch answer (200 or 207 expected)")
        try:
            results = {r["id"]: r for r in response.json()["results"]}
        except (ValueError, KeyError, TypeError):
            raise SinkError(f"{shown}: the batch answer has no readable 'results'") from None
        outcomes: list[SinkError | None] = []
        for item in items:
            result = results.get(item.id)
            if not isinstance(result, dict) or not isinstance(result.get("status"), int):
                outcomes.append(SinkError(f"{shown}: no result for this document in the batch answer"))
                continue
            outcomes.append(failure(result["status"], " ".join(str(result.get("error") or "").split()),
                                    retry_after(str(result.get("retry_after") or "")), shown))
        return outcomes

    def close(self) -> None:
        self._client.close()

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            return self._client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
        except httpx.TimeoutException as exc:
            raise SinkError(f"{redact(url)}: sin respuesta a tiempo ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise SinkError(f"{redact(url)}: error de conexión ({type(exc).__name__}: {_first_line(exc)})") from None


def check(response: httpx.Response, shown_url: str) -> None:
    """Raise the SinkError that the answer means, or return when it means delivered."""
    problem = failure(response.status_code, _excerpt(response), retry_after(response.headers.get("Retry-After")),
                      shown_url)
    if problem is not None:
        raise problem


def failure(status: int, excerpt: str, wait: float | None, shown_url: str) -> SinkError | None:
    """What a status means for one document: None (delivered), a retryable or a permanent SinkError."""
    if 200 <= status < 300 or status == 409:
        return None
    excerpt = excerpt[:BODY_KEPT]
    if status in RETRYABLE_STATUS or status >= 500:
        return SinkError(f"{shown_url}: HTTP {status} {excerpt}".rstrip(), retry_after=wait)
    return SinkError(f"{shown_url}: HTTP {status} rechazó el documento: {excerpt}".rstrip(), retryable=False)


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def redact(url: str) -> str:
    """The URL without user info and query string, fit for logs and findings."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _tls_context(options: dict, where: str) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(options["ca_file"]) if options.get("ca_file") else None)
        if options.get("client_cert_file"):
            context.load_cert_chain(str(options["client_cert_file"]),
                                    str(options["client_key_file"]) if options.get("client_key_file") else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{where}.client_cert_file / ca_file: cannot load ({exc})") from None
    if not options.get("verify", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:BODY_KEPT] + ("…" if len(text) > BODY_KEPT else "")


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


def _version() -> str:
    try:
        return version("immex-gateway")
    except PackageNotFoundError:
        return "dev"
