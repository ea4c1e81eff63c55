"""What an operator's mistake ends in at the command line: one line naming the key or the resource, an exit code.

    ConfigError                    exit 2   the configuration is wrong; the message names the key
    ResourceError, and low-level   exit 3   a folder, file, store, server or database cannot be used
    errors recognised below
    KeyboardInterrupt              exit 130
    anything else                  a defect of the gateway: Python's traceback, exit 1 (please report it)

Low-level errors that reach the CLI (``OSError``, sqlite3, SQLAlchemy, psycopg, paramiko, httpx) are
recognised by their exception's module name, so no driver is imported just to recognise its errors. Every
message passes :func:`gateway.logs.redact_text`: a database URL in a driver's message keeps no password.
Documented in docs/operations.md ("Exit codes").
"""

from __future__ import annotations

from gateway.errors import ConfigError, GatewayError, ResourceError, os_reason

EXIT_CONFIG = 2
EXIT_RESOURCE = 3
EXIT_INTERRUPTED = 130
UNAVAILABLE = "no disponible / unavailable: "


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one line) for an error an operator can fix; None for a defect (let it show)."""
    from gateway.logs import redact_text

    if isinstance(exc, ConfigError):
        return EXIT_CONFIG, redact_text(f"configuración inválida / invalid configuration: {exc}")
    if isinstance(exc, ResourceError):
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}{exc}")
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrumpido / interrupted"
    module = type(exc).__module__.split(".")[0]
    if module == "sqlite3":
        return EXIT_RESOURCE, f"{UNAVAILABLE}store (SQLite): {_first_line(exc)}"
    if module in ("sqlalchemy", "psycopg", "psycopg2"):
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}base de datos / database: {_first_line(exc)}")
    if module == "paramiko":
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}SFTP: {_first_line(exc)}")
    if module == "httpx":
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}HTTP: {_first_line(exc)}")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}{where}{os_reason(exc)}")
    if isinstance(exc, GatewayError) and not isinstance(exc, ValueError):  # transport, reference data …
        return EXIT_RESOURCE, redact_text(f"{UNAVAILABLE}{exc}")
    return None
