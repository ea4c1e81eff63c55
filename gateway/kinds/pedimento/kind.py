"""The pedimento document kinds: ``mfile`` and ``datastage`` (containers) and ``pedimento`` (one declaration).

A container's check streams the file and yields one :class:`~gateway.kinds.base.Part` of kind ``pedimento``
per declaration: an M-file block (500 … 800) or a Data Stage pedimento (its rows with their headers). The
part's bytes are checked on their own by :class:`PedimentoKind`, so one bad pedimento is rejected alone and
can be retried or replaced like any document. File-level defects (801 counts, a truncated or incomplete set)
reject the container whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.findings import Finding, error, has_errors
from gateway.kinds.base import CheckResult, Part, Uncorrelated
from gateway.kinds.keys import Keys
from gateway.kinds.pedimento import clock, datastage, keys, mfile, normalise, rules, vucem

_M_NAME = re.compile(r"^[mM]\d{7}\.\d{3}$")
_LINES = re.compile(r"\(líneas (\d+)[–-]\d+\)")  # the part label names the block's lines in its M file


def _m_block_head(head: bytes) -> bool:
    return head.startswith(b"500|")


class MFileKind(Uncorrelated):
    """The broker's validation file: several pedimentos and one 801."""

    name = "mfile"
    makes_parts = True  # its parts are its own blocks: read back as pedimentos

    def __init__(self, ctx: rules.RuleContext | None = None) -> None:
        self.ctx = ctx or rules.RuleContext()

    def sniff(self, head: bytes, filename: str) -> bool:
        base = filename.rsplit("/", 1)[-1].split("#", 1)[0].strip()
        return _m_block_head(head) and (_M_NAME.match(base) is not None or b"\n801|" in head)

    def check(self, data: bytes) -> CheckResult:
        return self.check_named(data, "")

    def check_named(self, data: bytes, filename: str) -> CheckResult:
        result = CheckResult(validated=True)
        check = mfile.FileCheck(filename, findings=result.findings)
        record: dict[str, Any] = {"format": "mfile", "file_name": filename or None}
        result.record = record

        def parts() -> Iterator[Part]:
            for block in mfile.blocks(data, check):
                patente, number, aduana = block.key
                yield Part("pedimento", block.raw, f"pedimento {patente}-{number} (líneas "
                                                   f"{block.first_line}–{block.last_line})")
            trailer = check.trailer.fields if check.trailer else []
            record.update(pedimentos=check.pedimentos, records=check.records,
                          declared_name=trailer[1] if len(trailer) > 1 else None,
                          prevalidador=trailer[4] if len(trailer) > 4 else None)

        result.parts = parts()
        return result


class DataStageKind(Uncorrelated):
    """SAT's Data Stage: a ZIP of ``<folio>_<reg>.asc`` files (or one such file on its own)."""

    name = "datastage"
    makes_parts = True  # DATASTAGE| parts (docs/pedimento.md), refused from outside

    def __init__(self, staging_dir: Path | None = None) -> None:
        self.staging_dir = staging_dir

    def sniff(self, head: bytes, filename: str) -> bool:
        base = filename.rsplit("/", 1)[-1].split("#", 1)[0].strip()
        if head[:4] == b"PK\x03\x04":
            return re.search(rb"\d+_\d{3}\.asc", head, re.IGNORECASE) is not None
        return datastage.is_member_name(base) or head.lower().startswith(b"patente|pedimento|seccionaduanera")

    def check(self, data: bytes) -> CheckResult:
        return self.check_named(data, "")

    def check_named(self, data: bytes, filename: str) -> CheckResult:
        result = CheckResult(validated=True, record={"format": "datastage"})
        folder = None
        base = filename.rsplit("/", 1)[-1].split("#", 1)[0].strip()
        if self.staging_dir is not None and data[:4] != b"PK\x03\x04" and datastage.is_member_name(base):
            # a loose file: kept with its folio until the whole set is there (docs/pedimento.md)
            held = datastage.hold_member(data, base, self.staging_dir, result.findings)
            if held is None:
                return result
            folio, folder, missing = held
            result.business_key = f"datastage-{folio}"
            if missing:
                result.record = {"format": "datastage", "folio": folio, "file": base, "held": True,
                                 "waiting_for": [f"{folio}_{reg}.asc" for reg in missing]}
                result.parts = iter(())
                return result

        def parts() -> Iterator[Part]:
            for raw, label in datastage.split_set(data, filename, result.findings, result.record or {},
                                                  self.staging_dir, folder):
                yield Part("pedimento", raw, label)

        result.parts = parts()
        return result


class PedimentoKind:
    """One declaration: an M-file block, a Data Stage pedimento part, or a VUCEM answer."""

    name = "pedimento"
    makes_parts = True  # declared for a whole M file or Data Stage, it splits it as they do

    def __init__(self, ctx: rules.RuleContext | None = None, staging_dir: Path | None = None) -> None:
        self.ctx = ctx or rules.RuleContext()
        self.staging_dir = staging_dir

    def sniff(self, head: bytes, filename: str) -> bool:
        return _m_block_head(head) or head.startswith(datastage.PART_MAGIC) or vucem.sniff(head)

    def internal_format(self, head: bytes) -> bool:
        """A Data Stage pedimento part is made by the gateway from a whole set; never accepted from outside."""
        return head.startswith(datastage.PART_MAGIC)

    def check(self, data: bytes) -> CheckResult:
        return self.check_named(data, "")

    def correlation_keys(self, record: dict[str, Any]) -> Keys:
        return keys.correlation_keys(record)

    def waits_to_be_claimed(self, record: dict[str, Any]) -> bool:
        return False  # a pedimento claims others; nothing claims it

    def check_named(self, data: bytes, filename: str) -> CheckResult:
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(datastage.PART_MAGIC):
            findings: list[Finding] = []
            records, origin = datastage.records_from_part(data, findings)
            return self._result(records, origin, findings, expect_envelope=False)
        if head[:1] == b"<":
            findings = []
            answer = vucem.records(data, findings)
            if answer is None:
                return CheckResult(findings)
            records, origin = answer
            return self._result(records, origin, findings, expect_envelope=False, check_layout=False,
                                partial=True)
        if head[:4] == b"PK\x03\x04" or datastage.is_member_name(filename.split("#", 1)[0].strip()):
            return DataStageKind(self.staging_dir).check_named(data, filename)
        findings = []
        lines = mfile.read_block(data, findings)
        if any(line.record == "801" for line in lines):  # a whole M file declared as "pedimento"
            return MFileKind(self.ctx).check_named(data, filename)
        lines_in_file = _LINES.search(filename)
        records = normalise.records_from_lines(lines, int(lines_in_file[1]) if lines_in_file else None)
        head_fields = lines[0].fields if lines and lines[0].record == "500" else []
        tail = lines[-1].fields if lines and lines[-1].record == "800" else []
        origin = {"format": "mfile",
                  "movement_type": head_fields[1].strip() or None if len(head_fields) > 1 else None,
                  "validation_ack": head_fields[5].strip() or None if len(head_fields) > 5 else None,
                  "signature": {"figure_type": tail[2].strip() or None if len(tail) > 2 else None,
                                "certificate_serial": tail[4].strip() or None if len(tail) > 4 else None}}
        return self._result(records, origin, findings)

    def _result(self, records: list[normalise.Rec], origin: dict[str, Any], findings: list[Finding],
                **options: bool) -> CheckResult:
        if not records:
            findings.append(error("PED-SEQUENCE", "El documento no contiene registros de pedimento."))
            return CheckResult(findings)
        findings.extend(rules.check(records, self.ctx, **options))
        if has_errors(findings):
            return CheckResult(findings, validated=True)
        record = normalise.build(records, origin)
        findings.extend(clock.apply(record, self.ctx.company))  # each temporary partida's return deadline
        clock.name_originals(record)  # each 512: the business key of the import it discharges
        corrected = (record.get("rectification") or {}).get("corrects") or {}
        related = [("supersedes", corrected["key"])] if corrected.get("key") else []
        return CheckResult(findings, record, business_key=business_key(record), validated=True, related=related)


def business_key(record: dict[str, Any]) -> str | None:
    """``year-aduana-patente-pedimento``: the same pedimento resent (even byte-different) has the same key."""
    key = record.get("key") or {}
    if not key.get("pedimento"):
        return None
    return "-".join(str(key.get(k) or "") for k in ("year", "aduana_seccion", "patente", "pedimento"))
