"""The cadena original walked in Python (gateway/kinds/cfdi/cadena.py) against SAT's XSLT run by libxslt, the
path it replaced: the same string for every CFDI of the shared samples and of a generated corpus (sealed
export invoices, edited before sealing and after it), and the same findings from ``CfdiKind.check`` with seals.

"The same findings" compares the whole check (XSD, rules, SAT matrix, both seals, the canonical record) with
the plan switched off, so a cadena that differs in one character shows up as a seal verdict that changes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import SAMPLES, require_samples

CFDI4 = "http://www.sat.gob.mx/cfd/4"
TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"


def _sample_files() -> list[Path]:
    require_samples()
    return sorted(p for folder in ("cfdi", "external-cfdi") for p in (SAMPLES / folder).rglob("*")
                  if p.is_file() and p.suffix.lower() == ".xml")


def _root(data: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None


def _c(tag: str) -> str:
    return f"{{{CFDI4}}}{tag}"


def _before_sealing() -> list[Callable[[etree._Element], None]]:
    """Edits made before the seal: each invoice stays correctly sealed, its cadena takes unusual paths."""

    def spaces(root: etree._Element) -> None:
        emisor = root.find(_c("Emisor"))
        assert emisor is not None
        emisor.set("Nombre", "  ESCUELA \t KEMPER\n  URGATE  ")
        root.set("Serie", "")  # an Opcional present but empty: "|" and nothing

    def related(root: etree._Element) -> None:
        rel = etree.Element(_c("CfdiRelacionados"), TipoRelacion="04")
        for uuid in ("5FB2822E-396D-4725-8521-CDC4BDD20CCF", "A39DA66B-52CA-49E3-879B-5C05185B0EF7"):
            etree.SubElement(rel, _c("CfdiRelacionado"), UUID=uuid)
        root.insert(0, rel)

    def parts_and_customs(root: etree._Element) -> None:
        concepto = root.find(f"{_c('Conceptos')}/{_c('Concepto')}")
        assert concepto is not None
        etree.SubElement(concepto, _c("ACuentaTerceros"), RfcACuentaTerceros="EKU9003173C9",
                         NombreACuentaTerceros="TERCERO", RegimenFiscalACuentaTerceros="601",
                         DomicilioFiscalACuentaTerceros="22430")
        etree.SubElement(concepto, _c("InformacionAduanera"), NumeroPedimento="23  47  3807  3000123")
        parte = etree.SubElement(concepto, _c("Parte"), ClaveProdServ="39121100", Cantidad="1",
                                 Descripcion="PIEZA Ñ", Importe="1.00")
        etree.SubElement(parte, _c("InformacionAduanera"), NumeroPedimento="23  47  3807  3000124")

    def no_optionals(root: etree._Element) -> None:
        for name in ("Serie", "Folio", "FormaPago", "MetodoPago", "CondicionesDePago"):
            root.attrib.pop(name, None)

    def a_comment_and_text(root: etree._Element) -> None:
        complemento = root.find(_c("Complemento"))
        assert complemento is not None
        complemento.insert(0, etree.Comment(" nota "))
        unknown = etree.SubElement(complemento, "{urn:ejemplo}Otro", Dato="x")
        unknown.text = " texto  que el XSLT copia "
        etree.SubElement(unknown, "{urn:ejemplo}Hijo").tail = "\tcola\n"

    return [spaces, related, parts_and_customs, no_optionals, a_comment_and_text]


def _after_sealing(data: bytes) -> Iterator[bytes]:
    """Edits of the sealed bytes: seals break, the cadena of both paths must still agree character for character."""
    yield data.replace(b'Moneda="USD"', b'Moneda="&#9;USD&#10; x&#13;"', 1)
    yield data.replace(b'Moneda="USD"', b'Moneda=" USD "', 1)
    yield data.replace(b'Moneda="USD"', b'Moneda="U\xc2\xa0SD"', 1)  # no-break space: not XML whitespace
    yield re.sub(rb'<cfdi:Emisor ', b'<!-- c --><?pi x?><cfdi:Emisor ', data, count=1)
    yield data.replace(b"<cfdi:Complemento>", b"<cfdi:Complemento>texto suelto", 1)


@pytest.fixture(scope="module")
def corpus(make_invoice) -> list[bytes]:
    docs = [make_invoice(seq, n_items=1 + seq % 4) for seq in range(1, 25)]
    docs += [make_invoice(100 + i, mutate=edit) for i, edit in enumerate(_before_sealing())]
    return docs + [edited for data in docs[:6] for edited in _after_sealing(data)]


def _assert_same_cadenas(verifier, data: bytes, label: str) -> bool:
    root = _root(data)
    if root is None:
        return False
    assert verifier.cadena_original(root) == verifier.cadena_original_xslt(root), label
    for tfd in root.iter(TFD):
        assert verifier.cadena_tfd(tfd) == verifier.cadena_tfd_xslt(tfd), label
    return etree.QName(root).namespace == CFDI4


def test_every_sample_has_the_same_cadena_both_ways(verifier):
    checked = sum(_assert_same_cadenas(verifier, p.read_bytes(), str(p)) for p in _sample_files())
    assert checked >= 100  # the shared corpus holds hundreds of CFDI 4.0 files


def test_the_generated_corpus_has_the_same_cadena_both_ways(verifier, corpus):
    for number, data in enumerate(corpus):
        assert _assert_same_cadenas(verifier, data, f"generated #{number}")


def test_the_plan_walks_export_invoices_without_libxslt(verifier, corpus, monkeypatch):
    """The plan covers CFDI 4.0 + Comercio Exterior 2.0 + the timbre: libxslt is not what answers."""
    from gateway.kinds.cfdi.seals import SealVerifier

    def refuse(self, node):  # noqa: ANN001
        raise AssertionError("libxslt was asked")

    monkeypatch.setattr(SealVerifier, "cadena_original_xslt", refuse)
    monkeypatch.setattr(SealVerifier, "cadena_tfd_xslt", refuse)
    root = _root(corpus[0])
    assert root is not None
    assert verifier.cadena_original(root).startswith("||4.0|")


def _findings(kind, files: list[bytes]) -> list[object]:
    out = []
    for data in files:
        result = kind.check(data)
        out.append(([(f.code, f.severity, f.message, f.location, f.sat_code) for f in result.findings],
                    result.record, result.business_key))
    return out


def test_findings_are_the_same_with_libxslt_and_with_the_plan(corpus, identities, tmp_path, monkeypatch):
    from gateway.demo.generate.cfdi import write_certificate
    from gateway.kinds.cfdi.cadena import CadenaPlan, Unsupported
    from gateway.kinds.cfdi.kind import CfdiKind

    write_certificate(identities[1], tmp_path)
    certs = [tmp_path, SAMPLES / "cfdi" / "certs"]
    files = [*corpus, *(p.read_bytes() for p in _sample_files())]
    new = _findings(CfdiKind(certificate_dirs=certs), files)

    def old(self, context):  # noqa: ANN001 - today's path before the plan: libxslt for every document
        raise Unsupported("the plan switched off")

    monkeypatch.setattr(CadenaPlan, "run", old)
    before = _findings(CfdiKind(certificate_dirs=certs), files)
    assert len(new) == len(files) and new == before
    assert any(code == "CFDI-SEAL" for findings, _, _ in new for code, *_ in findings)  # seals were judged


_SHEET = """<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:a="urn:a" version="1.0">
<xsl:output method="text"/>{extra}
<xsl:template name="Requerido"><xsl:param name="valor"/>|<xsl:value-of select="normalize-space(string($valor))"/>
</xsl:template>
<xsl:template match="/">|<xsl:apply-templates select="/a:R"/>||</xsl:template>
<xsl:template match="a:R"><xsl:call-template name="Requerido"><xsl:with-param name="valor" select="./@X"/>
</xsl:call-template><xsl:for-each select="./a:C"><xsl:apply-templates select="."/></xsl:for-each></xsl:template>
<xsl:template match="a:C">{body}</xsl:template>
</xsl:stylesheet>"""


@pytest.mark.parametrize(("extra", "body", "readable"), [
    ("", '<xsl:call-template name="Requerido"><xsl:with-param name="valor" select="./@Y"/></xsl:call-template>',
     True),
    ("", '<xsl:choose><xsl:when test="@Y">|<xsl:value-of select="@Y"/></xsl:when></xsl:choose>', False),
    ("", '<xsl:value-of select="@Y"/>', False),
    ('<xsl:strip-space elements="*"/>', "", False),
])
def test_a_stylesheet_outside_the_plan_goes_to_libxslt(tmp_path, extra, body, readable):
    from gateway.kinds.cfdi.cadena import CadenaPlan, Unsupported

    sheet = tmp_path / "sheet.xslt"
    sheet.write_text(_SHEET.format(extra=extra, body=body), encoding="utf-8")
    doc = etree.fromstring(b'<a:R xmlns:a="urn:a" X=" uno  dos "><a:C Y="\tz "/><a:C/></a:R>')
    libxslt = str(etree.XSLT(etree.parse(str(sheet)))(doc.getroottree()))
    plan = CadenaPlan(sheet)
    if readable:
        assert plan.run(doc) == libxslt == "||uno dos|z|||"
    else:
        with pytest.raises(Unsupported):
            plan.run(doc)
