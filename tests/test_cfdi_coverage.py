"""docs/cfdi-coverage.md stays true: every SAT code once, implemented ones registered and tested."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from gateway.kinds.cfdi.matrix import RULES, implemented_codes

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "cfdi-coverage.md"
STATUSES = ("implemented", "implemented-with-sat-data", "needs-online-data", "not-applicable", "not-implemented")
ROW = re.compile(r"^\| (CFDI\d{5,6}|CCE\d{3}) \|[^|]*\| ([a-z-]+) \|([^|]*)\|([^|]*)\|$", re.M)


def _rows() -> list[tuple[str, str, str, str]]:
    return [(code, status, reason.strip(), test.strip().strip("`")) for code, status, reason, test
            in ROW.findall(DOC.read_text(encoding="utf-8"))]


def test_every_sat_code_is_listed_once_with_a_known_status() -> None:
    rows = _rows()
    codes = Counter(code for code, *_ in rows)
    assert max(codes.values()) == 1
    assert sum(1 for c in codes if c.startswith("CFDI")) == 128
    assert sum(1 for c in codes if c.startswith("CCE")) == 73
    assert {status for _, status, _, _ in rows} <= set(STATUSES)
    for code in [f"CFDI40{n}" for n in range(101, 223)] + [f"CCE{n}" for n in range(101, 173)]:
        assert code in codes, code


def test_counts_per_status_match_the_rows() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = _rows()
    for status in STATUSES:
        cfdi = sum(1 for code, s, _, _ in rows if s == status and code.startswith("CFDI"))
        cce = sum(1 for code, s, _, _ in rows if s == status and code.startswith("CCE"))
        assert f"| {status} | {cfdi} | {cce} | {cfdi + cce} |" in text, status


def test_implemented_codes_have_a_rule_and_others_do_not() -> None:
    registered = implemented_codes()
    with_data = {code for rule in RULES if rule.needs for code in rule.codes}
    for code, status, reason, _ in _rows():
        if status == "implemented":
            assert code in registered and code not in with_data, code
        elif status == "implemented-with-sat-data":
            assert code in with_data, code
        else:
            assert code not in registered, code
            assert reason, f"{code}: a code that is not implemented needs its reason"
    listed = {code for code, status, _, _ in _rows() if status.startswith("implemented")}
    assert set(registered) == listed


def test_every_named_test_exists() -> None:
    named = {test for _, status, _, test in _rows() if status.startswith("implemented")}
    assert all(named), "an implemented code without its test"
    files = sorted({test.split("::")[0] for test in named})
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *files], cwd=REPO,
                               capture_output=True, text=True, check=False).stdout.splitlines()
    missing = named - set(collected)
    assert not missing, sorted(missing)
