"""The sink interface: deliver one document, idempotently by its id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol


class SinkError(Exception):
    """Delivery failed. ``retryable`` failures are tried again with backoff; others dead-letter at once.

    ``retry_after`` (seconds) is the destination's own wish (HTTP ``Retry-After``): the outbox
    waits at least that long before the next attempt.
    """

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    id: str
    kind: str
    canonical: dict[str, Any]
    original_name: str
    load_original: Callable[[], bytes]
    business_key: str | None = None  # CFDI UUID, pedimento number…: for sinks that index by it


class Sink(Protocol):
    name: str

    def deliver(self, item: Outgoing) -> None:
        """Deliver ``item``; delivering the same id twice must have the effect of once."""
        ...
