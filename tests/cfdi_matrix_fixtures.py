"""Documents for the SAT-matrix tests: a sound generated export invoice and sound variants of it.

Each variant (national Ingreso, Traslado with Comercio Exterior, Pago) passes every rule;
a test then breaks exactly one rule on a copy. Amount helpers keep the comprobante-level
sums consistent after a concepto-level edit, so only the rule under test fires.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from gateway.findings import Finding, Severity
from gateway.kinds.cfdi.matrix import check_matrix
from gateway.kinds.cfdi.rules import check_rules
from gateway.kinds.cfdi.satdata import SatData
from gateway.xmlsafe import parse

C = "{http://www.sat.gob.mx/cfd/4}"
X = "{http://www.sat.gob.mx/ComercioExterior20}"
NS = {"cfdi": C[1:-1], "cce20": X[1:-1]}
Mutation = Callable[[etree._Element], None]
CENT = Decimal("0.01")


def errors(root: etree._Element, satdata: SatData | None = None) -> list[Finding]:
    """Error findings of the matrix and of the foundation's rules."""
    return [f for f in (*check_matrix(root, satdata=satdata), *check_rules(root)) if f.severity is Severity.ERROR]


def sat_codes(root: etree._Element, satdata: SatData | None = None) -> set[str | None]:
    return {f.sat_code for f in errors(root, satdata)}


def one(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path, NS)
    assert element is not None, path
    return element


def sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, attrs)


def put(element: etree._Element, **attrs: str) -> None:
    for name, value in attrs.items():
        element.set(name, value)


def dec(element: etree._Element, attr: str) -> Decimal:
    return Decimal(element.get(attr))


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def conceptos(root: etree._Element) -> list[etree._Element]:
    return root.findall("cfdi:Conceptos/cfdi:Concepto", NS)


def mercancias(root: etree._Element) -> list[etree._Element]:
    return root.findall("cfdi:Complemento/cce20:ComercioExterior/cce20:Mercancias/cce20:Mercancia", NS)


def cce(root: etree._Element) -> etree._Element:
    return one(root, "cfdi:Complemento/cce20:ComercioExterior")


def resum(root: etree._Element) -> None:
    """Rebuild the comprobante's Impuestos and Total from the conceptos' taxes (kept consistent by design)."""
    traslados: dict[tuple[str, str, str | None], list[Decimal]] = {}
    retenciones: dict[str, Decimal] = {}
    for concepto in conceptos(root):
        for tax in concepto.findall("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", NS):
            key = (tax.get("Impuesto"), tax.get("TipoFactor"), tax.get("TasaOCuota"))
            base, importe = dec(tax, "Base"), Decimal(tax.get("Importe") or "0")
            sums = traslados.setdefault(key, [Decimal(0), Decimal(0)])
            sums[0] += base
            sums[1] += importe
        for tax in concepto.findall("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", NS):
            retenciones[tax.get("Impuesto")] = retenciones.get(tax.get("Impuesto"), Decimal(0)) + dec(tax, "Importe")
    old = root.find("cfdi:Impuestos", NS)
    index = list(root).index(old) if old is not None else list(root).index(one(root, "cfdi:Conceptos")) + 1
    if old is not None:
        root.remove(old)
    total_tras = sum((v[1] for k, v in traslados.items() if k[1] != "Exento"), Decimal(0))
    total_ret = sum(retenciones.values(), Decimal(0))
    if traslados or retenciones:
        impuestos = etree.Element(f"{C}Impuestos")
        root.insert(index, impuestos)
        if retenciones:
            impuestos.set("TotalImpuestosRetenidos", money(total_ret))
            group = sub(impuestos, f"{C}Retenciones")
            for impuesto, importe in retenciones.items():
                sub(group, f"{C}Retencion", Impuesto=impuesto, Importe=money(importe))
        if traslados:
            if any(k[1] != "Exento" for k in traslados):
                impuestos.set("TotalImpuestosTrasladados", money(total_tras))
            group = sub(impuestos, f"{C}Traslados")
            for (impuesto, factor, tasa), (base, importe) in traslados.items():
                attrs = {"Base": money(base), "Impuesto": impuesto, "TipoFactor": factor}
                if factor != "Exento":
                    attrs.update(TasaOCuota=tasa, Importe=money(importe))
                sub(group, f"{C}Traslado", **attrs)
    subtotal = Decimal(root.get("SubTotal"))
    descuento = Decimal(root.get("Descuento") or "0")
    root.set("Total", money(subtotal - descuento + total_tras - total_ret))


def national(root: etree._Element) -> None:
    """Export invoice -> a domestic Ingreso in MXN to a Mexican company (no Comercio Exterior)."""
    complemento = one(root, "cfdi:Complemento")
    complemento.remove(cce(root))
    root.set("Exportacion", "01")
    root.set("Moneda", "MXN")
    del root.attrib["TipoCambio"]
    receptor = one(root, "cfdi:Receptor")
    for attr in ("ResidenciaFiscal", "NumRegIdTrib"):
        del receptor.attrib[attr]
    put(receptor, Rfc="URE180429TM6", Nombre="UNIVERSIDAD ROBOTICA ESPANOLA", DomicilioFiscalReceptor="65000",
                           RegimenFiscalReceptor="601", UsoCFDI="G03")


def traslado(root: etree._Element) -> None:
    """Export invoice -> a Traslado (T) with Comercio Exterior: no taxes, no payment data, SubTotal 0."""
    root.set("TipoDeComprobante", "T")
    for attr in ("FormaPago", "MetodoPago"):
        del root.attrib[attr]
    root.remove(one(root, "cfdi:Impuestos"))
    for concepto in conceptos(root):
        concepto.set("ObjetoImp", "01")
        concepto.remove(one(concepto, "cfdi:Impuestos"))
    root.set("SubTotal", "0")
    root.set("Total", "0")
    cce(root).set("MotivoTraslado", "03")


def pago(root: etree._Element) -> None:
    """National invoice -> a Pago (P) in XXX with one zero-valued concepto."""
    national(root)
    root.set("TipoDeComprobante", "P")
    root.set("Moneda", "XXX")
    for attr in ("FormaPago", "MetodoPago"):
        del root.attrib[attr]
    root.remove(one(root, "cfdi:Impuestos"))
    first, *rest = conceptos(root)
    for extra in rest:
        extra.getparent().remove(extra)
    first.remove(one(first, "cfdi:Impuestos"))
    put(first, ClaveProdServ="84111506", Cantidad="1", ClaveUnidad="ACT", ValorUnitario="0", Importe="0",
                        ObjetoImp="01", Descripcion="Pago")
    for attr in ("NoIdentificacion", "Unidad"):
        first.attrib.pop(attr, None)
    root.set("SubTotal", "0")
    root.set("Total", "0")
    one(root, "cfdi:Receptor").set("UsoCFDI", "CP01")


def with_retencion(root: etree._Element) -> None:
    """Add an ISR retention at 10% to the first concepto and rebuild the comprobante's taxes."""
    first = conceptos(root)[0]
    impuestos = one(first, "cfdi:Impuestos")
    group = sub(impuestos, f"{C}Retenciones")
    base = dec(first, "Importe")
    sub(group, f"{C}Retencion", Base=money(base), Impuesto="001", TipoFactor="Tasa", TasaOCuota="0.100000",
        Importe=money(base * Decimal("0.1")))
    resum(root)


def global_invoice(root: etree._Element) -> None:
    """National invoice -> a factura global to PUBLICO EN GENERAL with InformacionGlobal."""
    national(root)
    receptor = one(root, "cfdi:Receptor")
    put(receptor, Rfc="XAXX010101000", Nombre="PUBLICO EN GENERAL", RegimenFiscalReceptor="616",
                           UsoCFDI="S01", DomicilioFiscalReceptor=root.get("LugarExpedicion"))
    node = etree.Element(f"{C}InformacionGlobal", Periodicidad="01", Meses="01", Año=root.get("Fecha")[:4])
    root.insert(0, node)


def mex_domicilio(**changes: str) -> dict[str, str]:
    base = {"Calle": "AV. INDUSTRIAL", "NumeroExterior": "100", "Colonia": "2817", "Localidad": "04",
            "Municipio": "004", "Estado": "BCN", "Pais": "MEX", "CodigoPostal": "22430"}
    base.update(changes)
    return base


def usa_domicilio(**changes: str) -> dict[str, str]:
    base = {"Calle": "MAIN ST", "NumeroExterior": "1", "Municipio": "SAN DIEGO", "Estado": "CA", "Pais": "USA",
            "CodigoPostal": "92154"}
    base.update(changes)
    return base


def variant(base: etree._Element, *steps: Mutation) -> etree._Element:
    """A copy of ``base`` edited by ``steps``, serialised and parsed again so every node has its line."""
    root = deepcopy(base)
    for step in steps:
        step(root)
    etree.indent(root)
    parsed = parse(etree.tostring(root, encoding="UTF-8"))
    assert parsed.root is not None
    return parsed.root
