"""Realistic CFDI 4.0 + Comercio Exterior 2.0 export invoices, sealed and stamped, made on the spot.

The demo, the benchmark and the tests need many valid IMMEX export invoices, and no real
CCE 2.0 invoice is public. So this module builds them: XSD-valid against SAT's schemas,
business-consistent (totals, TotalUSD = Σ ValorDolares, mercancías joined to conceptos by
NoIdentificacion, catalog codes that agree with each other), sealed with SAT's own cadena
original XSLT and stamped with a TimbreFiscalDigital 1.1. The keys and certificates are
self-signed test identities: the seals verify, but nothing here is a real SAT credential.

Everything is deterministic in ``seq``: the same identities and ``seq`` give the same bytes
(RSA PKCS#1 v1.5 signatures are deterministic), so benchmark runs and test failures repeat.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.kinds.cfdi.seals import SealVerifier, certificate_serial

CFDI = "http://www.sat.gob.mx/cfd/4"
CCE = "http://www.sat.gob.mx/ComercioExterior20"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cfdi": CFDI, "cce20": CCE, "tfd": TFD, "xsi": XSI}
_SAT = "http://www.sat.gob.mx/sitio_internet/cfd"
SCHEMA_LOCATION = (
    f"{CFDI} {_SAT}/4/cfdv40.xsd {CCE} {_SAT}/ComercioExterior20/ComercioExterior20.xsd "
    f"{TFD} {_SAT}/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"
)

_RFC_OID = x509.ObjectIdentifier("2.5.4.45")
_CENTS = Decimal("0.01")
_FECHA = "%Y-%m-%dT%H:%M:%S"


@dataclass
class Identity:
    """A test CSD: RFC, name, RSA key and the self-signed certificate that carries them."""

    rfc: str
    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @cached_property
    def number(self) -> str:
        """The 20-digit certificate number, read back the way SAT encodes it."""
        return certificate_serial(self.cert)

    @cached_property
    def certificate_b64(self) -> str:
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode("ascii")

    def sign(self, cadena: str) -> str:
        """Base64 RSA-SHA256 PKCS#1 v1.5 signature of a cadena original, as SAT's Sello."""
        signature = self.key.sign(cadena.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


def make_identity(rfc: str, name: str, number: str, valid_from: datetime, valid_to: datetime) -> Identity:
    """A fresh RSA-2048 key and a self-signed certificate shaped like a SAT CSD.

    The serial is the ASCII bytes of ``number`` and OID 2.5.4.45 holds ``"RFC / "``, which
    is where SAT puts them, so ``certificate_serial``/``certificate_rfc`` read them back.
    Key generation takes tens of milliseconds: make identities once and reuse them.
    """
    if len(number) != 20 or not number.isdigit():
        raise ValueError(f"a certificate number has 20 digits, got {number!r}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        x509.NameAttribute(_RFC_OID, f"{rfc} / "),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(number.encode("ascii"), "big"))
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Identity(rfc, name, key, cert)


def write_certificate(identity: Identity, directory: Path) -> Path:
    """Write the DER certificate as ``<number>.cer``, the layout a CertificateStore reads."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{identity.number}.cer"
    path.write_bytes(identity.cert.public_bytes(serialization.Encoding.DER))
    return path


def demo_identities(valid_from: datetime, valid_to: datetime) -> tuple[Identity, Identity]:
    """(issuer, pac) for demos and tests. TEST-ONLY: self-signed, fictitious certificate numbers.

    EKU9003173C9 is SAT's published test RFC; the numbers ``3000100000050000900x`` belong
    to no SAT certificate, so these identities can never be mistaken for real ones.
    """
    issuer = make_identity("EKU9003173C9", "ESCUELA KEMPER URGATE", "30001000000500009001", valid_from, valid_to)
    pac = make_identity(
        "SAT970701NN3", "SERVICIO DE ADMINISTRACION TRIBUTARIA", "30001000000500009002", valid_from, valid_to
    )
    return issuer, pac


@dataclass(frozen=True)
class Product:
    """An exported good: codes that agree across c_ClaveProdServ, c_ClaveUnidad and the TIGIE.

    ``umt_per_unit`` is how many tariff units (UMT, the fracción's UnidadAduana) one commercial
    unit holds, e.g. 3 kg per grille: CantidadAduana = Cantidad × umt_per_unit.
    """

    sku: str
    descripcion: str
    clave_prod_serv: str
    clave_unidad: str
    unidad: str
    fraccion: str
    unidad_aduana: str
    umt_per_unit: int
    price_cents: tuple[int, int]  # USD per UMT unit
    quantity: tuple[int, int]


#: Fracciones are 10-digit (fracción + NICO) entries of catComExt:c_FraccionArancelaria; their
#: UMT (01 kilo, 06 pieza) is TIGIE's and not in SAT's XSDs, so CCE167 cannot be checked offline.
PRODUCTS: tuple[Product, ...] = (
    Product("TAB-1010", "TABLETA ELECTRONICA 10 PULGADAS", "43211509", "H87", "Pieza",
            "8471300101", "06", 1, (12000, 38000), (5, 60)),
    Product("PC-4120", "COMPUTADORA DE ESCRITORIO ENSAMBLADA", "43211507", "H87", "Pieza",
            "8471410100", "06", 1, (35000, 90000), (2, 30)),
    Product("TC-7700", "TABLERO DE CONTROL ELECTRICO", "39121100", "H87", "Pieza",
            "8537109999", "06", 1, (80000, 250000), (1, 10)),
    Product("TOR-M8", "TORNILLO DE ACERO PARA MAQUINA M8", "31161504", "KGM", "Kilogramo",
            "7318159999", "01", 1, (300, 900), (100, 2000)),
    Product("MOL-220", "PIEZA DE PLASTICO MOLDEADA POR INYECCION", "31141500", "KGM", "Kilogramo",
            "3926909999", "01", 1, (400, 1500), (50, 800)),
    Product("PAR-3300", "PARRILLA FRONTAL PARA VEHICULO", "25172605", "H87", "Pieza",
            "8708299999", "01", 3, (900, 2500), (20, 400)),
)

#: Tijuana, Mesa de Otay: codes that agree in c_CodigoPostal, c_Colonia, c_Localidad and c_Municipio.
LUGAR_EXPEDICION = "22430"
EMISOR_DOMICILIO = {
    "Calle": "AV. INDUSTRIAL", "NumeroExterior": "100", "Colonia": "2817", "Localidad": "04",
    "Municipio": "004", "Estado": "BCN", "Pais": "MEX", "CodigoPostal": LUGAR_EXPEDICION,
}
RECEPTOR_DOMICILIOS = (
    {"Calle": "MAIN ST", "NumeroExterior": "500", "Municipio": "SAN DIEGO", "Estado": "CA", "Pais": "USA",
     "CodigoPostal": "92154"},
    {"Calle": "MINES RD", "NumeroExterior": "8200", "Municipio": "LAREDO", "Estado": "TX", "Pais": "USA",
     "CodigoPostal": "78045"},
    {"Calle": "W BUCKEYE RD", "NumeroExterior": "4400", "Municipio": "PHOENIX", "Estado": "AZ", "Pais": "USA",
     "CodigoPostal": "85043"},
)
INCOTERMS = ("FCA", "EXW", "DAP", "CPT", "FOB")


@dataclass(frozen=True)
class Line:
    """One concepto and its mercancía; the amounts are exact, so every cross-check holds to the cent."""

    product: Product
    no_identificacion: str
    cantidad: int
    valor_unitario_aduana: Decimal  # USD per UMT unit

    @property
    def valor_unitario(self) -> Decimal:
        return self.valor_unitario_aduana * self.product.umt_per_unit

    @property
    def cantidad_aduana(self) -> int:
        return self.cantidad * self.product.umt_per_unit

    @property
    def importe(self) -> Decimal:
        return (self.valor_unitario * self.cantidad).quantize(_CENTS)


def export_invoice(
    seq: int,
    issuer: Identity,
    pac: Identity,
    verifier: SealVerifier,
    *,
    fecha: datetime | None = None,
    receptor_name: str = "ACME IMPORTS LLC",
    n_items: int = 2,
    mutate: Callable[[etree._Element], None] | None = None,
) -> bytes:
    """A sealed and stamped CFDI 4.0 Ingreso with CCE 2.0 (Exportacion 02, USD), as UTF-8 bytes.

    ``fecha`` defaults to 09:00 the day after the issuer's certificate starts, plus ``seq`` minutes,
    so it always falls inside the certificate's validity. ``mutate`` edits the tree before
    sealing: the result is correctly sealed whatever the edit breaks (business-rule tests).
    """
    if n_items < 1:
        raise ValueError("an invoice needs at least one concepto")
    rnd = random.Random(seq)
    fecha = (fecha or _default_fecha(issuer, seq)).replace(microsecond=0)
    lines = _lines(rnd, n_items)
    tipo_cambio = Decimal(rnd.randint(165000, 205000)).scaleb(-4)
    root = _comprobante(seq, issuer, fecha, tipo_cambio, lines)
    _add_receptor(root, rnd, receptor_name)
    _add_conceptos(root, lines)
    _add_comercio_exterior(root, rnd, tipo_cambio, lines)
    if mutate is not None:
        mutate(root)
    root.set("Sello", issuer.sign(verifier.cadena_original(root)))
    _stamp(root, seq, issuer, pac, verifier, fecha + timedelta(minutes=1))
    etree.indent(root)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _default_fecha(issuer: Identity, seq: int) -> datetime:
    start = issuer.cert.not_valid_before_utc.replace(tzinfo=None) + timedelta(days=1)
    return start.replace(hour=9, minute=0, second=0) + timedelta(minutes=seq)


def folio_fiscal(issuer: Identity, seq: int) -> str:
    """The UUID a PAC would assign, shaped like SAT's (version 4) but derived from issuer and seq."""
    digest = hashlib.sha256(f"{issuer.rfc}/{seq}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4)).upper()


def _lines(rnd: random.Random, n_items: int) -> list[Line]:
    """``n_items`` lines over distinct products; part numbers get a suffix once products repeat."""
    order = list(PRODUCTS)
    rnd.shuffle(order)
    lines = []
    for i in range(n_items):
        product = order[i % len(order)]
        sku = product.sku if i < len(order) else f"{product.sku}-{i // len(order) + 1}"
        cents = rnd.randint(*product.price_cents)
        lines.append(Line(product, sku, rnd.randint(*product.quantity), Decimal(cents).scaleb(-2)))
    return lines


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENTS))


def _sub(parent: etree._Element, namespace: str, tag: str, attrs: dict[str, str]) -> etree._Element:
    return etree.SubElement(parent, f"{{{namespace}}}{tag}", attrs)


def _comprobante(
    seq: int, issuer: Identity, fecha: datetime, tipo_cambio: Decimal, lines: list[Line]
) -> etree._Element:
    subtotal = _money(sum((line.importe for line in lines), Decimal(0)))
    root = etree.Element(f"{{{CFDI}}}Comprobante", nsmap=NSMAP)
    for name, value in (
        ("Version", "4.0"), ("Serie", "EXP"), ("Folio", str(seq)), ("Fecha", fecha.strftime(_FECHA)),
        ("Sello", ""), ("FormaPago", "03"), ("NoCertificado", issuer.number),
        ("Certificado", issuer.certificate_b64), ("SubTotal", subtotal), ("Moneda", "USD"),
        ("TipoCambio", str(tipo_cambio)), ("Total", subtotal), ("TipoDeComprobante", "I"),
        ("Exportacion", "02"), ("MetodoPago", "PUE"), ("LugarExpedicion", LUGAR_EXPEDICION),
    ):
        root.set(name, value)
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    _sub(root, CFDI, "Emisor", {"Rfc": issuer.rfc, "Nombre": issuer.name, "RegimenFiscal": "601"})
    return root


def _add_receptor(root: etree._Element, rnd: random.Random, name: str) -> None:
    _sub(root, CFDI, "Receptor", {
        "Rfc": "XEXX010101000", "Nombre": name, "DomicilioFiscalReceptor": LUGAR_EXPEDICION,
        "ResidenciaFiscal": "USA", "NumRegIdTrib": str(rnd.randint(10**8, 10**9 - 1)),
        "RegimenFiscalReceptor": "616", "UsoCFDI": "S01",
    })


def _iva_cero(parent: etree._Element, base: Decimal) -> None:
    """IVA at 0%: the rate of exported goods (LIVA art. 29)."""
    traslados = _sub(parent, CFDI, "Traslados", {})
    _sub(traslados, CFDI, "Traslado", {
        "Base": _money(base), "Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.000000", "Importe": "0.00",
    })


def _add_conceptos(root: etree._Element, lines: list[Line]) -> None:
    conceptos = _sub(root, CFDI, "Conceptos", {})
    for line in lines:
        product = line.product
        concepto = _sub(conceptos, CFDI, "Concepto", {
            "ClaveProdServ": product.clave_prod_serv, "NoIdentificacion": line.no_identificacion,
            "Cantidad": str(line.cantidad), "ClaveUnidad": product.clave_unidad, "Unidad": product.unidad,
            "Descripcion": product.descripcion, "ValorUnitario": _money(line.valor_unitario),
            "Importe": _money(line.importe), "ObjetoImp": "02",
        })
        _iva_cero(_sub(concepto, CFDI, "Impuestos", {}), line.importe)
    impuestos = _sub(root, CFDI, "Impuestos", {"TotalImpuestosTrasladados": "0.00"})
    _iva_cero(impuestos, sum((line.importe for line in lines), Decimal(0)))


def _add_comercio_exterior(root: etree._Element, rnd: random.Random, tipo_cambio: Decimal, lines: list[Line]) -> None:
    """CCE 2.0; Moneda is USD and TipoCambioUSD = TipoCambio, so ValorDolares = Importe (CCE172)."""
    complemento = _sub(root, CFDI, "Complemento", {})
    cce = _sub(complemento, CCE, "ComercioExterior", {
        "Version": "2.0", "ClaveDePedimento": "A1", "CertificadoOrigen": "0", "Incoterm": rnd.choice(INCOTERMS),
        "TipoCambioUSD": str(tipo_cambio), "TotalUSD": _money(sum((line.importe for line in lines), Decimal(0))),
    })
    _sub(_sub(cce, CCE, "Emisor", {}), CCE, "Domicilio", EMISOR_DOMICILIO)
    # the receptor's RFC is the generic foreign one, so its foreign tax id goes here too (CCE133)
    receptor = root.find(f"{{{CFDI}}}Receptor")
    num_reg = receptor.get("NumRegIdTrib") if receptor is not None else None
    _sub(_sub(cce, CCE, "Receptor", {"NumRegIdTrib": num_reg} if num_reg else {}), CCE, "Domicilio",
         rnd.choice(RECEPTOR_DOMICILIOS))
    mercancias = _sub(cce, CCE, "Mercancias", {})
    for line in lines:
        _sub(mercancias, CCE, "Mercancia", {
            "NoIdentificacion": line.no_identificacion, "FraccionArancelaria": line.product.fraccion,
            "CantidadAduana": str(line.cantidad_aduana), "UnidadAduana": line.product.unidad_aduana,
            "ValorUnitarioAduana": _money(line.valor_unitario_aduana), "ValorDolares": _money(line.importe),
        })


def _stamp(
    root: etree._Element, seq: int, issuer: Identity, pac: Identity, verifier: SealVerifier, fecha_timbrado: datetime
) -> None:
    """Add the TimbreFiscalDigital 1.1 the way a PAC does: over the sealed comprobante's Sello."""
    complemento = root.find(f"{{{CFDI}}}Complemento")
    if complemento is None:  # a mutate may have removed it
        complemento = _sub(root, CFDI, "Complemento", {})
    tfd = _sub(complemento, TFD, "TimbreFiscalDigital", {
        "Version": "1.1", "UUID": folio_fiscal(issuer, seq),
        "FechaTimbrado": fecha_timbrado.strftime(_FECHA), "RfcProvCertif": pac.rfc,
        "SelloCFD": root.get("Sello", ""), "NoCertificadoSAT": pac.number,
    })
    tfd.set("SelloSAT", pac.sign(verifier.cadena_tfd(tfd)))
