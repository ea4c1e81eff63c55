"""The published docs stay true to the code."""

from __future__ import annotations

from pathlib import Path

from gateway.findings import CODES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_finding_code_is_documented():
    text = (DOCS / "findings.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"`{code}`" not in text] == []


def test_every_code_the_product_uses_is_in_the_catalogue():
    """A code written in the product (``error("X-…"``, ``Finding("X-…"``, ``"code": "X-…"``) is in CODES."""
    import re

    used = re.compile(r"""(?:\b(?:error|warning|info)\(\s*|\bFinding\(\s*|["']code["']:\s*)"""
                      r"""["']([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)["']""")
    root = DOCS.parent
    found = {code for path in [*(root / "gateway").rglob("*.py"), *(root / "adapters").rglob("*.py")]
             for code in used.findall(path.read_text(encoding="utf-8"))}
    assert "FILE-UNREADABLE" in found and "FILE-EMPTY" in found  # the pattern sees both spellings
    assert sorted(found - set(CODES)) == []
