"""The generated export invoices are what the demo, benchmark and tests rely on: prove they are valid."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.demo.generate.cfdi import CCE, CFDI, Identity, demo_identities, export_invoice, write_certificate
from gateway.kinds.cfdi.satfiles import default_root
from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier, certificate_rfc, certificate_serial
from gateway.kinds.cfdi.xsd import CfdiSchema
from gateway.xmlsafe import parse
from tests.conftest import CFDI_SAMPLES, require_samples

NS = {"cfdi": CFDI, "cce20": CCE}
SAMPLE = CFDI_SAMPLES / "synthetic" / "valid" / "synthetic_cfdi40-cce20-export-stamped.xml"


@pytest.fixture(scope="module")
def identities() -> tuple[Identity, Identity]:
    return demo_identities(datetime(2023, 1, 1), datetime(2031, 1, 1))


@pytest.fixture(scope="module")
def schema() -> CfdiSchema:
    return CfdiSchema.build(default_root())


@pytest.fixture(scope="module")
def verifier(identities: tuple[Identity, Identity], tmp_path_factory: pytest.TempPathFactory) -> SealVerifier:
    certs = tmp_path_factory.mktemp("sat-certs")
    write_certificate(identities[1], certs)
    return SealVerifier(default_root(), CertificateStore([certs]))


def _generate(identities: tuple[Identity, Identity], verifier: SealVerifier, seq: int, **kwargs) -> etree._Element:
    issuer, pac = identities
    parsed = parse(export_invoice(seq, issuer, pac, verifier, **kwargs))
    assert parsed.ok and not parsed.findings
    return parsed.root


def test_identity_reads_back_as_sat_certificate(identities: tuple[Identity, Identity], tmp_path: Path) -> None:
    issuer, pac = identities
    assert certificate_serial(issuer.cert) == issuer.number == "30001000000500009001"
    assert certificate_rfc(issuer.cert) == "EKU9003173C9"
    assert certificate_rfc(pac.cert) == "SAT970701NN3"
    path = write_certificate(pac, tmp_path)
    assert path.name == "30001000000500009002.cer"
    assert CertificateStore([tmp_path]).get(pac.number) is not None


@pytest.mark.parametrize(("seq", "n_items"), [(0, 1), (1, 2), (7, 3), (42, 6), (999, 9)])
def test_generated_invoice_is_xsd_valid_and_both_seals_verify(
    identities: tuple[Identity, Identity], verifier: SealVerifier, schema: CfdiSchema, seq: int, n_items: int
) -> None:
    root = _generate(identities, verifier, seq, n_items=n_items)
    assert schema.validate(root) == []
    assert verifier.verify(root) == []


def test_amounts_add_up(identities: tuple[Identity, Identity], verifier: SealVerifier) -> None:
    root = _generate(identities, verifier, 5, n_items=4)
    importes = [Decimal(c.get("Importe")) for c in root.iterfind("cfdi:Conceptos/cfdi:Concepto", NS)]
    assert len(importes) == 4
    assert Decimal(root.get("SubTotal")) == Decimal(root.get("Total")) == sum(importes)
    cce = root.find("cfdi:Complemento/cce20:ComercioExterior", NS)
    assert cce.get("TipoCambioUSD") == root.get("TipoCambio")
    mercancias = cce.findall("cce20:Mercancias/cce20:Mercancia", NS)
    assert Decimal(cce.get("TotalUSD")) == sum(Decimal(m.get("ValorDolares")) for m in mercancias)
    conceptos = {c.get("NoIdentificacion"): c for c in root.iterfind("cfdi:Conceptos/cfdi:Concepto", NS)}
    for mercancia in mercancias:
        concepto = conceptos[mercancia.get("NoIdentificacion")]
        assert Decimal(mercancia.get("ValorDolares")) == Decimal(concepto.get("Importe"))
        assert Decimal(mercancia.get("CantidadAduana")) * Decimal(mercancia.get("ValorUnitarioAduana")) == Decimal(
            mercancia.get("ValorDolares")
        )


def test_generation_is_deterministic_per_seq(identities: tuple[Identity, Identity], verifier: SealVerifier) -> None:
    issuer, pac = identities
    assert export_invoice(3, issuer, pac, verifier) == export_invoice(3, issuer, pac, verifier)
    assert export_invoice(3, issuer, pac, verifier) != export_invoice(4, issuer, pac, verifier)


def test_unknown_sat_certificate_is_the_only_finding(
    identities: tuple[Identity, Identity], verifier: SealVerifier, tmp_path: Path
) -> None:
    root = _generate(identities, verifier, 11)
    findings = SealVerifier(default_root(), CertificateStore([tmp_path])).verify(root)
    assert [(f.code, f.severity.value) for f in findings] == [("CFDI-SAT-CERT-UNKNOWN", "info")]


def test_tampering_after_sealing_breaks_the_seal(identities: tuple[Identity, Identity], verifier: SealVerifier) -> None:
    issuer, pac = identities
    data = export_invoice(12, issuer, pac, verifier)
    total = parse(data).root.get("Total")
    tampered = data.replace(f' Total="{total}"'.encode(), f' Total="{Decimal(total) + 1}"'.encode())
    assert tampered != data
    codes = [f.code for f in verifier.verify(parse(tampered).root)]
    assert "CFDI-SEAL" in codes


def test_a_certificate_whose_key_algorithm_is_unknown_is_a_seal_finding_not_a_crash(
    identities: tuple[Identity, Identity], verifier: SealVerifier
) -> None:
    """A damaged Certificado can still parse as X.509 yet name a key algorithm nobody knows (found by fuzzing:
    cryptography then raises UnsupportedAlgorithm, which used to escape as an INTERNAL error)."""
    import base64

    root = _generate(identities, verifier, 14)
    der = base64.b64decode(root.get("Certificado"))
    rsa_encryption = bytes.fromhex("06092a864886f70d010101")  # OID 1.2.840.113549.1.1.1 in the public key info
    assert der.count(rsa_encryption) == 1
    root.set("Certificado", base64.b64encode(der.replace(rsa_encryption, rsa_encryption[:-1] + b"\x63")).decode())
    findings = verifier.verify(root)
    assert [(f.code, f.sat_code, f.location["xpath"]) for f in findings if "llave pública" in f.message] == [
        ("CFDI-SEAL", "CFDI40106", "/cfdi:Comprobante/@Certificado")]


def test_mutate_runs_before_sealing(identities: tuple[Identity, Identity], verifier: SealVerifier) -> None:
    def wrong_total_usd(root: etree._Element) -> None:
        root.find("cfdi:Complemento/cce20:ComercioExterior", NS).set("TotalUSD", "1.00")

    root = _generate(identities, verifier, 13, mutate=wrong_total_usd)
    assert root.find("cfdi:Complemento/cce20:ComercioExterior", NS).get("TotalUSD") == "1.00"
    assert verifier.verify(root) == []  # business-invalid, yet correctly sealed


def _attribute_paths(root: etree._Element) -> set[str]:
    paths = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        path = "/".join(etree.QName(e).localname for e in reversed([element, *element.iterancestors()]))
        paths.update(f"{path}/@{etree.QName(name).localname}" for name in element.attrib)
    return paths


def test_same_shape_as_the_reference_sample(identities: tuple[Identity, Identity], verifier: SealVerifier) -> None:
    require_samples()
    sample = parse(SAMPLE.read_bytes()).root
    generated = _generate(identities, verifier, 21)
    missing = {p for p in _attribute_paths(sample) - _attribute_paths(generated) if "DescripcionesEspecificas" not in p}
    assert missing == set()
