"""Every file in the shared CFDI samples gets the verdict its SOURCES.md implies (issue #2, 'Done when')."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.findings import Severity
from gateway.kinds.cfdi.kind import CfdiKind
from gateway.kinds.cfdi.xsd import KNOWN_SCHEMAS, CfdiSchema
from gateway.xmlsafe import parse
from tests.conftest import require_samples

FORWARD = "forwarded"

#: file -> FORWARD, or the error code that must reject it (others may come along).
EXPECTED = {
    "invalid/cfdiutils_cleaner-v32-dirty-errors.xml": "CFDI-VERSION",  # bulk-download quirk repaired, then 3.2
    "invalid/cfdiutils_pagos10-sample-errors.xml": "CFDI-VERSION",
    "invalid/cfdiutils_pagos20-calculator-001.xml": "XSD",
    "invalid/cfdiutils_pagos20-calculator-004.xml": "XSD",
    "invalid/cfdiutils_pagos20-calculator-008.xml": "XSD",
    "invalid/pycfdi_cfdi33_bad_structure_01.xml": "XML-MALFORMED",
    "invalid/pycfdi_cfdi40_01_bad_character.xml": "XML-MALFORMED",
    "invalid/pycfdi_cfdi40_01_minimal.xml": "CFDI-SEAL",
    "invalid/pycfdi_cfdi40_01_multiple_tfd.xml": "XSD",
    "invalid/pycfdi_pago_bad_version.xml": "XSD",
    "invalid/pycfdi_pago_stamped_multiple_tfd.xml": "CFDI-TFD-MISSING",  # two timbres
    "invalid/satcfdi_cfdv33-cce11-codigos-ivalidos.xml": "CFDI-VERSION",
    "invalid/satcfdi_invalid-registro_fiscal.xml": "CFDI-VERSION",  # bulk-download quirk repaired, then 3.3
    "other-versions/cfdiutils_cfdi32-real.xml": "CFDI-VERSION",
    "other-versions/cfdiutils_cfdi33-real.xml": "CFDI-VERSION",
    "other-versions/cfdiutils_cfdi33-valid.xml": "CFDI-VERSION",
    "other-versions/satcfdi_cfdv33-cce11.xml": "CFDI-VERSION",
    "other-versions/satcfdi_cfdv33-signed-tfd.xml": "CFDI-VERSION",
    "synthetic/invalid/synthetic_cfdi40-cce20-bad-fraccion.xml": "XSD",
    "synthetic/invalid/synthetic_cfdi40-cce20-clavepedimento-not-a1.xml": "XSD",
    "synthetic/invalid/synthetic_cfdi40-cce20-mercancia-noid-not-in-conceptos.xml": "CCE-NOIDENTIFICACION",
    "synthetic/invalid/synthetic_cfdi40-cce20-missing-clavedepedimento.xml": "XSD",
    "synthetic/invalid/synthetic_cfdi40-cce20-tampered-total.xml": "CFDI-SEAL",
    "synthetic/invalid/synthetic_cfdi40-cce20-tfd-sellocfd-mismatch.xml": "CFDI-SEAL",
    "synthetic/invalid/synthetic_cfdi40-cce20-totalusd-mismatch.xml": "CFDI-CCE-USD",
    "synthetic/valid/synthetic_cfdi40-cce20-export-sealed-no-tfd.xml": "CFDI-TFD-MISSING",
    # SAT's c_Colonia has no colonia 0001 in CP 22430 (CCE129); SOURCES.md says cross-catalog rules were not checked
    "synthetic/valid/synthetic_cfdi40-cce20-export-stamped.xml": "CCE-CATALOG",
    "valid/cfdiutils_cfdi40-real.xml": FORWARD,
    "valid/cfdiutils_cfdi40-valid.xml": FORWARD,
    "valid/cfdiutils_created-cfdi40-pago20-valid.xml": "CFDI-TFD-MISSING",
    "valid/cfdiutils_created-with-discounts-40.xml": "CFDI-TFD-MISSING",
    "valid/satcfdi_cfdv40-cartaporte20-min.xml": "CFDI-SEAL",  # placeholder certificate
    "valid/satcfdi_cfdv40-cartaporte20.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-cce11.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-ejemplo-signed-tfd.xml": "CFDI-SEAL",  # Fecha outside the certificate's validity
    "valid/satcfdi_cfdv40-ejemplo.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-min.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-pagos20-all.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-pagos20-min.xml": "CFDI-SEAL",
    "valid/satcfdi_cfdv40-pagos20.xml": "CFDI-SEAL",
    "valid/satcfdi_he951128469_ingreso_iva16_stamped.xml": FORWARD,  # stamping cert not local: info only
    # régimen 601 (personas morales) for a persona física RFC: CFDI40141 (satcfdi test output, self-stamped)
    "valid/satcfdi_xiqb891116qe4_ingreso_iva16_stamped.xml": "CFDI-CATALOG",
}


@pytest.fixture(scope="module")
def kind():
    return CfdiKind(certificate_dirs=[require_samples() / "certs"])


def test_expectations_cover_the_whole_folder():
    files = {str(p.relative_to(require_samples())) for p in require_samples().rglob("*.xml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_verdict(kind, name):
    result = kind.check((require_samples() / name).read_bytes())
    errors = {f.code for f in result.findings if f.severity is Severity.ERROR}
    if EXPECTED[name] == FORWARD:
        assert not errors, [f.message for f in result.findings]
        assert result.record and result.record["uuid"]
    else:
        assert EXPECTED[name] in errors, [f.message for f in result.findings]
    for finding in result.findings:
        assert finding.message and "Traceback" not in finding.message


@pytest.mark.parametrize("name", ["synthetic/valid/synthetic_cfdi40-cce20-export-sealed-no-tfd.xml",
                                  "synthetic/valid/synthetic_cfdi40-cce20-export-stamped.xml"])
def test_synthetic_exports_lack_the_foreign_tax_id_in_the_complement(kind, name):
    """Both synthetic exports put NumRegIdTrib on cfdi:Receptor only, with the generic foreign RFC: SAT's CCE133
    asks for it in cce20:Receptor too (research note sat-gaps.md, "CCE133 has a consequence for existing files")."""
    result = kind.check((require_samples() / name).read_bytes())
    assert "CCE133" in {f.sat_code for f in result.findings if f.severity is Severity.ERROR}


def test_bulk_download_quirk_is_a_warning_not_a_rejection(kind):
    result = kind.check((require_samples() / "invalid/satcfdi_invalid-registro_fiscal.xml").read_bytes())
    quirk = [f for f in result.findings if f.code == "XML-SCHEMALOCATION"]
    assert quirk and quirk[0].severity is Severity.WARNING and quirk[0].location["line"] == 66
    assert "XML-MALFORMED" not in {f.code for f in result.findings}


def test_bulk_download_quirk_on_a_valid_cfdi40_is_forwarded_with_a_warning(kind):
    data = (require_samples() / "valid/cfdiutils_cfdi40-real.xml").read_bytes()
    quirky = data.replace(b"xsi:schemaLocation=", b"xmlns:schemaLocation=", 1)
    assert quirky != data
    result = kind.check(quirky)
    assert result.ok, [f.message for f in result.findings]
    assert "XML-SCHEMALOCATION" in {f.code for f in result.findings}


def test_stamping_certificate_missing_is_info(kind):
    result = kind.check((require_samples() / "valid/satcfdi_he951128469_ingreso_iva16_stamped.xml").read_bytes())
    unknown = [f for f in result.findings if f.code == "CFDI-SAT-CERT-UNKNOWN"]
    assert unknown and unknown[0].severity is Severity.INFO


def test_xsd_findings_carry_line_and_xpath(kind):
    result = kind.check((require_samples() / "synthetic/invalid/synthetic_cfdi40-cce20-bad-fraccion.xml").read_bytes())
    xsd = [f for f in result.findings if f.code == "XSD"]
    assert len(xsd) == 1
    assert xsd[0].location["line"] == 38
    assert xsd[0].location["xpath"].endswith("cce20:Mercancia[2]/@FraccionArancelaria")
    assert "c_FraccionArancelaria" in xsd[0].message and len(xsd[0].message) < 400


def _full_schema(sat_root):
    """The official schemas with nothing lifted out: the slow reference the fast path must agree with."""
    from gateway.kinds.cfdi.satfiles import cfd_path, file_parser

    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{cfd_path(sat_root, rel).resolve().as_uri()}"/>'
        for ns, rel in sorted(KNOWN_SCHEMAS.items())
    )
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'.encode()
    return etree.XMLSchema(etree.fromstring(wrapper, file_parser(sat_root), base_url=str(sat_root / "w.xsd")))


def test_fast_xsd_gives_the_same_verdicts_as_the_official_schemas(sat_root, make_invoice):
    fast = CfdiSchema.build(sat_root)
    full = _full_schema(sat_root)
    documents = {p.name: p.read_bytes() for p in require_samples().rglob("*.xml")}
    documents["generated"] = make_invoice(1)
    for attribute, value in [(b'FraccionArancelaria="', b"9999999999"), (b'CodigoPostal="', b"0000x"),
                             (b'ClaveProdServ="', b"99999999"), (b'Colonia="', b"99999"), (b'ClaveUnidad="', b"ZZZ")]:
        data = make_invoice(2)
        start = data.index(attribute) + len(attribute)
        documents[f"bad {attribute!r}"] = data[:start] + value + data[data.index(b'"', start):]
    compared = 0
    for name, data in documents.items():
        parsed = parse(data)
        if not parsed.ok or etree.QName(parsed.root).namespace != "http://www.sat.gob.mx/cfd/4":
            continue
        reference = _strip_for_reference(parsed.root, fast.namespaces)
        fast_valid = not any(f.code == "XSD" for f in fast.validate(parsed.root))
        assert fast_valid == full.validate(reference), name
        compared += 1
    assert compared >= 30


def _strip_for_reference(root, namespaces):
    from copy import deepcopy

    copy = deepcopy(root)
    for child in list(copy):
        if child.tag == "{http://www.sat.gob.mx/cfd/4}Addenda":
            copy.remove(child)
        if child.tag == "{http://www.sat.gob.mx/cfd/4}Complemento":
            for complement in list(child):
                if isinstance(complement.tag, str) and etree.QName(complement).namespace not in namespaces:
                    child.remove(complement)
    return copy


def test_catalog_checks_follow_the_element_path_not_just_its_name(sat_root, make_invoice):
    """cce20:Domicilio's Colonia is catalog c_Colonia under Emisor but free text under Receptor."""
    cce = "{http://www.sat.gob.mx/ComercioExterior20}"
    schema = CfdiSchema.build(sat_root)
    root = parse(make_invoice(3)).root
    receptor = root.find(f".//{cce}Receptor/{cce}Domicilio")
    receptor.set("Colonia", "Downtown Heights")
    assert [f.message for f in schema.validate(root) if f.code == "XSD"] == []
    root.find(f".//{cce}Emisor/{cce}Domicilio").set("Colonia", "Downtown Heights")
    findings = [f for f in schema.validate(root) if f.code == "XSD"]
    assert len(findings) == 1 and "c_Colonia" in findings[0].message
    assert "cce20:Emisor/cce20:Domicilio" in findings[0].location["xpath"]


def _with_parte_and_concept_complement(root, clave: str, fraccion: str) -> None:
    """A Parte and, in a cfdi:ComplementoConcepto, a copy of the Comercio Exterior (both schema-valid places)."""
    from copy import deepcopy

    c, x = "{http://www.sat.gob.mx/cfd/4}", "{http://www.sat.gob.mx/ComercioExterior20}"
    concepto = root.find(f"{c}Conceptos/{c}Concepto")
    cce = deepcopy(root.find(f"{c}Complemento/{x}ComercioExterior"))
    cce.find(f"{x}Mercancias/{x}Mercancia").set("FraccionArancelaria", fraccion)
    etree.SubElement(concepto, f"{c}ComplementoConcepto").append(cce)
    etree.SubElement(concepto, f"{c}Parte", ClaveProdServ=clave, Cantidad="1", Descripcion="TORNILLO")


def test_layout_reads_of_a_valid_tree_find_every_lifted_catalog_miss(sat_root, make_invoice):
    """``CfdiKind`` hands ``CfdiSchema`` the nodes ``Doc`` found, and for a tree libxml2 finds valid the lifted
    catalogs are read from those nodes only. Each catalog attribute of an export invoice, one at a time, plus
    a Parte and a complement inside a concepto: the findings equal the full walk's, the verdict the official
    schemas'.
    """
    from gateway.kinds.cfdi.catalogs import catalogs
    from gateway.kinds.cfdi.kind import layout_of
    from gateway.kinds.cfdi.matrix import Doc

    c, x = "{http://www.sat.gob.mx/cfd/4}", "{http://www.sat.gob.mx/ComercioExterior20}"
    fast = CfdiSchema.build(sat_root)
    assert fast.layout_ok
    full = _full_schema(sat_root)
    places = [(".", "Moneda"), (".", "LugarExpedicion"), (f"{c}Receptor", "ResidenciaFiscal"),
              (f"{c}Conceptos/{c}Concepto", "ClaveProdServ"), (f"{c}Conceptos/{c}Concepto[2]", "ClaveUnidad"),
              (f".//{x}Emisor/{x}Domicilio", "Colonia"), (f".//{x}Emisor/{x}Domicilio", "Municipio"),
              (f".//{x}Emisor/{x}Domicilio", "Pais"), (f".//{x}Emisor/{x}Domicilio", "CodigoPostal"),
              (f".//{x}Receptor/{x}Domicilio", "Pais"), (f".//{x}Mercancia[2]", "FraccionArancelaria")]
    cases = [(f"{path} @{attr}", (lambda root, path=path, attr=attr: root.find(path).set(attr, "ZZ9")))
             for path, attr in places]
    cases += [("valid parte and concept complement",
               lambda root: _with_parte_and_concept_complement(root, "31161504", "7318159999")),
              ("bad parte", lambda root: _with_parte_and_concept_complement(root, "99999999", "7318159999")),
              ("bad concept complement",
               lambda root: _with_parte_and_concept_complement(root, "31161504", "9999999999")),
              ("untouched", lambda root: None)]
    misses = 0
    for name, mutate in cases:
        root = parse(make_invoice(4)).root
        mutate(root)
        root = parse(etree.tostring(root)).root  # line numbers as a file would have them
        with_layout = fast.validate(root, layout_of(Doc(root, catalogs())))
        assert with_layout == fast.validate(root), name
        valid = not any(f.code == "XSD" for f in with_layout)
        assert valid == full.validate(root), name
        misses += not valid
    assert misses == len(places) + 2
