"""Every error the gateway raises on purpose, under one root, so a caller can catch the gateway's own failures.

    GatewayError                      root; never raised itself
    ├── ConfigError (ValueError)      a configuration problem; the message names the key; stops start-up
    ├── TransportError                a source or sink could not do its job; ``retryable`` says if trying
    │   │                             again later can help (the one spelling of "retry or not")
    │   ├── SinkError                 a delivery failed; ``retry_after`` is the destination's own wish
    │   └── SourceError (OSError)     listing, reading or acknowledging at a source failed
    │       └── SftpError …           adapters/sftp_session.py: HostKeyError, SftpAuthError, RemotePathError
    ├── ReferenceDataError            data a kind needs is missing or wrong: SAT schemas (SatFilesMissing),
    │                                 catalogs (CatalogsMissing), SAT lists (SatDataError), ERP mappings
    │                                 (MappingError); each defined beside the kind that reads the data
    ├── ResourceError                 a folder, file, store, server or database cannot be used at start-up or
    │                                 in a command; the message names it (gateway/exits.py: exit 3)
    ├── TransitionRefused (ValueError)  a state change the document state machine does not allow (a bug)
    ├── ActionRefused                 an operator action does not apply to this document (gateway/operations.py)
    └── UserError (ValueError)        a web user cannot be created or changed (gateway/web/auth.py)

Bad documents are not errors: they are findings (``gateway.findings``), data that travels with the document.
Low-level errors (``OSError``, ``httpx``, ``paramiko``, SQLAlchemy) are translated into this tree at the
adapter edge, keeping the original as ``__cause__``. Exceptions used as signals inside one module (a rule's
``Skip``, an ERP row's ``ValueProblem``) never leave it and are not part of the tree.

This module imports nothing from the project, so every module (``gateway.config`` included) may import it.
"""

from __future__ import annotations

import errno


class GatewayError(Exception):
    """The root of the gateway's own errors."""


class ConfigError(GatewayError, ValueError):
    """A configuration problem, with the key that is wrong in the message."""


class TransportError(GatewayError):
    """A transport (source or sink) failed. ``retryable``: whether trying again later can succeed."""

    retryable: bool = True


class SinkError(TransportError):
    """Delivery failed. ``retryable`` failures are tried again with backoff; others dead-letter at once.

    ``retry_after`` (seconds) is the destination's own wish (HTTP ``Retry-After``): the outbox
    waits at least that long before the next attempt.
    """

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class SourceError(TransportError, OSError):
    """A source could not list, read or acknowledge; an ``OSError``, so per-source isolation applies."""


class ReferenceDataError(GatewayError):
    """Data a document kind needs (SAT schemas, catalogs, SAT lists, an ERP mapping) is missing or wrong."""


class TransitionRefused(GatewayError, ValueError):
    """A document state change that the state machine does not allow (``gateway.store.states``)."""


class ResourceError(GatewayError):
    """``resource`` (``gateway.data_dir /srv/immex/var``, ``store …``, ``sink 'x'`` …) cannot be used: ``reason``."""

    def __init__(self, resource: str, reason: str) -> None:
        super().__init__(f"{resource}: {reason}")
        self.resource = resource
        self.reason = reason


class StoreUnavailable(ResourceError):
    """The store's server cannot be reached, refuses the login or dropped the connection: said with the
    server's name, never a traceback; a running node retries with backoff (``gateway.runner.Outage``)."""


class StoreConflict(GatewayError):
    """Two writers waited on each other (PostgreSQL found a deadlock between keyed transactions) and the server
    rolled this one back: nothing of it was written; the caller runs it again."""


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
