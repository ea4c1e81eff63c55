"""Offline verification of a CFDI 4.0's two seals.

The issuer's ``Sello`` is checked against the certificate embedded in the invoice
(cadena original per SAT's own XSLT — read into a plan walked in Python, cadena.py, libxslt for what the plan
lacks — RSA PKCS#1 v1.5 with SHA-256), including that
the certificate belongs to the Emisor's RFC and was valid on the invoice date. The
timbre's ``SelloSAT`` is checked against SAT's stamping certificate taken from a local
directory: SAT publishes them, and the gateway never downloads at run time. A stamping
certificate the gateway does not have is reported as info, not as a rejection.
"""

from __future__ import annotations

import base64
import binascii
import threading
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from gateway.findings import Finding, error, info
from gateway.kinds.cfdi.cadena import CadenaPlan, Unsupported
from gateway.kinds.cfdi.satfiles import cfd_path, file_parser
from gateway.xmlsafe import xpath_of

TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
_RFC_OID = x509.ObjectIdentifier("2.5.4.45")  # x500UniqueIdentifier: "RFC / RFC del representante"
#: Fecha is local time of the place of issue; Mexico spans UTC-5..UTC-8, so allow the widest gap.
_LOCAL_TIME_SLACK = timedelta(hours=8)


def certificate_serial(cert: x509.Certificate) -> str:
    """SAT encodes the 20-digit certificate number as the ASCII bytes of the X.509 serial."""
    raw = format(cert.serial_number, "x")
    try:
        return bytes.fromhex(raw if len(raw) % 2 == 0 else "0" + raw).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return str(cert.serial_number)


def certificate_rfc(cert: x509.Certificate) -> str | None:
    try:
        attrs = cert.subject.get_attributes_for_oid(_RFC_OID)
    except ValueError:  # a malformed subject: treat as "no RFC"
        return None
    if not attrs:
        return None
    return str(attrs[0].value).split("/")[0].strip().upper() or None


class CertificateStore:
    """SAT stamping certificates by their 20-digit number, read from ``*.cer``/``*.pem`` files."""

    def __init__(self, directories: list[Path]) -> None:
        self._certs: dict[str, x509.Certificate] = {}
        for directory in directories:
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                cert = _load_cert_file(path)
                if cert is not None:
                    self._certs[certificate_serial(cert)] = cert

    def get(self, number: str) -> x509.Certificate | None:
        return self._certs.get(number)

    def __len__(self) -> int:
        return len(self._certs)


def _load_cert_file(path: Path) -> x509.Certificate | None:
    if path.suffix.lower() not in (".cer", ".crt", ".pem", ".der") or not path.is_file():
        return None
    data = path.read_bytes()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return None


class SealVerifier:
    """Compiled SAT XSLTs plus the stamping-certificate store. One per thread (XSLT objects are not shared)."""

    def __init__(self, sat_root: Path, store: CertificateStore) -> None:
        self._sat_root = sat_root
        cadena = cfd_path(sat_root, "4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt")
        tfd_path = cfd_path(sat_root, "TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt")
        self._paths = cadena, tfd_path
        # the stylesheets read into plans walked in Python (cadena.py); libxslt only for what they lack, compiled
        # on the first document that needs it (most processes never do)
        self._plan = CadenaPlan(cadena)
        self._plan_tfd = CadenaPlan(tfd_path)
        self._xslt: tuple[etree.XSLT, etree.XSLT] | None = None
        self.store = store

    def _stylesheets(self) -> tuple[etree.XSLT, etree.XSLT]:
        if self._xslt is None:
            parser = file_parser(self._sat_root)
            self._xslt = (etree.XSLT(etree.parse(str(self._paths[0]), parser)),
                          etree.XSLT(etree.parse(str(self._paths[1]), parser)))
        return self._xslt

    def cadena_original(self, root: etree._Element) -> str:
        try:
            return self._plan.run(root)
        except Unsupported:
            return self.cadena_original_xslt(root)

    def cadena_tfd(self, tfd: etree._Element) -> str:
        try:
            return self._plan_tfd.run(tfd)
        except Unsupported:
            return self.cadena_tfd_xslt(tfd)

    def cadena_original_xslt(self, root: etree._Element) -> str:
        """SAT's stylesheet run by libxslt: the reference the plan is held to (tests/test_differential.py)."""
        return str(self._stylesheets()[0](root.getroottree()))

    def cadena_tfd_xslt(self, tfd: etree._Element) -> str:
        standalone = etree.fromstring(etree.tostring(tfd))
        return str(self._stylesheets()[1](standalone.getroottree()))

    def verify(self, root: etree._Element) -> list[Finding]:
        findings = self._verify_issuer(root)
        tfds = root.findall(f"{{{etree.QName(root).namespace}}}Complemento/{{{TFD}}}TimbreFiscalDigital")
        if len(tfds) == 1:
            findings.extend(self._verify_tfd(root, tfds[0]))
        return findings

    def _verify_issuer(self, root: etree._Element) -> list[Finding]:
        where = {"line": root.sourceline, "xpath": "/cfdi:Comprobante/@Sello"}
        embedded = _embedded_certificate(root.get("Certificado", ""))
        if embedded is None:
            return [error("CFDI-SEAL", "El atributo Certificado no contiene un certificado X.509 utilizable; "
                          "no se puede verificar el sello del emisor.", sat_code="CFDI40106",
                          line=root.sourceline, xpath="/cfdi:Comprobante/@Certificado")]
        findings: list[Finding] = []
        cert, number, cert_rfc, key = embedded
        if number != root.get("NoCertificado"):
            findings.append(error("CFDI-SEAL", f"NoCertificado {root.get('NoCertificado')} no corresponde al "
                                  f"certificado incluido (número {number}).",
                                  line=root.sourceline, xpath="/cfdi:Comprobante/@NoCertificado"))
        emisor = root.find(f"{{{etree.QName(root).namespace}}}Emisor")
        emisor_rfc = (emisor.get("Rfc", "") if emisor is not None else "").strip().upper()
        if cert_rfc != emisor_rfc:
            findings.append(error("CFDI-SEAL", f"El certificado pertenece al RFC {cert_rfc or '(ninguno)'}, "
                                  f"no al RFC del emisor {emisor_rfc}.",
                                  line=emisor.sourceline if emisor is not None else None,
                                  xpath="/cfdi:Comprobante/cfdi:Emisor/@Rfc"))
        fecha = _parse_fecha(root.get("Fecha", ""))
        if fecha is not None:
            start = cert.not_valid_before_utc.replace(tzinfo=None) - _LOCAL_TIME_SLACK
            end = cert.not_valid_after_utc.replace(tzinfo=None)
            if not (start <= fecha <= end):
                findings.append(error("CFDI-SEAL", f"La Fecha {root.get('Fecha')} está fuera de la vigencia del "
                                      f"certificado {number} ({cert.not_valid_before_utc:%Y-%m-%d} a "
                                      f"{cert.not_valid_after_utc:%Y-%m-%d}).",
                                      line=root.sourceline, xpath="/cfdi:Comprobante/@Fecha"))
        signature = _b64(root.get("Sello", ""))
        if signature is None:
            findings.append(error("CFDI-SEAL", "El Sello no es base64 válido.", sat_code="CFDI40102", **where))
        elif key is None:
            findings.append(error("CFDI-SEAL", "El certificado incluido no tiene una llave pública RSA que se pueda "
                                  "leer (el SAT emite certificados de sello digital RSA); no se puede verificar el "
                                  "sello del emisor.", sat_code="CFDI40106",
                                  line=root.sourceline, xpath="/cfdi:Comprobante/@Certificado"))
        elif not _key_verifies(key, signature, self.cadena_original(root)):
            findings.append(error("CFDI-SEAL", "El Sello del emisor no corresponde a la cadena original del "
                                  "comprobante: el documento fue alterado después de sellarse o el sello es de otro "
                                  "certificado.", sat_code="CFDI40102", **where))
        return findings

    def _verify_tfd(self, root: etree._Element, tfd: etree._Element) -> list[Finding]:
        where = {"line": tfd.sourceline, "xpath": xpath_of(tfd)}
        findings: list[Finding] = []
        if tfd.get("SelloCFD") != root.get("Sello"):
            findings.append(error("CFDI-SEAL", "El SelloCFD del timbre no es igual al Sello del comprobante: el timbre "
                                  "no corresponde a este CFDI.", **where))
        number = tfd.get("NoCertificadoSAT", "")
        sat_cert = self.store.get(number)
        if sat_cert is None:
            findings.append(info("CFDI-SAT-CERT-UNKNOWN", f"El certificado del SAT {number} no está en el almacén "
                                 "local de certificados; el SelloSAT del timbre no se verificó.", **where))
            return findings
        signature = _b64(tfd.get("SelloSAT", ""))
        if signature is None or not _rsa_verifies(sat_cert, signature, self.cadena_tfd(tfd)):
            findings.append(error("CFDI-SEAL", f"El SelloSAT del timbre no verifica con el certificado del SAT "
                                  f"{number}: "
                                  "el timbre fue alterado o no lo emitió el SAT.", **where))
        return findings


_local = threading.local()


#: an embedded certificate and what the issuer's check reads of it: number, RFC, RSA key
Embedded = tuple[x509.Certificate, str, "str | None", "rsa.RSAPublicKey | None"]


def _embedded_certificate(text: str) -> Embedded | None:
    """The ``Certificado`` attribute read once per thread and certificate: an issuer seals thousands of invoices
    with one certificate, and decoding it with its number and RFC costs more than a cadena (≈ 45 µs)."""
    cache = getattr(_local, "certs", None)
    if cache is None:
        cache = _local.certs = {}
    if text in cache:
        return cache[text]
    raw = _b64(text)
    embedded: Embedded | None = None
    if raw:
        try:
            cert = x509.load_der_x509_certificate(raw)
        except ValueError:
            pass
        else:
            embedded = (cert, certificate_serial(cert), certificate_rfc(cert), _rsa_key(cert))
    if len(cache) > 256:
        cache.clear()
    cache[text] = embedded
    return embedded


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _rsa_key(cert: x509.Certificate) -> rsa.RSAPublicKey | None:
    """The certificate's RSA public key; None when it has none or it does not parse (a damaged certificate can
    name an algorithm cryptography does not know: UnsupportedAlgorithm, not ValueError)."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def _rsa_verifies(cert: x509.Certificate, signature: bytes, cadena: str) -> bool:
    return _key_verifies(_rsa_key(cert), signature, cadena)


def _key_verifies(key: rsa.RSAPublicKey | None, signature: bytes, cadena: str) -> bool:
    if key is None:
        return False
    try:
        key.verify(signature, cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _parse_fecha(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


