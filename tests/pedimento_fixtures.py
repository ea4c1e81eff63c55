"""Helpers for the pedimento tests: read generated M files into records, check them, load the schema."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.kinds.pedimento import mfile, normalise, rules

REPO = Path(__file__).resolve().parents[1]
PEDIMENTO_SAMPLES = REPO.parent / "shared" / "samples" / "pedimento"
SCHEMA = json.loads((REPO / "docs" / "schema" / "pedimento.schema.json").read_text(encoding="utf-8"))
COMPANY = rules.RuleContext(company_rfc="EKU9003173C9", immex_program="1234-2006")


def blocks(name: str, data: bytes) -> tuple[list[mfile.Block], mfile.FileCheck]:
    check = mfile.FileCheck(name)
    return list(mfile.blocks(data, check)), check


def findings_of(block: mfile.Block, ctx: rules.RuleContext = COMPANY) -> list:
    return rules.check(normalise.records_from_lines(block.lines), ctx)


def codes(findings: list) -> list[str]:
    return sorted(f.code for f in findings)
