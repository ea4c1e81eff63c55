"""The queue page in a real browser (Debian's Chromium driven by Playwright) against a real ``serve``."""

from __future__ import annotations

import re
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
    page.click("#findings a.attr-link >> text=atributo Total")  # the attribute itself, within the long line
    assert page.url.endswith("#L2-Total")
    mark = page.locator("#source mark#L2-Total")
    assert mark.inner_text().startswith('Total="9') and "CFDI-TOTALS" in mark.get_attribute("title")
    assert mark.is_visible()
    assert page.locator("#source tr.hl").count() >= 1
    page.context.close()


_CONTRAST = """(element) => {
    const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const style = getComputedStyle(element);
    let back = element, bg = getComputedStyle(back).backgroundColor;
    while (bg === "rgba(0, 0, 0, 0)" && back.parentElement) {
        back = back.parentElement; bg = getComputedStyle(back).backgroundColor; }
    const [a, b] = [lum(style.color), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


def test_line_numbers_of_a_long_file_stay_on_one_row_and_are_readable(web_server, log_in):
    part = next(d for name, d in web_server.documents().items()
                if name.startswith("m3456077.245") and d["state"] == "rejected")
    page = log_in("ana")
    page.goto(f"/documents/{part['id']}")
    numbers = page.locator("#source td.n a")
    assert numbers.count() >= 12
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('#source td.n a'))
        .map((a) => [a.textContent, a.getClientRects().length])""")
    assert all(rects == 1 for _, rects in rows), rows  # "12" is one row, never "1" over "2"
    for n in ("1", "12"):
        assert page.locator(f"#L{n} td.n").evaluate(_CONTRAST) >= 4.5
    page.context.close()


def test_a_pedimento_is_found_however_customs_people_write_it(web_server, log_in):
    from gateway.demo.generate import pedimento as gen

    page = log_in("ana")

    def found(typed: str) -> list[str]:
        page.goto("/queue")
        page.fill("#f-q", typed)
        page.click("#f-apply")
        page.wait_for_selector("#queue-table, #empty")
        return page.locator("a.doc-link").all_inner_texts()

    for typed in ("26 24 3456 6000001", "262434566000001", "3456-6000001", "26  24  3456  6000001"):
        names = found(typed)
        assert names and all(name.startswith("m3456077.245") for name in names), (typed, names)
    for typed in ("26 24 3457 6000002", "3457-6000002"):  # the Data Stage ZIP's pedimento
        names = found(typed)
        assert names and all(name.startswith("1839483.zip") for name in names), (typed, names)
    company = found("maquiladora ejemplo")
    assert any(n.startswith("m3456077.245") for n in company) and any(n.startswith("1839483.zip") for n in company)
    assert all(n.startswith("m3456077.245") for n in found("MP-0001-002")) and found("MP-0001-002")
    amount = gen.sample_pedimento(1, 3).invoices[0].value_usd
    assert all(n.startswith("m3456077.245") for n in found(f"{amount:,.2f}")) and found(f"{amount:,.2f}")
    assert found("3456-6000009") == []
    page.context.close()


def _arrive_at(server, filename: str, stamp: str) -> None:
    from tests.web_fixtures import _store

    store = _store(server.config)
    try:
        with store.transaction():
            store._db.execute("UPDATE documents SET received_at = ? WHERE filename = ?", (stamp, filename))
    finally:
        store.close()


def test_times_are_local_labelled_and_days_are_local_days(web_server, log_in):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    plant = ZoneInfo("America/Mexico_City")
    evening = datetime.combine(datetime.now(plant).date() - timedelta(days=2), time(21, 30), plant)
    stamp = evening.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the next day in UTC
    arrived = web_server.doc("tarde.xml")["received_at"]
    _arrive_at(web_server, "tarde.xml", stamp)
    try:
        _local_days(web_server, log_in, evening, stamp)
    finally:  # other tests count today's documents
        _arrive_at(web_server, "tarde.xml", arrived)


def _local_days(web_server, log_in, evening, stamp: str) -> None:
    local_day, utc_day = evening.date().isoformat(), stamp[:10]
    assert local_day != utc_day
    page = log_in("ana")
    assert "America/Mexico City" in page.inner_text("#tz-note")
    assert "hora local" in page.inner_text("#queue-table thead")

    def shown(day: str) -> list[str]:
        page.goto(f"/queue?from={day}&to={day}&q=tarde")
        return page.locator("a.doc-link").all_inner_texts()

    assert shown(local_day) == ["tarde.xml"] and shown(utc_day) == []
    row = page.goto(f"/queue?from={local_day}&to={local_day}&q=tarde") and page.locator("#queue-table tbody tr")
    assert row.locator("time").inner_text() == evening.strftime("%d/%m/%Y 21:30")
    assert row.locator("time").get_attribute("datetime") == stamp
    row.locator("a.doc-link").click()
    assert page.inner_text("#doc-received").startswith(evening.strftime("%d/%m/%Y 21:30"))
    assert "T" not in page.inner_text("#audit tbody") and "Z" not in page.inner_text("#audit tbody")
    page.goto("/overview?days=7")
    assert local_day in page.inner_text("#by-day")
    page.context.close()


_ENGLISH = re.compile(r"\b(rejected|forwarded|pending|intake|validate|operator|viewer|Premature|end of data|tag|"
                      r"line|expected|not found|mismatch)\b|--[a-z]|validation\.|\d{4}-\d\d-\d\dT|\.\d{6}")


def _words_outside_the_file(page) -> str:
    """What the page says, without the original file, the canonical record and the technical ids."""
    return page.evaluate("""() => { const c = document.body.cloneNode(true);
        c.querySelectorAll('#original, #record, code, .xpath').forEach((e) => e.remove());
        return c.innerText; }""")


def test_the_page_speaks_spanish_and_explains_each_finding_code(web_server, log_in):
    page = log_in("ana")
    for name in ("roto.xml", "total-alterado.xml", "vacio.xml"):
        page.goto(f"/documents/{web_server.doc(name)['id']}")
        text = _words_outside_the_file(page)
        assert not _ENGLISH.search(text), (name, _ENGLISH.search(text))
    page.goto(f"/documents/{web_server.doc('roto.xml')['id']}")
    assert "bien formado" in page.inner_text("#findings")
    explanation = page.locator("#findings details.explain").first
    assert not explanation.locator(".explanation").is_visible()
    explanation.locator("summary").click()  # one click
    assert "XML está roto" in explanation.locator(".explanation").inner_text()
    page.goto("/queue")
    assert not _ENGLISH.search(_words_outside_the_file(page))
    assert "XML" in page.get_attribute('#code-counts [data-code="XML-MALFORMED"]', "title")
    page.click("#lang-switch")
    page.goto(f"/documents/{web_server.doc('roto.xml')['id']}")
    page.locator("#findings details.explain summary").first.click()
    assert page.locator("#findings .explanation").first.inner_text() == "not well-formed XML"
    page.context.close()


def test_usable_on_a_390_px_phone(browser, web_server):
    from tests.web_fixtures import PASSWORDS

    context = browser.new_context(base_url=web_server.url, locale="es-MX", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/queue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#username", "ana")
    page.fill("#password", PASSWORDS["ana"])
    page.click("#login-submit")
    page.wait_for_url("**/queue")
    for path in ("/queue", f"/documents/{web_server.doc('total-alterado.xml')['id']}",
                 f"/documents/{web_server.doc('roto.xml')['id']}", "/overview", "/queue?q=lote-"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    page.goto("/queue")
    link = page.locator("a.doc-link").first
    box = link.bounding_box()
    assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen, no sideways scroll
    link.click()
    page.wait_for_selector("#findings")
    assert page.locator("#doc-state").is_visible()
    context.close()


def test_keyboard_reaches_search_at_once_and_every_control_has_a_name(web_server, log_in):
    page = log_in("ana")
    page.goto("/queue")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-search"
    assert page.locator("#skip-search").is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.keyboard.type("lote-")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=lote-**")
    assert sorted(page.locator("a.doc-link").all_inner_texts()) == ["lote-1.xml", "lote-2.xml"]
    unnamed = page.evaluate("""() => Array.from(document.querySelectorAll('input, select, button'))
        .filter((e) => e.type !== 'hidden' && !e.getAttribute('aria-label') && !e.closest('label')
                 && !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.textContent.trim())
        .map((e) => e.outerHTML)""")
    assert unnamed == []
    assert page.get_by_role("checkbox", name="Seleccionar lote-1.xml").count() == 1
    page.goto(f"/documents/{web_server.doc('total-alterado.xml')['id']}")
    assert page.get_by_label("Archivo corregido").get_attribute("type") == "file"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # from any page: to the queue, in the search box
    page.wait_for_url("**/queue#f-q")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-q'")
    page.context.close()


def test_export_the_current_view_to_csv_and_xlsx_and_read_them_back(web_server, log_in, tmp_path):
    import csv
    import io

    from openpyxl import load_workbook

    page = log_in("ana")
    page.goto("/queue?q=lote-&sort=-filename")
    shown = page.locator("a.doc-link").all_inner_texts()
    assert shown == ["lote-2.xml", "lote-1.xml"]
    with page.expect_download() as download:
        page.click("#export-csv")
    data = (tmp_path / "cola.csv")
    download.value.save_as(data)
    assert download.value.suggested_filename.endswith(".csv")
    raw = data.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the accents
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Recibido (hora local)", "Tipo", "Origen", "Archivo"]
    assert [r[3] for r in rows[1:]] == shown and all(r[6] == "rechazado" for r in rows[1:])
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", r[0]) for r in rows[1:])
    with page.expect_download() as download:
        page.click("#export-xlsx")
    book = tmp_path / "cola.xlsx"
    download.value.save_as(book)
    sheet = load_workbook(book).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][3] == "Archivo" and [v[3] for v in values[1:]] == shown
    assert values[1][0].year >= 2026 and values[1][5] >= 1 and values[1][8] == rows[1][8]
    page.context.close()


def test_sort_by_column_and_keep_filters_when_switching_language(web_server, log_in):
    page = log_in("ana")
    page.goto("/queue?q=lote-")
    page.click("#sort-filename")
    assert page.locator("a.doc-link").all_inner_texts() == ["lote-1.xml", "lote-2.xml"]
    assert page.get_attribute("th:has(#sort-filename)", "aria-sort") == "ascending"
    page.click("#sort-filename")
    assert page.locator("a.doc-link").all_inner_texts() == ["lote-2.xml", "lote-1.xml"]
    assert page.get_attribute("th:has(#sort-filename)", "aria-sort") == "descending"
    page.click("#lang-switch")
    assert page.inner_text("h1").startswith("Rejected queue")
    assert "q=lote-" in page.url and "sort=-filename" in page.url
    assert page.locator("a.doc-link").all_inner_texts() == ["lote-2.xml", "lote-1.xml"]
    assert page.input_value("#f-q") == "lote-"
    page.click("#lang-switch")
    page.context.close()


def test_a_note_and_an_assignment_are_kept_and_audited(web_server, log_in):
    doc = web_server.doc("vacio.xml")
    page = log_in("ana")
    page.goto(f"/documents/{doc['id']}")
    page.fill("#note-text", "Llamé al agente aduanal; reenvía el archivo mañana.")
    page.click("#add-note")
    page.wait_for_selector("#flash")
    assert "reenvía el archivo mañana" in page.inner_text("#notes")
    page.select_option("#assign-user", "adela")
    page.click("#assign")
    page.wait_for_selector("#flash")
    assert "adela" in page.inner_text("#assignee")
    trail = {row.get_attribute("data-action"): row.inner_text() for row in page.locator("#audit tr.audit-row").all()}
    assert "web:ana" in trail["note"] and "reenvía" in trail["note"] and "web:ana" in trail["assign"]
    history = web_server.api("GET", f"/documents/{doc['id']}", token=web_server.tokens["victor"])[1]["audit"]
    assert [a["detail"] for a in history if a["action"] == "assign"] == [{"to": "adela"}]
    page.goto("/queue?q=vacio")
    assert page.locator("#queue-table td.assignee").all_inner_texts() == ["adela"]
    page.context.close()
    viewer = log_in("victor")
    viewer.goto(f"/documents/{doc['id']}")
    assert viewer.locator("#note-form").count() == 0 and "reenvía" in viewer.inner_text("#notes")
    token = viewer.get_attribute('meta[name="csrf-token"]', "content")
    refused = viewer.request.post(f"/documents/{doc['id']}/note", form={"csrf_token": token, "note": "no"})
    assert refused.status == 403
    viewer.context.close()


def test_a_discard_is_undone_back_to_the_queue_and_audited(web_server, log_in):
    doc = web_server.doc("deshacer.xml")
    page = log_in("ana")
    page.goto(f"/documents/{doc['id']}")
    page.fill("#discard-reason", "descartado por error")
    page.click("#discard")
    page.wait_for_selector("#undo-discard")
    assert page.get_attribute("#doc-state", "data-state") == "discarded"
    page.fill("#undo-reason", "era la factura correcta")
    page.click("#undo-discard")
    page.wait_for_selector("#flash")
    assert page.get_attribute("#doc-state", "data-state") == "rejected"
    assert "volvió a la cola" in page.inner_text("#flash")
    row = page.locator('#audit tr[data-action="undo-discard"]')
    assert "web:ana" in row.inner_text() and "era la factura correcta" in row.inner_text()
    assert "descartado → rechazado" in row.inner_text()
    assert page.locator("#discard-form").count() == 1  # in the queue again, with its actions
    page.goto("/queue?q=deshacer")
    assert page.locator("a.doc-link").all_inner_texts() == ["deshacer.xml"]
    page.context.close()


def test_the_overview_charts_its_counts_for_the_days_chosen(web_server, log_in):
    page = log_in("ana")
    page.goto("/overview")
    assert "Últimos 7 días" in page.inner_text("h1")
    page.select_option("#days", "14")
    page.click("#days-apply")
    page.wait_for_url("**days=14**")
    assert "Últimos 14 días" in page.inner_text("h1")
    for section in ("#by-day", "#by-kind", "#by-source"):
        rows = page.locator(f"{section} tbody tr")
        assert rows.count() >= 1 and page.locator(f"{section} tbody svg.bar").count() == rows.count()
    rejected = page.locator("#by-source svg.bar rect.st-rejected").first
    assert rejected.locator("title").text_content().startswith("rechazado: ")
    assert float(rejected.get_attribute("width")) > 0
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
    assert "consulta" in page.inner_text("#read-only") and "viewer" not in page.inner_text("#read-only")
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
    assert "2 seleccionado" in page.inner_text("#bulk-count")
    page.evaluate("window.sameDocument = true")
    page.click("#bulk-retry")
    expect(page.locator("#bulk-list li")).to_have_count(2)
    items = page.locator("#bulk-list li").all_inner_texts()
    assert sorted(items) == ["lote-1.xml: rechazado", "lote-2.xml: rechazado"], items
    assert "2 siguen rechazados" in page.inner_text("#bulk-result")
    assert page.get_attribute("#bulk-result", "aria-live") == "polite"
    page.wait_for_timeout(2500)  # the old page reloaded itself after 1.2 s, taking the result away
    assert page.evaluate("window.sameDocument") is True and page.locator("#bulk-list li").count() == 2
    page.click("#bulk-reload")  # the list refreshed: the result is still there until closed
    page.wait_for_load_state()
    assert page.evaluate("window.sameDocument") is None and page.locator("#bulk-list li").count() == 2
    page.click("#bulk-close")
    assert page.locator("#bulk-list").count() == 0
    page.reload()
    assert page.locator("#bulk-list").count() == 0
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
    assert page.get_attribute("#health-status", "data-status") == "ok"
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
    assert "nuevo.operador" in page.inner_text("#users") and "consulta" in page.inner_text("#users")
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
