"""The parts of the web page that need no server: source view, search keys, passwords, limits, queue SQL."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from gateway.findings import error, warning
from gateway.store import SqliteStore
from gateway.store.base import Document, now
from gateway.store.web_queries import QueueFilter
from gateway.web import auth, search, source_view
from gateway.web.i18n import _LABELS, label


def test_source_view_marks_the_lines_findings_point_at():
    data = b"<a>\n  <b x='1'/>\n  <c/>\n</a>\n"
    view = source_view.render(data, [warning("W", "w", line=2), error("E", "e", line=2), error("R", "e", row=3),
                                      error("X", "beyond the end", line=99), error("N", "no line")])
    marked = {ln.number: (ln.severity, ln.codes) for ln in view.lines if ln.severity}
    assert marked == {2: ("error", ["W", "E"]), 3: ("error", ["R"])}
    assert [ln.text for ln in view.lines] == ["<a>", "  <b x='1'/>", "  <c/>", "</a>"]
    assert view.encoding == "UTF-8" and not view.partial


def test_source_view_marks_the_attribute_a_finding_points_at_within_its_line():
    data = b'<?xml version="1.0"?>\n<cfdi:Comprobante SubTotal="100.00" Total="9116.00" xsi:Sello=\'AB==\'/>\n'
    view = source_view.render(data, [
        error("CFDI-TOTALS", "t", line=2, xpath="/cfdi:Comprobante/@Total"),
        warning("W", "w", line=2, xpath="/cfdi:Comprobante/@Total"),
        error("CFDI-SEAL", "s", line=2, xpath="/cfdi:Comprobante/@xsi:Sello"),
        error("X", "attribute not on the line", line=2, xpath="/cfdi:Comprobante/@Moneda")])
    line = view.lines[1]
    assert "".join(p.text for p in line.parts) == line.text  # nothing lost or repeated
    marked = [(p.attribute, p.text, p.severity, p.codes) for p in line.parts if p.attribute]
    assert marked == [("Total", 'Total="9116.00"', "error", ["CFDI-TOTALS", "W"]),
                      ("xsi:Sello", "xsi:Sello='AB=='", "error", ["CFDI-SEAL"])]
    assert [p.attribute for p in view.lines[0].parts] == [None]  # SubTotal is not taken for Total
    assert source_view.finding_attribute(error("E", "e", xpath="/a/b[2]/@Rfc")) == "Rfc"
    assert source_view.finding_attribute(error("E", "e", xpath="/a/b[2]")) is None


def test_source_view_of_a_large_file_keeps_the_head_and_a_window_around_each_mark():
    data = "\n".join(f"501|{n}|A1" for n in range(1, 20001)).encode()
    view = source_view.render(data, [error("PED-LAYOUT", "m", line=15000)])
    numbers = [ln.number for ln in view.lines]
    assert view.partial and view.total_lines == 20000
    assert numbers[:source_view.HEAD_LINES] == list(range(1, source_view.HEAD_LINES + 1))
    assert 15000 in numbers and len(numbers) == source_view.HEAD_LINES + 2 * source_view.CONTEXT + 1
    assert next(ln for ln in view.lines if ln.number == 15000 - source_view.CONTEXT).gap_before


def test_source_view_decodes_utf16_and_windows_1252_and_refuses_binary():
    assert source_view.render("<a>ñ</a>".encode("utf-16"), []).lines[0].text == "<a>ñ</a>"
    latin = source_view.render("PEÑA|1".encode("cp1252"), [])
    assert latin.encoding == "Windows-1252" and latin.lines[0].text == "PEÑA|1"
    assert source_view.render(b"PK\x03\x04\x00\x00", []).binary
    long_line = source_view.render(b"<a " + b"x" * 15000 + b"/>", []).lines[0]
    assert long_line.cut and len(long_line.text) == source_view.MAX_LINE_CHARS


def test_search_keys_find_uuid_rfc_and_pedimento_numbers():
    data = ('<tfd:TimbreFiscalDigital UUID="6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"/>'
            '<cfdi:Emisor Rfc="EKU9003173C9"/><cfdi:Receptor Rfc="PEÑA800101AB1"/>\n'
            "500|1|3459|47|26 47 3459 6000123|\n501|26-47-3459-6000124|\n").encode()
    keys = search.keys_of(data, business_key="CLAVE-1")
    assert keys[:2] == ["CLAVE-1", "6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B"]
    assert search.keys_of(b"", filename="Lote-7 factura.xml") == ["LOTE-7 FACTURA.XML", "LOTE", "FACTURA", "XML"]
    assert {"EKU9003173C9", "PEÑA800101AB1", "264734596000123", "264734596000124"} <= set(keys)
    assert search.keys_of(b"12345678901234567890") == []  # a 20-digit certificate number is no pedimento


def test_search_keys_of_m_file_and_data_stage_pedimentos_names_parts_and_amounts():
    from gateway.demo.generate import pedimento as gen
    from gateway.kinds.pedimento import datastage
    from gateway.store.web_queries import search_term

    pedimento = gen.sample_pedimento(1, 2)  # 3456 6000001, aduana 240, paid 2026-08-20
    _, mfile = gen.mfile([pedimento])
    keys = set(search.keys_of(mfile))
    assert {"262434566000001", "34566000001", "6000001"} <= keys
    invoice_value = f"{pedimento.invoices[0].value_usd:.2f}"
    assert {"MAQUILADORA EJEMPLO SA DE CV", "MAQUILADORA", "MP-0001-001", invoice_value} <= keys
    files = gen.datastage_files([gen.sample_pedimento(3, 1, patente="3457", payment_date=date(2025, 3, 1))])
    loose = next(data for name, data in files.items() if name.endswith("_501.asc"))
    assert "252434575000003" in search.keys_of(loose)
    part = next(datastage.split_set(gen.datastage_zip([gen.sample_pedimento(4, 1)]), "1.zip", [], {}, None))[0]
    assert {"262434566000004", "34566000004"} <= set(search.keys_of(part))
    # no date in the file: the most recent year ending in the number's first digit
    assert search.pedimento_keys(b"501|3456|5000007|470|", this_year=2026)[0] == "254734565000007"
    assert search.pedimento_keys(b"501|3456|7000007|470|", this_year=2026)[0] == "274734567000007"
    for typed, stored in (("26 24 3456 6000001", "262434566000001"), ("3456-6000001", "34566000001"),
                          ("$1,500.00", "1500.00"), ("1,500", "1500"), ("maquiladora  ejemplo", "MAQUILADORA EJEMPLO")):
        assert search_term(typed) == stored
    assert search.amount_key("1250.500") == "1250.50" and search.amount_key("17.12340") == "17.1234"
    cfdi = (b'<cfdi:Comprobante Total="12500.5"><cfdi:Emisor Rfc="EKU9003173C9" Nombre="Escuela Kemper Urgate"/>'
            b'<cfdi:Concepto NoIdentificacion="ARN-12C" Importe="12500.50"/></cfdi:Comprobante>')
    assert {"ESCUELA KEMPER URGATE", "KEMPER", "ARN-12C", "12500.50"} <= set(search.keys_of(cfdi))


def test_every_finding_code_has_a_plain_explanation_in_both_languages():
    from gateway.findings import CODES
    from gateway.web.wording import explain

    for code, english in CODES.items():
        spanish = explain(code, "es")
        assert spanish and spanish != english and explain(code, "en") == english, code
        assert not re.search(r"\b(the|is|are|not)\b", spanish), (code, spanish)  # no English left in the Spanish


def test_machine_language_in_messages_is_said_in_spanish_and_amounts_get_separators():
    from gateway.web.i18n import state_label
    from gateway.web.wording import for_operator

    def said(text: str) -> str:
        return for_operator(text, "es", lambda s: state_label("es", s))

    assert said("El XML no está bien formado: Premature end of data in tag Emisor line 2, line 3, column 1") == (
        "El XML no está bien formado: el archivo termina antes de cerrar la etiqueta Emisor (abierta en la línea 2); "
        "parece cortado, línea 3, columna 1")
    assert said("El XML no está bien formado: AttValue: ' expected, line 2, column 862") == (
        "El XML no está bien formado: falta la comilla de un valor de atributo (el archivo puede estar cortado), "
        "línea 2, columna 862")
    assert said("El XML no está bien formado: Opening and ending tag mismatch: a line 1 and b") == (
        "El XML no está bien formado: la etiqueta a (línea 1) se cierra como b")
    assert said("Para descartar un documento hay que indicar el motivo (--reason).") == (
        "Para descartar un documento hay que indicar el motivo.")
    assert "validation." not in said("No se verificaron reglas: CFDI40145 (falta validation.sat_rfc_list).")
    assert said("El documento X está en estado 'forwarded', no en la cola.") == (
        "El documento X está en estado «entregado», no en la cola.")
    assert said("El Total declarado es 1234567.50, pero da 1234.5; fracción 85443099, pedimento 6000001.") == (
        "El Total declarado es 1,234,567.50, pero da 1,234.5; fracción 85443099, pedimento 6000001.")


def test_passwords_are_scrypt_hashed_and_verified():
    stored = auth.hash_password("correcta-y-larga")
    assert stored.startswith("scrypt$") and "correcta" not in stored
    assert auth.verify_password("correcta-y-larga", stored)
    assert not auth.verify_password("incorrecta-larga", stored)
    assert not auth.verify_password("x", "md5$abc")
    assert auth.hash_password("correcta-y-larga") != stored  # salted


def test_login_limiter_delays_one_user_from_one_client_with_growing_waits():
    limiter = auth.LoginLimiter(free=2, window=3600)
    limiter.failed("ana", "10.0.0.1")
    assert limiter.retry_after("ana", "10.0.0.1") == 0
    limiter.failed("Ana", "10.0.0.1")  # the name as typed in another case is the same user
    assert limiter.retry_after("ana", "10.0.0.1") > 0
    assert limiter.retry_after("ana", "10.0.0.2") == 0  # the real user, elsewhere, is not locked out
    assert limiter.retry_after("luz", "10.0.0.1") == 0
    assert [limiter.delay(n) for n in (2, 3, 4, 5)] == [1, 2, 4, 8]  # each further failure doubles the wait
    assert limiter.delay(40) == 3600  # at most the window
    assert auth.LoginLimiter(free=2, window=3600, first=600).delay(3) == 1200  # [web] login_delay: the first wait
    limiter.succeeded("ana", "10.0.0.1")
    assert limiter.retry_after("ana", "10.0.0.1") == 0


def test_passwords_need_twelve_characters_and_not_a_common_one():
    with pytest.raises(auth.UserError, match="al menos 12"):
        auth.check_password("aduana-2026")
    for common in ("password1234", "QWERTY123456", "contraseña123", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(auth.UserError, match="comunes"):
            auth.check_password(common)
    auth.check_password("tres-perros-en-la-aduana")



def test_roles_are_ordered():
    user = auth.User("x", "operator", "", False, "", "")
    assert auth.has_role(user, "viewer") and auth.has_role(user, "operator") and not auth.has_role(user, "admin")
    with pytest.raises(auth.UserError):
        auth.check_name("con espacio")
    with pytest.raises(auth.UserError):
        auth.check_role("root")


def test_every_label_used_by_the_templates_exists_in_both_languages():
    templates = Path(__file__).resolve().parents[1] / "gateway" / "web" / "templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_-]+)'", path.read_text(encoding="utf-8")))
    assert used and used <= set(_LABELS)
    assert label("es", "queue") == "Cola de rechazados" and label("en", "queue") == "Rejected queue"


def _doc(store: SqliteStore, n: int, kind: str, source: str, received_at: str, code: str, **fields) -> str:
    doc = Document(id=f"D{n:04d}", kind=kind, declared_kind="auto", state="received", source_name=source,
                   filename=f"f{n}.xml", sha256=f"{n:064x}", size=1, received_at=received_at, updated_at=now(),
                   source_acked_at=now(), **fields)
    store.insert_document(doc, "test", "intake")
    store.add_findings(doc.id, [error(code, f"mensaje {code}")])
    store.set_state(doc.id, "rejected", "test", "validate")
    return doc.id


def test_queue_queries_filter_page_and_count(tmp_path):
    store = SqliteStore(tmp_path / "gateway.db")
    try:
        for n in range(30):
            _doc(store, n, "cfdi" if n % 3 else "pedimento", "sftp" if n % 2 else "folder",
                 f"2026-11-{1 + n % 10:02d}T10:00:{n:02d}.000000Z", "XSD" if n % 5 else "CFDI-SEAL")
        replacement = _doc(store, 99, "cfdi", "folder", "2026-11-20T00:00:00.000000Z", "XSD", replaces_id="D0001")
        from gateway.archive import Archive

        assert search.index_pending(store, Archive(tmp_path / "archive")) == 31  # no blobs: file names only
        everything = QueueFilter()
        assert store.queue_count(everything) == 31
        page1, page2 = store.queue_page(everything, 10, 0), store.queue_page(everything, 10, 10)
        ordered = [(d.received_at, d.id) for d in page1 + page2]
        assert ordered == sorted(ordered, reverse=True) and len(set(ordered)) == 20
        assert dict(store.queue_code_counts(everything)) == {"XSD": 25, "CFDI-SEAL": 6}
        seal = QueueFilter(code="CFDI-SEAL")
        assert store.queue_count(seal) == 6
        assert dict(store.queue_code_counts(seal)) == {"XSD": 25, "CFDI-SEAL": 6}  # counts ignore the code filter
        assert store.queue_count(QueueFilter(kind="pedimento", source="folder")) == 5
        assert store.queue_count(QueueFilter(date_from=date(2026, 11, 10), date_to=date(2026, 11, 10))) == 3
        assert store.queue_count(QueueFilter(text="f2")) == 11  # f2, f20…f29 (file names start with it)
        assert store.queue_count(QueueFilter(text="D0003")) == 1  # a document id
        store.save_search_keys([("D0007", ["264734596000123", "EKU9003173C9"])])
        assert [d.id for d in store.queue_page(QueueFilter(text="26 47 3459 6000123"), 5)] == ["D0007"]
        assert [d.id for d in store.queue_page(QueueFilter(text="eku9003173c9"), 5)] == ["D0007"]
        assert [d.id for d in store.queue_page(QueueFilter(text="26 47 3459"), 5)] == ["D0007"]  # a leading part
        assert store.queue_count(QueueFilter(text="100%_")) == 0  # LIKE wildcards are literal
        links = {(role, d.id) for role, d in store.linked_documents(store.get("D0001"))}
        assert links == {("replaced-by", replacement)}
        assert {(r, d.id) for r, d in store.linked_documents(store.get(replacement))} == {("replaces", "D0001")}
        assert store.queue_facets() == {"kinds": ["cfdi", "pedimento"], "sources": ["folder", "sftp"]}
    finally:
        store.close()


def test_search_keys_are_read_once_from_the_archive(tmp_path):
    from gateway.archive import Archive

    store, archive = SqliteStore(tmp_path / "gateway.db"), Archive(tmp_path / "archive")
    try:
        sha, size = archive.put_bytes(b'<x Rfc="EKU9003173C9"/>')
        store.insert_document(Document(id="A", kind=None, declared_kind="auto", state="rejected",
                                       source_name="s", filename="a.xml", sha256=sha, size=size,
                                       received_at=now(), updated_at=now()), "t", "intake")
        store.insert_document(Document(id="B", kind=None, declared_kind="auto", state="rejected",
                                       source_name="s", filename="b.xml", sha256="0" * 64, size=1,
                                       received_at=now(), updated_at=now()), "t", "intake")  # blob missing
        assert search.index_pending(store, archive) == 2
        assert search.index_pending(store, archive) == 0
        assert [d.id for d in store.queue_page(QueueFilter(text="EKU9003173C9"), 5)] == ["A"]
    finally:
        store.close()


def test_web_settings_name_the_wrong_key(tmp_path):
    from gateway.config import ConfigError, from_dict
    from gateway.web.settings import secret_key, web_settings

    settings = from_dict({"gateway": {"data_dir": "var"}, "web": {"port": 9000, "session_max_age": "2h"}}, tmp_path)
    web = web_settings(settings)
    assert (web.port, web.session_max_age, web.host) == (9000, 7200.0, "127.0.0.1")
    assert web.timezone == "America/Mexico_City"
    assert web_settings(from_dict({"web": {"timezone": "America/Tijuana"}}, tmp_path)).timezone == "America/Tijuana"
    key = secret_key(settings, web)
    assert len(key) >= 32 and secret_key(settings, web) == key  # made once, kept
    assert (tmp_path / "var" / "web-secret-key").stat().st_mode & 0o777 == 0o600
    for bad, where in (({"port": 0}, "web.port"), ({"colour": "x"}, "web.colour"),
                       ({"cookie_secure": "yes"}, "web.cookie_secure"),
                       ({"cookie_secure": False, "host": "0.0.0.0"}, "web.cookie_secure"),
                       ({"trusted_proxies": ["proxy.local"]}, "web.trusted_proxies"),
                       ({"timezone": "Monterrey"}, "web.timezone"), ({"timezone": 6}, "web.timezone")):
        with pytest.raises(ConfigError, match=where):
            web_settings(from_dict({"web": bad}, tmp_path))


def test_local_time_shows_and_bounds_the_plant_s_days():
    from gateway.web.localtime import LocalTime

    clock = LocalTime("America/Mexico_City")  # UTC−6 all year since 2022
    assert clock.show("2026-12-03T13:14:05.123456Z") == "03/12/2026 07:14"
    assert clock.show("2026-12-04T03:30:00.000000Z", seconds=True) == "03/12/2026 21:30:00"
    assert clock.show(None) == "—" and clock.show("not a time") == "—"
    assert clock.day_start(date(2026, 12, 3)) == "2026-12-03T06:00:00.000000Z"
    assert clock.day_of("2026-12-04T03") == "2026-12-03" and clock.day_of("2026-12-04T06") == "2026-12-04"
    assert clock.label() == "America/Mexico City (UTC−06:00)"


def test_cached_counts_follow_every_change_of_the_store(tmp_path):
    from types import SimpleNamespace

    from gateway.web.views import AggregateCache, queue

    store = SqliteStore(tmp_path / "gateway.db")
    try:
        gw, cache = SimpleNamespace(store=store), AggregateCache()
        _doc(store, 1, "cfdi", "folder", "2026-11-01T00:00:00.000000Z", "XSD")
        assert queue(gw, {}, 10, cache)["code_counts"] == [{"code": "XSD", "documents": 1}]
        _doc(store, 2, "cfdi", "sftp", "2026-11-02T00:00:00.000000Z", "XSD")
        again = queue(gw, {}, 10, cache)
        assert again["code_counts"] == [{"code": "XSD", "documents": 2}]
        assert again["facets"]["sources"] == ["folder", "sftp"]
        store.set_state("D0001", "discarded", "test", "discard", reason="x")
        assert queue(gw, {}, 10, cache)["code_counts"] == [{"code": "XSD", "documents": 1}]
    finally:
        store.close()


def test_linked_documents_include_links_by_business_key_and_correlation(tmp_path):
    from gateway.store import SqliteStore
    from gateway.store.base import Document, now

    store = SqliteStore(tmp_path / "links.db")
    try:
        def doc(id_: str, kind: str) -> Document:
            stamp = now()
            return Document(id=id_, kind=kind, declared_kind="auto", state="rejected", source_name="s",
                            filename=f"{id_}.txt", sha256=id_ * 8, size=1, received_at=stamp, updated_at=stamp)

        for id_, kind in (("PED", "pedimento"), ("OLD", "pedimento"), ("COVE", "cove")):
            store.insert_document(doc(id_, kind), "test", "intake")
        store.add_link("PED", "OLD", "resend-of")
        store.replace_correlation_links("PED", [("COVE", "cove", "cove", "COVE1234567AB")])
        linked = {(role, other.id) for role, other in store.linked_documents(store.get("PED"))}
    finally:
        store.close()
    assert linked == {("resend-of", "OLD"), ("cove", "COVE")}


def test_queue_sort_accepts_only_known_columns():
    from gateway.store.web_queries import order_by

    assert order_by(None) == order_by("-received") == "d.received_at DESC, d.id DESC"
    assert order_by("filename") == "d.filename ASC, d.id ASC"
    assert order_by("-findings") == "d.error_count DESC, d.id DESC"
    assert order_by("id; DROP TABLE documents") == order_by(None)  # never pasted into the SQL


def test_messages_link_the_documents_they_name_and_stay_escaped():
    from gateway.web.pages import linkify

    html = linkify("Pedimento 26 24 3456 6000001 y COVE COVE260000500: <script>alert(1)</script>",
                   {"COVE260000500": "01ABC", "X": "02DEF"})
    assert '<a class="doc-ref" href="/documents/01ABC">COVE260000500</a>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/documents/02DEF"' not in html  # too short a key to look for in a sentence


def test_a_cross_document_message_splits_into_the_pedimento_side_and_the_other():
    from gateway.web.groups import sides

    left, right, rest = sides("Pedimento 26  24  3456  6000001 (505 factura 1) y COVE COVE260000100: valor en "
                              "dólares en el pedimento (505.7) 1010.00, suma de valorDolares del COVE 1000.00: "
                              "diferencia 10.00 (tolerancia 1.00).")
    assert left == "valor en dólares en el pedimento (505.7) 1010.00"
    assert right == "suma de valorDolares del COVE 1000.00"
    assert rest == "diferencia 10.00 (tolerancia 1.00)."
    assert sides("Pedimento X y COVE Y: el pedimento es de importación (501.5 = 1) y el COVE dice TOCE.EXP.") == (
        None, None, None)


def test_exports_hold_the_rows_with_local_times_and_words(tmp_path):
    import csv
    import io

    from openpyxl import load_workbook

    from gateway.web import export
    from gateway.web.localtime import LocalTime

    rows = [{"id": "01A", "received_at": "2026-12-04T03:30:00.000000Z", "kind": "cfdi", "source": "s",
             "filename": "a.xml", "first_error": "El Total es 12345.50.", "finding_count": 2, "state": "rejected",
             "assigned_to": "ana"}]
    clock = LocalTime("America/Mexico_City")
    text = export.to_csv(rows, "es", clock).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "Recibido (hora local)" and table[1][:2] == ["03/12/2026 21:30:00", "cfdi"]
    assert table[1][4:] == ["El Total es 12,345.50.", "2", "rechazado", "ana", "01A"]
    path = tmp_path / "cola.xlsx"
    path.write_bytes(export.to_xlsx(rows, "en", clock))
    sheet = load_workbook(path).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Received (local time)" and row[0].hour == 21 and row[6] == "rejected" and row[5] == 2
