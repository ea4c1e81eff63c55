"""The sink interface: deliver one document, idempotently by its id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol


class SinkError(Exception):
    """Delivery failed. ``retryable`` failures are tried again with backoff; others dead-letter at once."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Outgoing:
    id: str
    kind: str
    canonical: dict[str, Any]
    original_name: str
    load_original: Callable[[], bytes]


class Sink(Protocol):
    name: str

    def deliver(self, item: Outgoing) -> None:
        """Deliver ``item``; delivering the same id twice must have the effect of once."""
        ...
