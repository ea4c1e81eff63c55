"""The validator as a library: ``from gateway import validate``.

Bytes or a path in; the kind, the findings and the canonical record out — the same checks ``immex-gateway
validate`` and the running gateway apply, without a store, a configuration or a network. Bad contents never
raise: whatever is wrong with a document is a finding. Only a path that cannot be read raises (``OSError``),
as ``open`` would.

    >>> from gateway import validate
    >>> result = validate("factura.xml")
    >>> result.kind, result.ok, [f.code for f in result.findings]

A :class:`Validator` keeps its compiled schemas and certificates between calls; ``validate`` uses one
shared validator per set of options.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway.findings import Finding, by_severity
from gateway.kinds.base import CheckResult, Part


@dataclass(frozen=True)
class Validation:
    """What the gateway concluded about one document."""

    kind: str | None                       # cfdi, pedimento, cove, erp:<name>…; None when not recognised
    findings: list[Finding]                # errors first; any error means the document would be rejected
    record: dict[str, Any] | None          # the canonical record (docs/canonical.md) when the document is clean
    label: str = ""                        # for a part: which document of its container it is
    parts: list[Validation] = field(default_factory=list)  # documents a container file holds (M file, ZIP…)

    @property
    def ok(self) -> bool:
        """No error here nor in any part: the gateway would accept it."""
        return all(f.severity.value != "error" for f in self.findings) and all(p.ok for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "valid": self.ok, "findings": [f.to_dict() for f in self.findings],
                "record": self.record, "label": self.label, "parts": [p.to_dict() for p in self.parts]}


class Validator:
    """Validates many documents with the same options (schemas and certificates are loaded once)."""

    def __init__(self, certificate_dirs: list[str | os.PathLike[str]] | tuple = (),
                 config: str | os.PathLike[str] | None = None) -> None:
        from gateway.kinds import KindRegistry

        dirs = [Path(d) for d in certificate_dirs]
        settings = None
        if config is not None:
            from gateway.config import load

            settings = load(Path(config))
            dirs += settings.certificate_dirs
        self.kinds = KindRegistry(dirs, settings.sat_schema_dir if settings else None,
                                  settings.sat_data_files if settings else {},
                                  mapping_dirs=settings.erp_mapping_dirs if settings else None, settings=settings)

    def validate(self, document: bytes | str | os.PathLike[str], *, kind: str = "auto",
                 filename: str | None = None) -> Validation:
        """Check one document: ``bytes`` are its contents, a ``str`` or path names a file to read.

        ``filename`` helps detection when bytes are given (M files are recognised partly by name).
        """
        if isinstance(document, (bytes, bytearray, memoryview)):
            data = bytes(document)
            name = filename or "document"
        else:
            path = Path(document)
            data = path.read_bytes()
            name = filename or path.name
        return self._check(data, name, kind)

    def _check(self, data: bytes, name: str, declared_kind: str, label: str = "",
               trusted: bool = False) -> Validation:
        kind, result, parts = self.opened(data, name, declared_kind, trusted)
        checked = [self.part(*item) for item in parts]  # a container: each document it holds is checked too
        return Validation(kind, by_severity(result.findings), result.record, label, checked)

    def opened(self, data: bytes, name: str, declared_kind: str, trusted: bool = False
               ) -> tuple[str | None, CheckResult, Iterator[tuple[Part, str, bool]]]:
        """The file's own check, and the parts it holds still to check, lazily: ``(part, name, trusted)`` for
        ``part``. The file's findings are complete once the parts are read (a container reports as it splits)."""
        from gateway.checking import check_with, guarded

        # as the pipeline's ``check_bytes``, without importing the pipeline (the store, routing, IMMEX) to do it
        kind, result = guarded(lambda: check_with(self.kinds, data, name, declared_kind, trusted))
        parts: Iterator[tuple[Part, str, bool]] = iter(())
        if result.parts is not None and result.ok:
            own_format = self.kinds.makes_parts(kind)  # a ZIP's entries are the sender's bytes, an M file's parts ours
            parts = ((part, f"{name}#{number} {part.label}".rstrip(), own_format)
                     for number, part in enumerate(result.parts, start=1))
        return kind, result, parts

    def part(self, part: Part, name: str, trusted: bool = False) -> Validation:
        """A part as the pipeline takes it: attachments kept as they are, entries a container refused rejected."""
        if part.kind == "attachment":
            return Validation("attachment", [], None, part.label)
        if part.kind == "refused":
            return Validation(None, by_severity(list(part.findings)), None, part.label)
        if part.opener is not None:  # a large entry streamed from its container
            with part.opener() as stream:
                return self._check(stream.read(), name, part.kind, part.label, trusted)
        return self._check(part.data, name, part.kind, part.label, trusted)


def setup_worker(certificate_dirs: list[str], config: str | None, limits_table: dict[str, Any]) -> None:
    """A worker process of ``validate --workers`` (``gateway/workers.py``): its validator, built once."""
    from gateway import limits, logs
    from gateway.workers import STATE

    logs.configure("warning", "console")
    limits.configure(limits.from_table(limits_table))
    STATE["validator"] = Validator(list(map(Path, certificate_dirs)), config)


def validate_in_worker(item: tuple[str, str, bool]) -> tuple[bool, list[str]]:
    """One file of ``validate``, in a worker: whether it passes, and its entries (the file's, then its parts')
    rendered for the output (``gateway/report.py``); a file that cannot be read is an entry too."""
    from gateway import report
    from gateway.workers import STATE

    path, kind, as_json = item
    try:
        outcome = STATE["validator"].validate(path, kind=kind)
    except OSError as exc:
        return False, [report.render(report.unreadable(path, exc.strerror), as_json)]
    return outcome.ok, [report.render(e, as_json) for e in report.entries(path, outcome)]


def part_in_worker(item: tuple[Part, str, bool, str, bool]) -> tuple[bool, str]:
    """One part of a container the gateway process splits (``validate`` of an M file, a Data Stage, a ZIP), in
    a worker: whether it passes (its own parts too), and its entry rendered under ``shown_as``."""
    from gateway import report
    from gateway.workers import STATE

    part, name, trusted, shown_as, as_json = item
    outcome = STATE["validator"].part(part, name, trusted)
    return outcome.ok, report.render(report.entry(shown_as, outcome), as_json)


@lru_cache(maxsize=8)
def _shared(certificate_dirs: tuple[str, ...], config: str | None) -> Validator:
    return Validator(list(certificate_dirs), config)


def validate(document: bytes | str | os.PathLike[str], *, kind: str = "auto", filename: str | None = None,
             certificate_dirs: list[str | os.PathLike[str]] | tuple = (),
             config: str | os.PathLike[str] | None = None) -> Validation:
    """Check one document (bytes, or the path of a file) as the gateway would; see the module docstring.

    ``kind`` forces a kind instead of detecting it (``"cfdi"``, ``"pedimento"``, ``"erp:sap-materials"``…);
    ``certificate_dirs`` adds SAT stamping certificates; ``config`` takes certificates, SAT lists, mappings,
    company RFC and tolerances from a gateway.toml.
    """
    validator = _shared(tuple(str(d) for d in certificate_dirs), str(config) if config is not None else None)
    return validator.validate(document, kind=kind, filename=filename)
