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
    key = secret_key(settings, web)
    assert len(key) >= 32 and secret_key(settings, web) == key  # made once, kept
    assert (tmp_path / "var" / "web-secret-key").stat().st_mode & 0o777 == 0o600
    for bad, where in (({"port": 0}, "web.port"), ({"colour": "x"}, "web.colour"),
                       ({"cookie_secure": "yes"}, "web.cookie_secure"),
                       ({"cookie_secure": False, "host": "0.0.0.0"}, "web.cookie_secure"),
                       ({"trusted_proxies": ["proxy.local"]}, "web.trusted_proxies")):
        with pytest.raises(ConfigError, match=where):
            web_settings(from_dict({"web": bad}, tmp_path))


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
