"""The verdict does not depend on arrival order: every order, with restarts in between, gives the same result."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import outbox
from gateway.correlation import correlate
from tests.correlation_fixtures import deliver, export_group, import_group, later, open_gateway, write_workspace

IMPORTS = {"consistent": import_group(), "valor": import_group("valor")}
#: the COVE never arrives: the group resolves at the timeout
IMPORTS["faltante"] = type(IMPORTS["consistent"])(
    {k: v for k, v in IMPORTS["consistent"].files.items() if k != "COVE260000100.xml"},
    IMPORTS["consistent"].pedimento_key)


def snapshot(gw) -> dict[str, tuple]:
    """Everything an operator or the inventory system sees, with document ids replaced by file names."""
    docs = gw.store.list_documents()
    names = {d.id: d.filename for d in docs}
    result = {}
    for d in docs:
        findings = sorted((f.code, f.severity.value, f.message, tuple(sorted(f.location.items())))
                          for f in gw.store.findings(d.id))
        links = sorted((link["role"], link["kind"], link["key"], names[link["id"]])
                       for link in gw.store.correlation_links(d.id))
        deliveries = sorted((x.sink, x.state) for x in gw.store.deliveries(d.id))
        result[d.filename] = (d.kind, d.state, d.business_key, d.record, tuple(findings), tuple(links),
                              tuple(deliveries))
    return result


def run(config: Path, files: dict[str, bytes], order: list[str], restarts: list[bool], timeout: bool) -> dict:
    gw = open_gateway(config)
    try:
        for name, restart in zip(order, restarts, strict=True):
            deliver(gw, name, files[name])
            if restart:
                gw.close()
                gw = open_gateway(config)
        if timeout:
            correlate.resolve_timeouts(gw, at=later())
            outbox.deliver_due(gw)
        return snapshot(gw)
    finally:
        gw.close()


_REFERENCE: dict[str, dict] = {}


def reference(label: str, files: dict[str, bytes], timeout: bool) -> dict:
    if label not in _REFERENCE:
        with tempfile.TemporaryDirectory() as tmp:
            names = sorted(files)
            _REFERENCE[label] = run(write_workspace(Path(tmp)), files, names, [False] * len(names), timeout)
    return _REFERENCE[label]


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label=st.sampled_from(sorted(IMPORTS)), data=st.data())
def test_import_group_same_states_findings_and_links_in_every_order(label, data):
    group = IMPORTS[label]
    order = data.draw(st.permutations(sorted(group.files)), label="order")
    restarts = data.draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)), label="restarts")
    timeout = label == "faltante"
    expected = reference(label, group.files, timeout)
    with tempfile.TemporaryDirectory() as tmp:
        assert run(write_workspace(Path(tmp)), group.files, order, restarts, timeout) == expected


def test_reference_verdicts_are_what_the_checks_say():
    consistent = reference("consistent", IMPORTS["consistent"].files, False)
    assert {v[1] for k, v in consistent.items() if v[0] != "mfile"} == {"forwarded"}
    wrong = reference("valor", IMPORTS["valor"].files, False)
    assert {v[1] for v in wrong.values() if v[0] != "mfile"} == {"rejected"}
    missing = reference("faltante", IMPORTS["faltante"].files, True)
    codes = {f[0] for v in missing.values() for f in v[4]}
    assert codes == {"XDOC-COVE-MISSING", "XDOC-GROUP"}


@pytest.fixture(scope="module")
def exports(make_invoice, identities):
    return {"consistent": export_group(make_invoice), "cantidad": export_group(make_invoice, "cantidad")}, identities


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_export_group_same_verdict_in_every_order(exports, data):
    groups, (_, pac) = exports
    label = data.draw(st.sampled_from(sorted(groups)), label="group")
    files = groups[label].files
    order = data.draw(st.permutations(sorted(files)), label="order")
    restarts = data.draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)), label="restarts")
    key = f"export-{label}"
    if key not in _REFERENCE:
        with tempfile.TemporaryDirectory() as tmp:
            _REFERENCE[key] = run(write_workspace(Path(tmp), pac), files, sorted(files), [False] * len(files), False)
    expected = _REFERENCE[key]
    states = {v[1] for v in expected.values() if v[0] != "mfile"}
    assert states == ({"forwarded"} if label == "consistent" else {"rejected"})
    with tempfile.TemporaryDirectory() as tmp:
        assert run(write_workspace(Path(tmp), pac), files, order, restarts, False) == expected
