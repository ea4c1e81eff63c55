"""One SFTP connection (paramiko) with the host key always checked, explicit timeouts and tenacity retries.

Shared by the SFTP source and sink. Every failure surfaces as an :class:`SftpError` (an
``OSError``, so the runner's per-file isolation catches it) whose message says what went
wrong and where, in words an operator can act on, and never contains a secret. Host key
and authentication failures are *permanent*: retrying them at once is pointless and may
get the account locked by the broker, so they are not retried within an operation.
"""

from __future__ import annotations

import logging
import posixpath
import secrets
import socket
import threading
import time
from typing import Callable, NoReturn, TypeVar

import paramiko
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

from adapters.sftp_endpoint import Endpoint
from gateway import logs
from gateway.errors import TransportError

log = logs.get("adapters.sftp")
# paramiko logs tracebacks of its own on stderr; our messages say the same in one structured line
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False


def _quiet_read_ahead_threads(args: threading.ExceptHookArgs, previous: Callable = threading.excepthook) -> None:
    """paramiko's read-ahead thread dies with a traceback when the connection drops; the download that
    started it fails with the same error in its own thread (retried and logged there), so say it once."""
    thread_name = args.thread.name if args.thread is not None else ""
    dropped = issubclass(args.exc_type, OSError | EOFError | paramiko.SSHException)
    if thread_name.endswith("(_prefetch_thread)") and dropped:
        return
    previous(args)


threading.excepthook = _quiet_read_ahead_threads

T = TypeVar("T")
#: SSH channel window: enough to keep a read-ahead window of requests in flight on a fast link
WINDOW_SIZE = 8 * 1024 * 1024


class SftpError(TransportError, OSError):
    """An SFTP operation failed; failures that are not ``retryable`` (host key, credentials) are not retried at once."""

    retryable = True


class HostKeyError(SftpError):
    retryable = False


class SftpAuthError(SftpError):
    retryable = False


class RemotePathError(SftpError):
    """A configured remote directory is missing or not readable: a configuration matter, not weather."""

    retryable = False


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:…`` fingerprint, as ``ssh-keygen -lf`` prints it."""
    return key.fingerprint


class Session:
    """A lazily opened, reused SFTP connection; :meth:`call` retries transient failures on a fresh one."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self.failures = 0
        self._retry_at = float("-inf")
        self._last_error = ""
        self._last_type: type[SftpError] = SftpError

    # -- connection -------------------------------------------------------------------------------------
    def client(self) -> paramiko.SFTPClient:
        if self._sftp is not None and self._transport is not None and self._transport.is_active():
            return self._sftp
        self.close()
        try:
            self._sftp = self._connect()
        except BaseException:
            self.close()
            raise
        return self._sftp

    def close(self) -> None:
        sftp, transport = self._sftp, self._transport
        self._sftp = self._transport = None
        for thing in (sftp, transport):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail; nothing to do
                    pass

    def _connect(self) -> paramiko.SFTPClient:
        ep = self.endpoint
        try:
            sock = socket.create_connection((ep.host, ep.port), timeout=ep.connect_timeout)
        except socket.gaierror as exc:
            raise SftpError(f"cannot resolve host {ep.host}: {exc.strerror or exc}") from exc
        except ConnectionRefusedError as exc:
            raise SftpError(f"connection refused by {ep.host}:{ep.port}") from exc
        except TimeoutError as exc:
            raise SftpError(f"no answer from {ep.host}:{ep.port} within connect_timeout "
                            f"({ep.connect_timeout:g}s)") from exc
        except OSError as exc:
            raise SftpError(f"cannot connect to {ep.host}:{ep.port}: {exc.strerror or exc}") from exc
        transport = paramiko.Transport(sock, default_window_size=WINDOW_SIZE)
        self._transport = transport
        transport.banner_timeout = ep.timeout
        transport.handshake_timeout = ep.timeout
        transport.auth_timeout = ep.timeout
        transport.channel_timeout = ep.timeout
        self._prefer_known_key_types(transport)
        try:
            transport.start_client(timeout=ep.timeout)
            presented = transport.get_remote_server_key()  # raises if the handshake did not finish in time
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise SftpError(f"SSH handshake with {ep.host}:{ep.port} failed (no answer within timeout "
                            f"{ep.timeout:g}s, or not an SSH server): {_reason(exc)}") from exc
        self._check_host_key(presented)
        self._authenticate(transport)
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise SftpError(f"{ep.address} accepted the login but refused the SFTP subsystem: {_reason(exc)}") \
                from exc
        if sftp is None:
            raise SftpError(f"{ep.address} refused to open an SFTP channel")
        channel = sftp.get_channel()
        if channel is not None:  # always, for a client opened from a transport
            channel.settimeout(ep.timeout)
        transport.set_keepalive(max(5, int(ep.timeout)))
        log.debug("sftp connected", target=ep.label, address=ep.address)
        return sftp

    def _prefer_known_key_types(self, transport: paramiko.Transport) -> None:
        """Ask first for the key type known_hosts holds, as OpenSSH does, so a known host is not 'unknown'."""
        ep = self.endpoint
        if ep.host_keys is None:
            return
        known = ep.host_keys.lookup(ep.known_hosts_name)
        if not known:
            return
        options = transport.get_security_options()
        types = [t for t in options.key_types if t in known.keys() or _base_type(t) in known.keys()]
        options.key_types = types + [t for t in options.key_types if t not in types]

    def _check_host_key(self, presented: paramiko.PKey) -> None:
        ep = self.endpoint
        shown = f"{presented.get_name()} {fingerprint(presented)}"
        if ep.fingerprints:
            if fingerprint(presented) in ep.fingerprints:
                return
            self._refuse(f"HOST KEY MISMATCH for {ep.host}:{ep.port}: the server presented {shown}, which is not "
                         f"the pinned host_key_fingerprint. Refusing to connect (possible man-in-the-middle, or "
                         f"the broker changed its key: confirm the new fingerprint with them before updating).")
        known = ep.host_keys.lookup(ep.known_hosts_name) if ep.host_keys is not None else None
        if not known:
            self._refuse(f"UNKNOWN HOST KEY: {ep.known_hosts_name} is not in known_hosts_file {ep.known_hosts_file}; "
                         f"the server presented {shown}. Refusing to connect. Confirm this fingerprint with the "
                         f"server's administrator, then add the key to known_hosts_file (or set "
                         f"host_key_fingerprint).")
        name = presented.get_name()
        expected = known.get(name) or known.get(_base_type(name))
        if expected is not None and expected == presented:
            return
        listed = ", ".join(f"{k} {fingerprint(v)}" for k, v in known.items())
        self._refuse(f"HOST KEY MISMATCH for {ep.known_hosts_name}: the server presented {shown}, known_hosts_file "
                     f"{ep.known_hosts_file} has {listed}. Refusing to connect (possible man-in-the-middle, or the "
                     f"broker changed its key: confirm the new fingerprint with them before updating).")

    def _refuse(self, message: str) -> NoReturn:
        log.error("sftp host key refused", target=self.endpoint.label, error=message)
        raise HostKeyError(message)

    def _authenticate(self, transport: paramiko.Transport) -> None:
        ep = self.endpoint
        failures: list[str] = []
        for method, secret in (("private key", ep.key), ("password", ep.password)):
            if secret is None:
                continue
            try:
                if isinstance(secret, str):  # the password
                    transport.auth_password(ep.username, secret)
                else:
                    transport.auth_publickey(ep.username, secret)
            except paramiko.BadAuthenticationType as exc:
                failures.append(f"{method} not accepted (the server allows: {', '.join(exc.allowed_types)})")
                continue
            except paramiko.AuthenticationException:
                failures.append(f"{method} rejected")
                continue
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise SftpError(f"connection to {ep.host}:{ep.port} dropped during login: {_reason(exc)}") from exc
            if transport.is_authenticated():
                return
        raise SftpAuthError(f"authentication failed for {ep.address}: {'; '.join(failures) or 'no credentials'}. "
                            f"Check username, private_key_file / password with the server's administrator")

    # -- operations -------------------------------------------------------------------------------------
    @property
    def failing(self) -> bool:
        """The last operation failed for the server's sake (not for a missing file)."""
        return self.failures > 0

    def call(self, what: str, operation: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run ``operation`` on a live connection; transient failures reconnect and retry with backoff + jitter.

        Once an operation has failed for good, the server is left alone for a jittered exponential wait
        (``backoff_wait``): until then every call fails at once without touching the network, so a hung
        server costs the gateway one round of timeouts per wait, not one per file or per document. While
        failing, an operation is tried once, not ``retry_attempts`` times.
        """
        ep = self.endpoint
        now = time.monotonic()
        if now < self._retry_at:
            raise self._last_type(f"{self._last_error} (server left alone for another {self._retry_at - now:.1f}s "
                                  f"after {self.failures} failure(s))")

        def attempt() -> T:
            try:
                return operation(self.client())
            except (FileNotFoundError, PermissionError, SftpError):
                raise
            except Exception as exc:  # noqa: BLE001 - paramiko raises odd things from a dying connection
                self.close()  # a half-broken connection is never reused
                raise SftpError(f"{what} on {ep.host}:{ep.port} failed: {_reason(exc)}") from exc

        retrying = Retrying(
            stop=stop_after_attempt(1 if self.failing else ep.retry_attempts),
            wait=wait_random_exponential(multiplier=ep.retry_initial_wait, max=ep.retry_max_wait),
            retry=retry_if_exception(_transient),
            before_sleep=self._log_retry(what),
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except SftpError as exc:
            self.close()
            self.failures += 1
            self._last_error, self._last_type = str(exc), type(exc)
            self._retry_at = time.monotonic() + backoff_wait(ep, self.failures)
            log.warning("sftp server failing, left alone for a while", target=ep.label, failures=self.failures,
                        retry_in_s=round(self._retry_at - time.monotonic(), 1), error=str(exc))
            raise
        if self.failures:
            log.info("sftp server reachable again", target=ep.label, after_failures=self.failures)
            self.failures = 0
        return result

    def _log_retry(self, what: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("sftp operation failed, retrying", target=self.endpoint.label, operation=what,
                        attempt=state.attempt_number, retry_in_s=round(state.upcoming_sleep, 2), error=str(exc))

        return before_sleep


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, SftpError):
        return exc.retryable
    return False  # FileNotFoundError, PermissionError and the like: retrying changes nothing


def _base_type(key_type: str) -> str:
    """rsa-sha2-256/512 are signatures over an ssh-rsa key."""
    return "ssh-rsa" if key_type.startswith("rsa-sha2-") else key_type


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, EOFError):
        return "connection closed by the server"
    text = str(exc) or type(exc).__name__
    return text


def backoff_wait(endpoint: Endpoint, failures: int) -> float:
    """Seconds to leave a failing server alone after ``failures`` consecutive failures: exponential from
    ``retry_initial_wait``, capped at ``retry_max_wait``, half of it jittered (so a fleet of gateways does not
    return in step, yet the wait never collapses to nothing)."""
    half_initial, half_max = endpoint.retry_initial_wait / 2, endpoint.retry_max_wait / 2
    wait = wait_exponential(multiplier=half_initial, max=half_max) + \
        wait_random_exponential(multiplier=half_initial, max=half_max)
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, failures)
    return float(wait(state))


def exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.lstat(path)
    except FileNotFoundError:
        return False
    return True


def makedirs(sftp: paramiko.SFTPClient, directory: str) -> None:
    """``mkdir -p`` on the server."""
    missing: list[str] = []
    while directory not in ("", "/", ".") and not exists(sftp, directory):
        missing.append(directory)
        directory = posixpath.dirname(directory)
    for path in reversed(missing):
        try:
            sftp.mkdir(path)
        except OSError:
            if not exists(sftp, path):  # created meanwhile by someone else is fine
                raise


_CHUNK = 256 * 1024


def upload(sftp: paramiko.SFTPClient, target: str, data: bytes) -> None:
    """Write ``data`` to ``target`` under a dot-named temp name, check its size, rename it over ``target``."""
    directory, name = posixpath.split(target)
    makedirs(sftp, directory)
    temp = posixpath.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        with sftp.open(temp, "wb") as remote:
            remote.set_pipelined(True)
            for start in range(0, len(data), _CHUNK):
                remote.write(data[start:start + _CHUNK])
        written = sftp.stat(temp).st_size
        if written != len(data):
            raise SftpError(f"{temp} holds {written} bytes after upload, {len(data)} were sent")
        try:
            sftp.posix_rename(temp, target)  # replaces an earlier delivery of the same id atomically
        except OSError:  # a server without the OpenSSH extension: plain rename never overwrites
            if exists(sftp, target):  # same id, same content: removing it first loses nothing
                sftp.remove(target)
            sftp.rename(temp, target)
    except BaseException:
        try:
            sftp.remove(temp)
        except Exception:  # noqa: BLE001, S110 - the connection may be gone; a dot-named temp file is harmless
            pass
        raise
