"""What every document kind provides: recognise its bytes, check them, produce the canonical record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.findings import Finding, has_errors


@dataclass
class CheckResult:
    """The outcome of validating one document: findings, and the canonical record when it is clean."""

    findings: list[Finding] = field(default_factory=list)
    record: dict[str, Any] | None = None
    business_key: str | None = None
    #: whether the document got far enough to be validated (parsed, right version...)
    validated: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


class DocumentKind(Protocol):
    name: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """Cheap content test on the first bytes; the full check decides."""
        ...

    def check(self, data: bytes) -> CheckResult: ...
