"""The queue page in a real browser (Debian's Chromium driven by Playwright) against a real ``serve``."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect

pytest_plugins = ("tests.web_fixtures",)  # one server and one browser for the session


def test_login_is_required_and_wrong_passwords_are_refused(browser, web_server):
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    page.goto("/documents/whatever")
    assert "/login?next=" in page.url
    page.fill("#username", "ana")
    page.fill("#password", "no-es-la-clave")
    page.click("#login-submit")
    assert "incorrectos" in page.inner_text("#login-error")
    assert page.context.cookies()[0]["httpOnly"] is True
    assert page.context.cookies()[0]["sameSite"] == "Lax"
    context.close()


def test_filter_the_queue_and_see_the_offending_line(web_server, log_in):
    page = log_in("ana")
    rows = page.locator("#queue-table tbody tr")
    names = set(page.locator("#queue-table a.doc-link").all_inner_texts())
    assert {"total-alterado.xml", "roto.xml", "m3430001.txt", "vacio.xml"} <= names and "ok.xml" not in names
    assert page.locator('#code-counts [data-code="CFDI-TOTALS"] b').inner_text() == "1"

    page.select_option("#f-code", "CFDI-TOTALS")
    page.click("#f-apply")
    page.wait_for_url("**code=CFDI-TOTALS**")
    assert rows.count() == 1 and page.locator("a.doc-link").inner_text() == "total-alterado.xml"

    page.goto("/queue")
    page.fill("#f-q", web_server.pedimento)  # a pedimento number, typed with its spaces
    page.click("#f-apply")
    assert page.locator("a.doc-link").all_inner_texts() == ["m3430001.txt"]

    folio = _uuid_in_original(web_server, web_server.doc("total-alterado.xml")["id"])
    page.goto("/queue?q=" + quote(folio.lower()))  # the folio fiscal (UUID), in any case
    assert page.locator("a.doc-link").all_inner_texts() == ["total-alterado.xml"]

    page.click("a.doc-link")
    page.wait_for_selector("#findings")
    codes = page.locator("#findings tbody code").all_inner_texts()
    assert "CFDI-TOTALS" in codes and "CFDI-SEAL" in codes
    link = page.locator("#findings a.line-link").first
    line = link.get_attribute("href")  # "#L2"
    link.click()
    assert page.url.endswith(line)
    highlighted = page.locator(f"#source tr{line}")
    assert "hl" in highlighted.get_attribute("class") and "error" in highlighted.get_attribute("class")
    assert ' Total="9' in highlighted.inner_text()
    assert highlighted.is_visible()
    assert page.locator("#source tr.hl").count() >= 1
    page.context.close()


def _uuid_in_original(server, document_id: str) -> str:
    import re

    status, data, _ = server.request("GET", f"/api/documents/{document_id}/original", token=server.tokens["victor"])
    assert status == 200
    return re.search(rb'UUID="([0-9A-F-]{36})"', data).group(1).decode()


def test_replace_with_a_corrected_file_and_see_it_processed(web_server, log_in, make_invoice, tmp_path):
    broken = web_server.doc("roto.xml")
    page = log_in("ana")
    page.goto(f"/documents/{broken['id']}")
    assert "XML-MALFORMED" in page.inner_text("#findings")
    assert page.locator("#source tr.hl.error").count() == 1
    corrected = tmp_path / "roto-corregido.xml"
    corrected.write_bytes(make_invoice(3))
    page.set_input_files("#replace-file", str(corrected))
    page.fill("#replace-reason", "el agente reenvió la factura completa")
    page.click("#replace")
    page.wait_for_selector("#flash")
    new_id = page.inner_text("#doc-id")
    assert new_id != broken["id"]
    assert page.get_attribute("#doc-state", "data-state") == "forwarded"
    assert page.locator('#links tr[data-role="replaces"] a').inner_text() == "roto.xml"
    assert any(p.stem == new_id for p in (web_server.root / "outbox").glob("*/*.json"))

    page.click('#links tr[data-role="replaces"] a')
    assert page.get_attribute("#doc-state", "data-state") == "replaced"
    replace_row = page.locator('#audit tr[data-action="replace"]')
    assert "web:ana" in replace_row.inner_text() and "el agente reenvió" in replace_row.inner_text()
    page.context.close()


def test_discard_with_a_reason_is_in_the_audit_trail(web_server, log_in):
    doc = web_server.doc("cancelada.xml")
    page = log_in("ana")
    page.goto(f"/documents/{doc['id']}")
    page.click("#discard")  # the reason is required: the browser does not send the form
    assert page.get_attribute("#doc-state", "data-state") == "rejected"
    page.fill("#discard-reason", "factura cancelada ante el SAT por el emisor")
    page.click("#discard")
    page.wait_for_selector("#flash")
    assert page.get_attribute("#doc-state", "data-state") == "discarded"
    row = page.locator('#audit tr[data-action="discard"]')
    assert "web:ana" in row.inner_text() and "factura cancelada ante el SAT" in row.inner_text()
    assert web_server.doc("cancelada.xml")["state"] == "discarded"
    page.goto("/queue")
    assert "cancelada.xml" not in page.locator("#queue-table a.doc-link").all_inner_texts()
    page.context.close()


def test_a_viewer_reads_but_is_refused_every_action(web_server, log_in):
    doc = web_server.doc("total-alterado.xml")
    page = log_in("victor")
    page.goto(f"/documents/{doc['id']}")
    assert "viewer" in page.inner_text("#read-only")
    assert page.locator("#discard-form").count() == 0 and page.locator("#bulk-retry").count() == 0
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    refused = page.request.post(f"/documents/{doc['id']}/discard",
                                form={"csrf_token": token, "reason": "no debería poder"})
    assert refused.status == 403 and "permiso" in refused.text()
    api = page.evaluate("""async ([id, token]) => {
        const r = await fetch(`/api/documents/${id}/retry`, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token}, body: "{}"});
        return [r.status, await r.json()];
    }""", [doc["id"], token])
    assert api[0] == 403 and "viewer" in api[1]["error"]
    assert web_server.doc("total-alterado.xml")["state"] == "rejected"
    page.context.close()


def test_forms_and_api_writes_without_the_csrf_token_are_refused(web_server, log_in):
    doc = web_server.doc("total-alterado.xml")
    page = log_in("ana")
    forged = page.request.post(f"/documents/{doc['id']}/discard", form={"csrf_token": "forjado", "reason": "x"})
    assert forged.status == 403 and "recargue" in forged.text()
    missing = page.request.post(f"/documents/{doc['id']}/discard", form={"reason": "x"})
    assert missing.status == 403
    api = page.request.post(f"/api/documents/{doc['id']}/discard", data={"reason": "x"})
    assert api.status == 403 and "CSRF" in api.json()["error"]
    assert web_server.doc("total-alterado.xml")["state"] == "rejected"
    history = web_server.api("GET", f"/documents/{doc['id']}", token=web_server.tokens["victor"])[1]["audit"]
    assert [a["action"] for a in history] == ["intake", "validate"]
    page.context.close()


def test_bulk_retry_of_a_selection_through_the_api(web_server, log_in):
    page = log_in("ana")
    page.goto("/queue?q=lote-")
    assert sorted(page.locator("a.doc-link").all_inner_texts()) == ["lote-1.xml", "lote-2.xml"]
    page.check("#select-all")
    page.click("#bulk-retry")
    expect(page.locator("#bulk-result")).to_contain_text("rejected")
    for name in ("lote-1.xml", "lote-2.xml"):
        history = web_server.api("GET", f"/documents/{web_server.doc(name)['id']}",
                                 token=web_server.tokens["victor"])[1]["audit"]
        assert [a["action"] for a in history][-2:] == ["retry", "validate"]
        assert history[-2]["actor"] == "web:ana"
    page.context.close()


def test_english_labels_on_request_and_the_overview(web_server, log_in):
    page = log_in("ana")
    assert page.inner_text("h1").startswith("Cola de rechazados")
    page.click("#lang-switch")
    assert page.inner_text("h1").startswith("Rejected queue")
    page.goto("/overview")
    assert page.inner_text("#health-status") == "ok"
    assert "broker-drop" in page.inner_text("#by-source") and "inventory" in page.inner_text("#health")
    assert "cfdi" in page.inner_text("#by-kind")
    page.click("#lang-switch")
    assert page.inner_text("h1").startswith("Resumen")
    page.context.close()


def test_an_admin_adds_a_user_in_the_page_and_an_operator_cannot(web_server, log_in):
    page = log_in("ana")
    page.goto("/users")
    assert "permiso" in page.inner_text("#error")
    page.context.close()
    page = log_in("adela")
    page.goto("/users")
    page.fill('#add-user input[name="name"]', "nuevo.operador")
    page.select_option('#add-user select[name="role"]', "viewer")
    page.fill('#add-user input[name="password"]', "clave-del-nuevo-1")
    page.click('#add-user button[type="submit"]')
    assert "nuevo.operador" in page.inner_text("#users") and "viewer" in page.inner_text("#users")
    page.context.close()


def test_replace_refuses_a_duplicate_and_asks_to_confirm_another_document(web_server, log_in, make_invoice, tmp_path):
    """The page meets replace's intake checks: a copy of a forwarded invoice is refused as a duplicate, and an
    invoice with another UUID is refused until the checkbox confirms it (the API test confirms one)."""
    target = web_server.doc("api-copia.xml")
    page = log_in("ana")
    page.goto(f"/documents/{target['id']}")
    copy = tmp_path / "copia.xml"
    copy.write_bytes((web_server.root / "inbox" / "processed" / "ok.xml").read_bytes())
    page.set_input_files("#replace-file", str(copy))
    page.click("#replace")
    page.wait_for_selector("#flash")
    assert page.inner_text("#flash").startswith("Duplicado") and page.inner_text("#doc-id") == target["id"]
    other = tmp_path / "otra.xml"
    other.write_bytes(make_invoice(18))
    page.set_input_files("#replace-file", str(other))
    page.click("#replace")
    page.wait_for_selector("#flash")
    assert "otro documento" in page.inner_text("#flash") and page.is_visible("#replace-confirm-other")
    assert page.get_attribute("#doc-state", "data-state") == "rejected"
    assert web_server.doc("api-copia.xml")["state"] == "rejected"
