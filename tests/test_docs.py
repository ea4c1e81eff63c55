"""The published docs stay true to the code."""

from __future__ import annotations

from pathlib import Path

from gateway.findings import CODES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_finding_code_is_documented():
    text = (DOCS / "findings.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"`{code}`" not in text] == []
