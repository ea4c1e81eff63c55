"""A correlation group on the web page, in Debian's Chromium against a real ``serve``: one queue item for the
group, its members and the disagreeing values side by side, links between the documents a message names, the
pedimento's line marked, and the group retried at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.demo import scenario
from gateway.store import SqliteStore
from gateway.store.base import Document, now

pytest_plugins = ("tests.web_fixtures",)  # the browser


@pytest.fixture(scope="module")
def group_server(tmp_path_factory, make_invoice, identities):
    from tests.correlation_fixtures import write_workspace
    from tests.web_fixtures import start_server, stop_server

    root = tmp_path_factory.mktemp("groups-web")
    config = write_workspace(root)
    group = scenario.import_with_two_coves(defect="valor", seq=5)
    (root / "inbox").mkdir(exist_ok=True)
    for name, data in group.files.items():
        (root / "inbox" / f"grupo-{name}").write_bytes(data)
    server = start_server(root, make_invoice, identities, config=config)
    yield server
    stop_server(server)


def test_a_group_is_one_queue_item_with_its_values_side_by_side(browser, group_server):
    from tests.web_fixtures import browser_login

    members = {name: d for name, d in group_server.documents().items()
               if name.startswith("grupo-") and d["state"] != "split"}  # the M file itself is a container
    assert len(members) == 4 and {d["state"] for d in members.values()} == {"rejected"}
    page = browser_login(browser, group_server, "ana")
    page.goto("/queue?q=grupo-")
    assert page.locator("a.doc-link").count() == 1  # four rejected documents, one item
    item = page.locator(".group-item")
    assert "Grupo de 4 documentos" in item.inner_text() and item.locator("a.member-link").count() == 3
    item.locator("a.group-link").click()
    page.wait_for_selector("#members")
    assert page.locator("#members tr.member").count() == 4
    value = page.locator('#disagreements tr.disagreement[data-code="XDOC-COVE-VALUE"]').first
    assert "pedimento" in value.locator("td.ped-side").inner_text()
    assert "1,010.00" in value.locator("td.ped-side").inner_text()
    assert "COVE" in value.locator("td.other-side").inner_text()
    assert "1,000.00" in value.locator("td.other-side").inner_text()

    pedimento = next(d for d in members.values() if d["kind"] == "pedimento")
    page.goto(f"/documents/{pedimento['id']}")
    assert "Ver el grupo de 4" in page.inner_text("#group-link")
    line = page.locator("#findings a.line-link").first.get_attribute("href")
    assert page.locator(f"#source tr{line}").get_attribute("class").startswith("hl")
    assert page.locator(f"#source tr{line} td.code").inner_text().startswith("505|")
    reference = page.locator("#findings a.doc-ref").first
    assert reference.inner_text().startswith("COVE")
    reference.click()
    assert page.get_attribute("#doc-state", "data-state") == "rejected" and "COVE" in page.inner_text("h1")

    page.goto(f"/groups/{pedimento['id']}")
    page.click("#group-retry")
    page.wait_for_selector("#flash")
    assert "Reintentar" in page.inner_text("#flash") and "grupo-" in page.inner_text("#flash")
    for name in members:
        history = group_server.api("GET", f"/documents/{group_server.doc(name)['id']}",
                                   token=group_server.tokens["victor"])[1]["audit"]
        assert any(a["action"] == "retry" and a["actor"] == "web:ana" for a in history), name
    page.context.close()


def test_a_member_back_to_waiting_says_what_it_waits_for_and_until_when(tmp_path):
    from gateway.web import groups

    store = SqliteStore(tmp_path / "gateway.db")
    try:
        for document_id, kind in (("PED", "pedimento"), ("COVE1", "cove")):
            store.insert_document(Document(id=document_id, kind=kind, declared_kind="auto", state="received",
                                           source_name="s", filename=f"{document_id}.txt", sha256="0" * 64,
                                           size=1, received_at=now(), updated_at=now()), "t", "intake")
        store.put_correlation_keys("PED", [("pedimento", "P1")], [("cove", "COVE1"), ("cove", "COVE260000999")])
        store.put_correlation_keys("COVE1", [("cove", "COVE1")], [])
        since = "2026-12-01T12:00:00.000000Z"
        store.set_correlation_member("PED", "waiting", since=since)
        store.set_state("PED", "validated", "t", "validate")
        store.set_state("PED", "pending", "t", "correlate")
        docs = groups.members(store, "PED")
        assert [d.id for d in docs] == ["PED", "COVE1"]
        waiting = groups.waiting_for(store, docs[0], docs, timedelta(hours=72).total_seconds())
        assert waiting == {"keys": ["el COVE COVE260000999"], "until": "2026-12-04T12:00:00.000000Z"}
        assert groups.waiting_for(store, docs[1], docs, 3600) is None
    finally:
        store.close()
