"""Complements and the XSD: every schema SAT publishes is checked, every other complement is set aside (issue #19).

cfdi:Complemento, cfdi:ComplementoConcepto and cfdi:Addenda are strict ``xs:any`` wildcards: an element whose
schema is not loaded fails libxml2 with "No matching global element declaration". The gateway validates a copy
without the Addenda and without each complement it has no schema for, and says so in an info finding.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree

from gateway.kinds.cfdi.satfiles import CFD
from gateway.kinds.cfdi.xsd import KNOWN_SCHEMAS, CfdiSchema
from gateway.xmlsafe import parse

C = "{http://www.sat.gob.mx/cfd/4}"
X = "{http://www.sat.gob.mx/ComercioExterior20}"
OWN = "urn:example:own-complement"  # a company's own complement: no SAT schema


def _schema(sat_root) -> CfdiSchema:
    return CfdiSchema.build(sat_root)


def _xsd_errors(findings) -> list[str]:
    return [f.message for f in findings if f.code == "XSD"]


def _unknown(findings) -> list[str]:
    return [f.location["xpath"] for f in findings if f.code == "XSD-UNKNOWN-COMPLEMENT"]


def test_every_complement_schema_of_the_wheel_is_checked(sat_root):
    """Each complement XSD in satcfdi's tree is in KNOWN_SCHEMAS, or another version of its namespace is."""
    base = sat_root / CFD
    compiled = _schema(sat_root).namespaces
    namespaces: dict[str, list[str]] = {}
    for path in sorted(base.rglob("*.xsd")):
        relative = path.relative_to(base).as_posix()
        if relative.startswith(("3/", "catalogos/", "tipoDatos/")):
            continue  # CFDI 3.x (rejected by version), catalogs and data types (imported by the others)
        namespaces.setdefault(etree.parse(str(path)).getroot().get("targetNamespace"), []).append(relative)
    assert len(namespaces) >= 40
    for namespace, files in namespaces.items():
        assert KNOWN_SCHEMAS.get(namespace) in files, (namespace, files)
        assert namespace in compiled, namespace


def test_two_unknown_complements_and_an_addenda_are_all_set_aside(sat_root, make_invoice):
    schema = _schema(sat_root)
    root = parse(make_invoice(1)).root
    complemento = root.find(f"{C}Complemento")
    complemento.insert(0, etree.Element(f"{{{OWN}}}Primero"))
    etree.SubElement(complemento, f"{{{OWN}}}Segundo")
    etree.SubElement(etree.SubElement(root, f"{C}Addenda"), f"{{{OWN}}}Pedido", Numero="PO-1")
    original = etree.tostring(root)
    findings = schema.validate(root)
    assert _xsd_errors(findings) == []
    assert len(_unknown(findings)) == 2
    assert etree.tostring(root) == original  # the seals are checked on the untouched tree


def test_unknown_complement_in_a_concepto_is_set_aside(sat_root, make_invoice):
    schema = _schema(sat_root)
    root = parse(make_invoice(2)).root
    concepto = root.find(f"{C}Conceptos/{C}Concepto")
    complemento = etree.SubElement(concepto, f"{C}ComplementoConcepto")
    etree.SubElement(complemento, f"{{{OWN}}}Garantia", Meses="12")
    findings = schema.validate(root)
    assert _xsd_errors(findings) == []  # the emptied ComplementoConcepto is set aside with it
    assert _unknown(findings) and "cfdi:ComplementoConcepto" in _unknown(findings)[0]


def test_known_complement_next_to_an_unknown_one_in_a_concepto_is_still_checked(sat_root, make_invoice):
    schema = _schema(sat_root)
    root = parse(make_invoice(3)).root
    concepto = root.find(f"{C}Conceptos/{C}Concepto")
    complemento = etree.SubElement(concepto, f"{C}ComplementoConcepto")
    etree.SubElement(complemento, f"{{{OWN}}}Garantia")
    cce = deepcopy(root.find(f"{C}Complemento/{X}ComercioExterior"))
    complemento.append(cce)  # schema-valid there (CCE114 is the matrix's business)
    assert _xsd_errors(schema.validate(root)) == []
    cce.set("Version", "9.9")
    assert len(_xsd_errors(schema.validate(root))) == 1


def test_sat_complement_inside_a_concepto_is_validated_by_its_schema(sat_root, make_invoice):
    """iedu:instEducativas (SAT publishes iedu.xsd) in a concepto: checked, not set aside."""
    schema = _schema(sat_root)
    root = parse(make_invoice(4)).root
    assert _xsd_errors(schema.validate(root)) == []
    assert schema._all is None  # the everyday schema set did: the one with all 46 namespaces is not compiled yet
    concepto = root.find(f"{C}Conceptos/{C}Concepto")
    iedu = etree.SubElement(etree.SubElement(concepto, f"{C}ComplementoConcepto"),
                            "{http://www.sat.gob.mx/iedu}instEducativas", version="1.0", nombreAlumno="ANA LOPEZ",
                            CURP="LOPA050101MDFPRNA1", nivelEducativo="Primaria", autRVOE="1234")
    assert _xsd_errors(schema.validate(root)) == [] and _unknown(schema.validate(root)) == []
    assert schema._all is not None  # compiled on the first document with a complement outside EVERYDAY
    iedu.set("nivelEducativo", "Posgrado")
    assert len(_xsd_errors(schema.validate(root))) == 1


def test_the_kinds_layout_path_sets_aside_the_same_nodes(sat_root, make_invoice):
    """``CfdiKind`` hands the schema what ``Doc`` found (``Layout``): same result as the schema's own walk."""
    from gateway.kinds.cfdi.kind import CfdiKind

    root = parse(make_invoice(5)).root
    complemento = root.find(f"{C}Complemento")
    complemento.insert(0, etree.Element(f"{{{OWN}}}Primero"))
    etree.SubElement(complemento, f"{{{OWN}}}Segundo")
    concepto = root.find(f"{C}Conceptos/{C}Concepto")
    etree.SubElement(etree.SubElement(concepto, f"{C}ComplementoConcepto"), f"{{{OWN}}}Garantia")
    etree.SubElement(etree.SubElement(root, f"{C}Addenda"), f"{{{OWN}}}Pedido")
    _, findings = CfdiKind(sat_root, verify_seals=False).validate(etree.tostring(root))
    assert _xsd_errors(findings) == []
    assert len(_unknown(findings)) == 3
