"""A month of one plant's imports and exports end to end: each planted defect caught, each consistent group passes."""

from __future__ import annotations

import json

import pytest

from gateway import outbox, runner
from gateway.correlation import correlate
from gateway.demo import scenario
from gateway.findings import Severity
from tests.conftest import REPO
from tests.correlation_fixtures import by_key, later, open_gateway, write_workspace


@pytest.fixture(scope="module")
def month(tmp_path_factory, identities, verifier):
    issuer, pac = identities
    plan = scenario.month(issuer, pac, verifier, seed=7)
    root = tmp_path_factory.mktemp("plant")
    config = write_workspace(root, pac)
    for name, data in plan.deliveries:
        (root / "inbox" / name).write_bytes(data)
    gw = open_gateway(config)
    try:
        runner.run_once(gw, drain_timeout=5)
        pending_before_timeout = {d.business_key for d in gw.store.list_documents(["pending"])}
        correlate.resolve_timeouts(gw, at=later())
        outbox.deliver_due(gw)
        docs = by_key(gw)
        findings = {d.business_key: gw.store.findings(d.id) for d in docs.values()}
        invalid = {d.filename: (d.state, {f.code for f in gw.store.findings(d.id) if f.severity.value != "info"})
                   for d in gw.store.list_documents() if d.business_key is None}
        counts = gw.store.counts_by_state()
    finally:
        gw.close()
    return plan, docs, findings, counts, pending_before_timeout, root, invalid


def _xdoc(findings) -> set[str]:
    return {f.code for f in findings if f.code.startswith("XDOC-") and f.code != "XDOC-GROUP"}


def test_the_month_has_imports_returns_and_exports_with_every_defect_planted(month):
    plan, *_ = month
    assert {g.clave for g in plan.groups} == {"IN", "RT", "A1"}
    assert {g.planted for g in plan.groups} - {None} == set(scenario.PLANTED)
    assert sum(g.planted is None for g in plan.groups) >= 10


def test_every_consistent_group_is_forwarded_without_cross_document_findings(month):
    plan, docs, findings, *_ = month
    for group in plan.groups:
        if group.planted is not None:
            continue
        for key in [group.pedimento_key, *group.members]:
            assert docs[key].state == "forwarded", (group.label, key, [f.message for f in findings[key]])
            assert not _xdoc(findings[key]), (group.label, key)


def test_every_planted_defect_is_caught_with_its_code(month):
    plan, docs, findings, *_, invalid = month
    for group in plan.groups:
        if group.planted is None:
            continue
        keys = [group.pedimento_key, *group.members]
        found = set().union(*(_xdoc(findings[k]) for k in keys))
        found |= {code for name in group.invalid for code in invalid[name][1]}
        assert found == group.expected_codes, (group.label, group.planted, found)
        expected_state = "forwarded" if group.forwarded else "rejected"
        assert {docs[k].state for k in keys} == {expected_state}, (group.label, group.planted)
        for name, codes in group.invalid.items():
            assert invalid[name] == ("rejected", codes)


def test_each_disagreement_names_both_documents_and_both_values(month):
    plan, docs, findings, *_ = month
    group = next(g for g in plan.groups if g.planted == "fecha")
    (finding,) = [f for f in findings[group.pedimento_key] if f.code == "XDOC-COVE-INVOICE"]
    assert finding.severity is Severity.ERROR and finding.location["field"] == "505.3"
    cove = finding.location["cove"]
    assert f"COVE {cove}" in finding.message and "Pedimento " in finding.message
    ped_date, cove_date = docs[cove].record["fecha_expedicion"], finding.message.split("fechaExpedicion) ")[1][:10]
    assert ped_date == cove_date and finding in findings[cove]


def test_only_the_missing_counterparts_waited_for_the_timeout(month):
    plan, _, _, counts, pending_before_timeout, *_ = month
    waiting = {g.pedimento_key for g in plan.groups if g.needs_timeout}
    assert waiting <= pending_before_timeout
    assert "pending" not in counts


def test_forwarded_output_carries_the_links(month):
    plan, docs, *_, root, _ = month
    group = next(g for g in plan.groups if g.planted is None and g.clave == "A1")
    out = json.loads((root / "outbox" / "pedimento" / f"{docs[group.pedimento_key].id}.json").read_text())
    cfdi_links = sorted(link["key"] for link in out["links"] if link["role"] == "cfdi")
    assert cfdi_links == sorted(group.members)


def test_every_forwarded_cove_matches_the_published_schema(month):
    import jsonschema

    *_, root, _ = month
    schema = json.loads((REPO / "docs" / "schema" / "cove.schema.json").read_text())
    outputs = [json.loads(p.read_text()) for p in (root / "outbox" / "cove").glob("*.json")]
    assert len(outputs) >= 10 and {o["record"]["document"] for o in outputs} == {"cove", "respuesta-cove"}
    for out in outputs:
        jsonschema.validate(out["record"], schema)
        if out["record"].get("origen") == "recibir-cove":  # a paired request carries the number it was given
            assert out["record"]["e_document"] and out["record"]["numero_operacion"]
