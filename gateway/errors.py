"""What an operator's mistake ends in: one line naming the key or the resource, and an exit code.

    ConfigError (gateway.config)   exit 2   the configuration is wrong; the message names the key
    ResourceError                  exit 3   a folder, file, store, server or database cannot be used
    KeyboardInterrupt              exit 130
    anything else                  a defect of the gateway: Python's traceback, exit 1 (please report it)

Low-level errors (``OSError``, sqlite3, SQLAlchemy, psycopg, paramiko, httpx) are translated here, at the
command line's edge, as httpx translates its transports' errors: the modules that raise them stay plain,
and nothing below the CLI prints. Translation looks at the exception's module name, so no driver is imported
just to recognise its errors. Every message passes :func:`gateway.logs.redact_text` (a database URL in a
driver's message keeps no password).
"""

from __future__ import annotations

import errno

from gateway.config import ConfigError

EXIT_CONFIG = 2
EXIT_RESOURCE = 3
EXIT_INTERRUPTED = 130


class ResourceError(Exception):
    """``resource`` (a folder, the store, ``sink 'x'`` …) cannot be used, for ``reason``."""

    def __init__(self, resource: str, reason: str) -> None:
        super().__init__(f"{resource}: {reason}")
        self.resource = resource
        self.reason = reason


_REASONS = {
    errno.ENOENT: "no existe / does not exist",
    errno.EACCES: "permiso denegado / permission denied",
    errno.EPERM: "operación no permitida / not permitted",
    errno.EEXIST: "ya existe y no es una carpeta / exists and is not a folder",
    errno.ENOTDIR: "una parte de la ruta no es una carpeta / a part of the path is not a folder",
    errno.EISDIR: "es una carpeta, se esperaba un archivo / is a folder, a file was expected",
    errno.ENOSPC: "disco lleno / no space left on device",
    errno.EROFS: "sistema de archivos de solo lectura / read-only file system",
    errno.ECONNREFUSED: "conexión rechazada / connection refused",
    errno.EHOSTUNREACH: "servidor inalcanzable / host unreachable",
    errno.ENETUNREACH: "red inalcanzable / network unreachable",
    errno.ETIMEDOUT: "tiempo de espera agotado / timed out",
    errno.EADDRINUSE: "la dirección ya está en uso / address already in use",
    errno.EADDRNOTAVAIL: "la dirección no es de esta máquina / address not available",
}


def os_reason(exc: OSError) -> str:
    """An ``OSError``'s reason in the operator's words (Spanish first), without the path."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one line) for an error an operator can fix; None for a defect (let it show)."""
    from gateway.logs import redact_text

    if isinstance(exc, ConfigError):
        return EXIT_CONFIG, redact_text(f"configuración inválida / invalid configuration: {exc}")
    if isinstance(exc, ResourceError):
        return EXIT_RESOURCE, redact_text(f"no disponible / unavailable: {exc}")
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrumpido / interrupted"
    module = type(exc).__module__.split(".")[0]
    if module == "sqlite3":
        return EXIT_RESOURCE, f"no disponible / unavailable: store (SQLite): {_first_line(exc)}"
    if module in ("sqlalchemy", "psycopg", "psycopg2"):
        return EXIT_RESOURCE, redact_text(f"no disponible / unavailable: base de datos / database: {_first_line(exc)}")
    if module == "paramiko":
        return EXIT_RESOURCE, redact_text(f"no disponible / unavailable: SFTP: {_first_line(exc)}")
    if module == "httpx":
        return EXIT_RESOURCE, redact_text(f"no disponible / unavailable: HTTP: {_first_line(exc)}")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_RESOURCE, redact_text(f"no disponible / unavailable: {where}{os_reason(exc)}")
    return None
