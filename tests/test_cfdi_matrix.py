"""SAT's CFDI 4.0 and Comercio Exterior 2.0 matrices: for each implemented code, a document breaking only that rule.

Every case starts from a sound document (a generated, sealed export invoice or a sound variant
of it), edits it so that exactly the rule under test is broken, and checks that the matrix and
the foundation's rules report that SAT code and no other (``also`` lists the codes SAT's own
rules make inseparable, with the reason). Rules run on the parsed tree: seals are checked
elsewhere, and editing after sealing would only add CFDI-SEAL.
"""

from __future__ import annotations

from copy import deepcopy
from decimal import Decimal, getcontext, localcontext

import pytest
from lxml import etree

from gateway.findings import CODES, Severity
from gateway.kinds.cfdi.matrix import check_matrix, implemented_codes
from gateway.kinds.cfdi.matrix.doc import PRECISION, places, precise, rounded_like
from gateway.kinds.cfdi.sat_columns import sat_columns
from gateway.xmlsafe import parse
from tests.cfdi_matrix_fixtures import (
    C,
    X,
    cce,
    conceptos,
    dec,
    errors,
    global_invoice,
    mercancias,
    mex_domicilio,
    money,
    national,
    one,
    pago,
    resum,
    sat_codes,
    sub,
    traslado,
    usa_domicilio,
    variant,
    with_retencion,
)


@pytest.fixture(scope="module")
def export(make_invoice) -> etree._Element:
    root = parse(make_invoice(7)).root
    assert root is not None
    return root


def traslado_sin_aduana(root) -> None:
    """A Traslado whose mercancías carry no customs quantities: each concepto's Unidad is then its fracción's UMT."""
    traslado(root)
    umt = sat_columns().umt
    unidades = sat_columns().unidad_aduana
    by_noid = {c.get("NoIdentificacion"): c for c in conceptos(root)}
    for element in mercancias(root):
        for attr in ("CantidadAduana", "UnidadAduana", "ValorUnitarioAduana"):
            del element.attrib[attr]
        by_noid[element.get("NoIdentificacion")].set("Unidad", unidades[umt[element.get("FraccionArancelaria")][0]][0])


BASES = {"export": (), "national": (national,), "traslado": (traslado,), "pago": (pago,),
         "traslado_sin_aduana": (traslado_sin_aduana,),
         "global": (global_invoice,), "retencion": (with_retencion,), "national_retencion": (national, with_retencion)}


@pytest.mark.parametrize("base", sorted(BASES))
def test_bases_are_sound(export, base) -> None:
    root = variant(export, *BASES[base])
    assert errors(root) == [], [(f.sat_code, f.message) for f in errors(root)]


# --- mutation helpers -------------------------------------------------------------------------------------------

def setattrs(path: str, **attrs: str):
    def mutate(root):
        element = root if path == "." else one(root, path)
        for name, value in attrs.items():
            if value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, value)
    return mutate


def first_concepto(**attrs: str):
    return setattrs("cfdi:Conceptos/cfdi:Concepto", **attrs)


def concept_tax(kind: str = "Traslado", then_resum: bool = True, **attrs: str):
    group = "Traslados" if kind == "Traslado" else "Retenciones"

    def mutate(root):
        tax = one(conceptos(root)[0], f"cfdi:Impuestos/cfdi:{group}/cfdi:{kind}")
        for name, value in attrs.items():
            if value is None:
                tax.attrib.pop(name, None)
            else:
                tax.set(name, value)
        if then_resum:
            resum(root)
    return mutate


def comprobante_tax(kind: str = "Traslado", **attrs: str):
    group = "Traslados" if kind == "Traslado" else "Retenciones"
    return setattrs(f"cfdi:Impuestos/cfdi:{group}/cfdi:{kind}", **attrs)


def plus(path: str, attr: str, amount: str = "1.00"):
    def mutate(root):
        element = root if path == "." else one(root, path)
        element.set(attr, money(dec(element, attr) + Decimal(amount)))
    return mutate


def append_zero(path: str, attr: str):
    def mutate(root):
        element = root if path == "." else one(root, path)
        element.set(attr, element.get(attr) + "0")
    return mutate


def add(path: str, tag: str, first: bool = False, **attrs: str):
    def mutate(root):
        parent = root if path == "." else one(root, path)
        element = etree.Element(tag, attrs)
        if first:
            parent.insert(0, element)
        else:
            parent.append(element)
    return mutate


def tercero(rfc: str = "KIJ0906199R1", regimen: str = "601"):
    def mutate(root):
        concepto = conceptos(root)[0]
        concepto.insert(0, etree.Element(f"{C}ACuentaTerceros", RfcACuentaTerceros=rfc,
                                         NombreACuentaTerceros="KIJ SA DE CV", RegimenFiscalACuentaTerceros=regimen,
                                         DomicilioFiscalACuentaTerceros="22430"))
    return mutate


def pedimento(numero: str, in_parte: bool = False):
    def mutate(root):
        concepto = conceptos(root)[0]
        parent = concepto
        if in_parte:
            parent = parte()(root) or one(concepto, "cfdi:Parte")
        sub(parent, f"{C}InformacionAduanera", NumeroPedimento=numero)
    return mutate


def parte(**changes: str):
    def mutate(root):
        attrs = {"ClaveProdServ": "43211509", "Cantidad": "1.00", "Descripcion": "PANTALLA", "ValorUnitario": "10.00",
                 "Importe": "10.00"}
        attrs.update(changes)
        sub(conceptos(root)[0], f"{C}Parte", **attrs)
    return mutate


def cce_domicilio(node: str, **attrs: str):
    def mutate(root):
        domicilio = one(cce(root), f"cce20:{node}/cce20:Domicilio")
        domicilio.attrib.clear()
        for name, value in attrs.items():
            domicilio.set(name, value)
        if node == "Receptor" and attrs.get("Pais") == "MEX":
            mexican_receptor(root)
    return mutate


def mexican_receptor(root):
    """A receptor with a Mexican address has a Mexican RFC: the generic foreign RFC would need the foreign tax id
    in cce20:Receptor (CCE133), which a Mexican address forbids (CCE134)."""
    receptor = one(root, "cfdi:Receptor")
    for attr in ("ResidenciaFiscal", "NumRegIdTrib"):
        receptor.attrib.pop(attr, None)
    for name, value in {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPANOLA",
                        "DomicilioFiscalReceptor": "65000", "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}.items():
        receptor.set(name, value)
    one(cce(root), "cce20:Receptor").attrib.pop("NumRegIdTrib", None)


def destinatario(num_reg: str | None = None, **domicilio: str):
    """A cce20:Destinatario; outside Mexico it carries a foreign tax id unless ``num_reg`` is "" (CCE143)."""
    domicilio = domicilio or usa_domicilio()
    if num_reg is None and domicilio.get("Pais") != "MEX":
        num_reg = "123456789"

    def mutate(root):
        node = etree.Element(f"{X}Destinatario")
        if num_reg:
            node.set("NumRegIdTrib", num_reg)
        sub(node, f"{X}Domicilio", **domicilio)
        one(cce(root), "cce20:Mercancias").addprevious(node)
    return mutate


def propietario(num_reg: str = "123456789"):
    def mutate(root):
        one(cce(root), "cce20:Receptor").addprevious(
            etree.Element(f"{X}Propietario", NumRegIdTrib=num_reg, ResidenciaFiscal="USA"))
    return mutate


def mercancia(index: int = 0, **attrs: str):
    def mutate(root):
        element = mercancias(root)[index]
        for name, value in attrs.items():
            if value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, value)
    return mutate


def copy_mercancia(**changes: str):
    def mutate(root):
        original = mercancias(root)[0]
        copy = deepcopy(original)
        for name, value in changes.items():
            copy.set(name, value)
        original.addnext(copy)
    return mutate


def remove(path: str):
    def mutate(root):
        element = one(root, path)
        element.getparent().remove(element)
    return mutate


def exento(root):
    for concepto in conceptos(root):
        for tax in concepto.findall("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", {"cfdi": C[1:-1]}):
            tax.set("TipoFactor", "Exento")
            del tax.attrib["TasaOCuota"]
            del tax.attrib["Importe"]
    resum(root)


def fisica_emisor(regimen: str):
    return setattrs("cfdi:Emisor", Rfc="COSC8001137NA", Nombre="CARLOS COSIO", RegimenFiscal=regimen)


def second_cce(where: str):
    def mutate(root):
        copy = deepcopy(cce(root))
        if where == "Complemento":
            one(root, "cfdi:Complemento").append(copy)
        else:
            sub(root, f"{C}Addenda").append(copy)
    return mutate


def set_global(**attrs: str):
    return setattrs("cfdi:InformacionGlobal", **attrs)


def year_back(years: int):
    def mutate(root):
        one(root, "cfdi:InformacionGlobal").set("Año", str(int(root.get("Fecha")[:4]) - years))
    return mutate


def first_importe_plus(root):
    """Importe of the first concepto +1 with every sum that depends on it kept consistent."""
    concepto = conceptos(root)[0]
    concepto.set("Importe", money(dec(concepto, "Importe") + 1))
    root.set("SubTotal", money(dec(root, "SubTotal") + 1))


def descuento_over_importe(root):
    concepto = conceptos(root)[0]
    descuento = dec(concepto, "Importe") + 1
    concepto.set("Descuento", money(descuento))
    root.set("Descuento", money(descuento))
    root.set("Total", money(dec(root, "SubTotal") - descuento))


def second_concepto_same_noid(root):
    """A second concepto (1.00, IVA 0 %) with the first one's NoIdentificacion, left out of its ValorDolares."""
    first = conceptos(root)[0]
    copy = deepcopy(first)
    for name, value in {"Cantidad": "1", "ValorUnitario": "1.00", "Importe": "1.00"}.items():
        copy.set(name, value)
    one(copy, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado").set("Base", "1.00")
    first.addnext(copy)
    root.set("SubTotal", money(dec(root, "SubTotal") + 1))
    resum(root)


def zero_concepto_same_noid(root):
    """A second concepto of value 0 with the first one's NoIdentificacion (two conceptos, one mercancía)."""
    first = conceptos(root)[0]
    copy = deepcopy(first)
    for name, value in {"Cantidad": "1", "ValorUnitario": "0.00", "Importe": "0.00"}.items():
        copy.set(name, value)
    first.addnext(copy)


def descuento_first(amount: str):
    """A Descuento on the first concepto, with its traslado Base and the comprobante's sums kept consistent."""
    def mutate(root):
        first = conceptos(root)[0]
        first.set("Descuento", amount)
        tax = one(first, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado")
        tax.set("Base", money(dec(first, "Importe") - Decimal(amount)))
        root.set("Descuento", amount)
        resum(root)
    return mutate


def cantidad_with_decimals(root):
    concepto = conceptos(root)[0]
    concepto.set("Cantidad", concepto.get("Cantidad") + ".0000")


# (sat code, base, mutations, codes SAT's rules make fire together with it)
CASES: dict[str, tuple[str, tuple, frozenset[str]]] = {
    # comprobante
    "CFDI40101": ("export", (setattrs(".", Fecha="2025-02-30T10:00:00"),), frozenset()),
    "CFDI40103": ("traslado", (setattrs(".", FormaPago="03"),), frozenset()),
    "CFDI40104": ("export", (setattrs(".", FormaPago="77"),), frozenset()),
    "CFDI40105": ("export", (setattrs(".", MetodoPago="PPD"),), frozenset()),
    "CFDI40107": ("export", (append_zero(".", "SubTotal"),), frozenset()),
    # a Traslado with a Descuento also has Descuento > SubTotal 0 and Total < 0
    "CFDI40111": ("traslado", (first_concepto(Descuento="1.00"), setattrs(".", Descuento="1.00")),
                  frozenset({"CFDI40110", "CFDI40119"})),
    "CFDI40112": ("export", (first_concepto(Descuento="0.00"), setattrs(".", Descuento="0.000")), frozenset()),
    "CFDI40113": ("export", (setattrs(".", Moneda="ZZZ"),), frozenset()),
    "CFDI40114": ("national", (setattrs(".", TipoCambio="2"),), frozenset()),
    "CFDI40115": ("export", (setattrs(".", TipoCambio=None),), frozenset()),
    "CFDI40116": ("pago", (setattrs(".", TipoCambio="1"),), frozenset()),
    "CFDI40117": ("export", (setattrs(".", TipoCambio="17.12345678"),
                             setattrs("cfdi:Complemento/cce20:ComercioExterior", TipoCambioUSD="17.12345678")),
                  frozenset()),
    "CFDI40121": ("national", (setattrs(".", TipoDeComprobante="Z"),), frozenset()),
    "CFDI40123": ("national", (setattrs(".", Exportacion="09"),), frozenset()),
    "CFDI40124": ("export", (setattrs(".", MetodoPago="PPX"),), frozenset()),
    "CFDI40125": ("traslado", (setattrs(".", MetodoPago="PUE"),), frozenset()),
    "CFDI40126": ("national", (setattrs(".", LugarExpedicion="00001"),), frozenset()),
    "CFDI40130": ("global", (remove("cfdi:InformacionGlobal"),), frozenset()),
    "CFDI40131": ("global", (set_global(Periodicidad="09"),), frozenset()),
    "CFDI40132": ("global", (set_global(Periodicidad="05", Meses="13"),), frozenset()),
    "CFDI40133": ("global", (set_global(Meses="19"),), frozenset()),
    "CFDI40134": ("global", (set_global(Meses="13"),), frozenset()),
    "CFDI40135": ("global", (fisica_emisor("621"), set_global(Periodicidad="05", Meses="01")), frozenset()),
    "CFDI40136": ("global", (year_back(6),), frozenset()),
    "CFDI40137": ("export", (add(".", f"{C}CfdiRelacionados", first=True, TipoRelacion="99"),), frozenset()),
    "CFDI40222": ("export", (setattrs(".", Exportacion="01"),), frozenset()),
    # emisor / receptor
    "CFDI40140": ("export", (setattrs("cfdi:Emisor", RegimenFiscal="999"),), frozenset()),
    "CFDI40141": ("export", (setattrs("cfdi:Emisor", RegimenFiscal="605"),), frozenset()),
    "CFDI40146": ("national", (setattrs("cfdi:Receptor", Nombre="PUBLICO EN GENERAL"),), frozenset()),
    "CFDI40149": ("export", (setattrs("cfdi:Receptor", DomicilioFiscalReceptor="01000"),), frozenset()),
    "CFDI40150": ("export", (setattrs("cfdi:Receptor", ResidenciaFiscal="XYZ"),), frozenset()),
    "CFDI40151": ("national", (setattrs("cfdi:Receptor", ResidenciaFiscal="USA"),), frozenset()),
    "CFDI40152": ("export", (setattrs("cfdi:Receptor", ResidenciaFiscal="MEX"),), frozenset()),
    "CFDI40153": ("export", (setattrs("cfdi:Receptor", ResidenciaFiscal=None),), frozenset()),
    # a Mexican receptor with NumRegIdTrib either lacks ResidenciaFiscal (40153) or has it (40151)
    "CFDI40154": ("national", (setattrs("cfdi:Receptor", NumRegIdTrib="123456789"),), frozenset({"CFDI40153"})),
    "CFDI40155": ("export", (remove("cfdi:Complemento/cce20:ComercioExterior"), setattrs(".", Exportacion="01")),
                  frozenset()),
    "CFDI40156": ("export", (setattrs("cfdi:Receptor", NumRegIdTrib="ABC"),), frozenset()),
    "CFDI40157": ("export", (setattrs("cfdi:Receptor", RegimenFiscalReceptor="999"),), frozenset()),
    "CFDI40158": ("export", (setattrs("cfdi:Receptor", RegimenFiscalReceptor="601"),), frozenset()),
    "CFDI40160": ("export", (setattrs("cfdi:Receptor", UsoCFDI="Z99"),), frozenset()),
    "CFDI40161": ("export", (setattrs("cfdi:Receptor", UsoCFDI="G03"),), frozenset()),
    # conceptos
    "CFDI40162": ("export", (first_concepto(ClaveProdServ="99999999"),), frozenset()),
    "CFDI40165": ("export", (first_concepto(ClaveUnidad="ZZZ"),), frozenset()),
    # a zero ValorUnitario cannot give the concepto's non-zero Importe either
    "CFDI40166": ("national", (first_concepto(ValorUnitario="0.00"),), frozenset({"CFDI40167"})),
    "CFDI40167": ("national", (first_concepto(Cantidad="999"),), frozenset()),
    "CFDI40168": ("export", (first_concepto(Descuento="0.000"), setattrs(".", Descuento="0.00")), frozenset()),
    "CFDI40169": ("export", (descuento_over_importe,), frozenset()),
    "CFDI40170": ("national", (first_concepto(ObjetoImp="09"),), frozenset()),
    "CFDI40171": ("national", (remove("cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos"), resum), frozenset()),
    "CFDI40172": ("national", (first_concepto(ObjetoImp="01"),), frozenset()),
    "CFDI40173": ("national", (remove("cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Traslados"), resum),
                  frozenset()),
    "CFDI140226": ("national", (first_concepto(ObjetoImp="06"),), frozenset()),
    "CFDI140227": ("national", (first_concepto(ObjetoImp="07"),), frozenset()),
    "CFDI40188": ("national", (tercero(rfc="URE180429TM6"),), frozenset()),
    "CFDI140223": ("national", (tercero(rfc="EXT990101NI1", regimen="601"),), frozenset()),
    # a Traslado of IVA can only go: an ISR retention alone keeps the concepto an object of tax (ObjetoImp 02)
    "CFDI40164": ("national_retencion", (first_concepto(ClaveProdServ="84121603"),
                                         remove("cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Traslados"), resum),
                  frozenset()),
    # RESICO persona física to a persona moral, l_RFC's mark unknown: ISR is retained at 0.0125 or not at all
    "CFDI140225": ("national_retencion", (fisica_emisor("626"),), frozenset()),
    "CFDI40191": ("national", (tercero(regimen="999"),), frozenset()),
    "CFDI40194": ("national", (pedimento("99  47  3807  9000001"),), frozenset()),
    "CFDI40195": ("export", (pedimento("24  47  3807  4000001"),), frozenset()),
    "CFDI40196": ("national", (parte(ClaveProdServ="99999999"),), frozenset()),
    "CFDI40197": ("national", (parte(ValorUnitario="0.00", Importe="0.00"),), frozenset()),
    "CFDI40198": ("national", (parte(Importe="11.00"),), frozenset()),
    "CFDI40199": ("national", (pedimento("99  47  3807  9000001", in_parte=True),), frozenset()),
    "CFDI40200": ("export", (pedimento("24  47  3807  4000001", in_parte=True),), frozenset()),
    # concepto taxes
    "CFDI40174": ("national", (concept_tax(Base="0.00"),), frozenset()),
    # the comprobante's summary repeats the concepto's impuesto, factor or tasa: SAT reports both levels
    "CFDI40175": ("national", (concept_tax(Impuesto="009"),), frozenset({"CFDI40217"})),
    "CFDI40176": ("national", (concept_tax(TipoFactor="Doble"),), frozenset()),
    "CFDI40177": ("national", (concept_tax(TipoFactor="Exento"),), frozenset()),
    "CFDI40178": ("national", (concept_tax(Importe=None),), frozenset()),
    "CFDI40179": ("national", (concept_tax(TasaOCuota="0.170000"),), frozenset({"CFDI40219"})),
    "CFDI40180": ("national", (concept_tax(Importe="1.00"),), frozenset()),
    "CFDI40181": ("retencion", (concept_tax("Retencion", Base="0.00", Importe="0.00"),), frozenset()),
    "CFDI40182": ("retencion", (concept_tax("Retencion", Impuesto="009"),), frozenset({"CFDI40207"})),
    "CFDI40183": ("retencion", (concept_tax("Retencion", TipoFactor="Doble"),), frozenset()),
    "CFDI40184": ("retencion", (concept_tax("Retencion", TipoFactor="Exento"),), frozenset()),
    "CFDI40185": ("retencion", (concept_tax("Retencion", TasaOCuota="0.400000"),), frozenset()),
    "CFDI40186": ("retencion", (concept_tax("Retencion", Importe="1.00"),), frozenset()),
    # comprobante taxes
    "CFDI40201": ("traslado", (add(".", f"{C}Impuestos", TotalImpuestosRetenidos="0"),), frozenset()),
    "CFDI40202": ("retencion", (append_zero("cfdi:Impuestos", "TotalImpuestosRetenidos"),), frozenset()),
    "CFDI40204": ("export", (append_zero("cfdi:Impuestos", "TotalImpuestosTrasladados"),), frozenset()),
    "CFDI40207": ("retencion", (comprobante_tax("Retencion", Impuesto="009"),), frozenset()),
    "CFDI40208": ("retencion", (add("cfdi:Impuestos/cfdi:Retenciones", f"{C}Retencion", Impuesto="001",
                                    Importe="0.00"),), frozenset()),
    "CFDI40210": ("retencion", (append_zero("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", "Importe"),),
                  frozenset()),
    "CFDI40211": ("retencion", (plus("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", "Importe"),
                                plus("cfdi:Impuestos", "TotalImpuestosRetenidos"), plus(".", "Total", "-1.00")),
                  frozenset()),
    "CFDI40213": ("export", (comprobante_tax(TipoFactor=None),), frozenset()),
    "CFDI40214": ("export", (append_zero("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Base"),), frozenset()),
    "CFDI40215": ("export", (plus("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Base"),), frozenset()),
    "CFDI40216": ("national", (exento, plus("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Base")), frozenset()),
    "CFDI40217": ("export", (comprobante_tax(Impuesto="009"),), frozenset()),
    "CFDI40218": ("export", (add("cfdi:Impuestos/cfdi:Traslados", f"{C}Traslado", Base="0.00", Impuesto="002",
                                 TipoFactor="Tasa", TasaOCuota="0.000000", Importe="0.00"),), frozenset()),
    "CFDI40219": ("export", (comprobante_tax(TasaOCuota="0.170000"),), frozenset()),
    "CFDI40220": ("export", (append_zero("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", "Importe"),), frozenset()),
    "CFDI40221": ("export", (comprobante_tax(Importe="1.00"), setattrs("cfdi:Impuestos",
                                                                         TotalImpuestosTrasladados="1.00"),
                             plus(".", "Total")), frozenset()),
    # Comercio Exterior
    "CCE101": ("export", (setattrs(".", TipoDeComprobante="E"),), frozenset()),
    "CCE102": ("traslado", (setattrs("cfdi:Complemento/cce20:ComercioExterior", MotivoTraslado="05"),), frozenset()),
    "CCE103": ("export", (propietario(),), frozenset()),
    "CCE105": ("export", (setattrs(".", Exportacion="03"),), frozenset()),
    "CCE106": ("export", (add(".", f"{C}InformacionGlobal", first=True, Periodicidad="01", Meses="01",
                              Año="2025"),), frozenset()),
    "CCE108": ("traslado", (setattrs("cfdi:Complemento/cce20:ComercioExterior", MotivoTraslado="02"),),
               frozenset()),
    "CCE110": ("traslado", (first_concepto(ObjetoImp="03"),), frozenset()),
    "CCE111": ("export", (tercero(),), frozenset()),
    "CCE112": ("export", (lambda root: sub(conceptos(root)[0], f"{C}CuentaPredial", Numero="123"),), frozenset()),
    "CCE113": ("export", (second_cce("Complemento"),), frozenset()),
    "CCE114": ("export", (second_cce("Addenda"),), frozenset()),
    "CCE115": ("export", (add("cfdi:Complemento", "{http://www.sat.gob.mx/Pagos20}Pagos", Version="2.0"),),
               frozenset()),
    "CCE116": ("traslado", (setattrs("cfdi:Complemento/cce20:ComercioExterior", MotivoTraslado="01"),),
               frozenset()),
    "CCE118": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior", NumCertificadoOrigen="ABC123"),),
               frozenset()),
    "CCE119": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior", NumeroExportadorConfiable="X1"),),
               frozenset()),
    "CCE120": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior", Incoterm=None),), frozenset()),
    "CCE123": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior/cce20:Emisor",
                                   Curp="VADA800927HSRSRL05"),), frozenset()),
    "CCE124": ("export", (fisica_emisor("612"),), frozenset()),
    "CCE125": ("export", (cce_domicilio("Emisor", **mex_domicilio(Pais="USA")),), frozenset()),
    "CCE126": ("export", (cce_domicilio("Emisor", **mex_domicilio(Estado="CA")),), frozenset()),
    "CCE127": ("export", (cce_domicilio("Emisor", **mex_domicilio(Municipio="999")),), frozenset()),
    "CCE128": ("export", (cce_domicilio("Emisor", **mex_domicilio(Localidad="99")),), frozenset()),
    "CCE129": ("export", (cce_domicilio("Emisor", **mex_domicilio(Colonia="0001")),), frozenset()),
    "CCE130": ("export", (cce_domicilio("Emisor", **mex_domicilio(Municipio="001")),), frozenset()),
    "CCE132": ("traslado", (setattrs("cfdi:Complemento/cce20:ComercioExterior", MotivoTraslado="05"),
                            propietario("ABC")), frozenset()),
    # a Mexican address with the foreign tax id: the generic foreign RFC keeps CCE133 quiet
    "CCE133": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior/cce20:Receptor", NumRegIdTrib=None),),
               frozenset()),
    "CCE143": ("export", (destinatario(""),), frozenset()),
    "CCE154": ("traslado_sin_aduana", (cantidad_with_decimals,), frozenset()),
    "CCE155": ("traslado_sin_aduana", (mercancia(FraccionArancelaria=None), first_concepto(Unidad="CAJA DE CARTON")),
               frozenset()),
    "CCE156": ("traslado_sin_aduana", (append_zero("cfdi:Conceptos/cfdi:Concepto", "ValorUnitario"),), frozenset()),
    "CCE157": ("export", (second_concepto_same_noid,), frozenset()),
    "CCE162": ("traslado_sin_aduana", (first_concepto(Unidad="LITRO"),), frozenset()),
    "CCE163": ("export", (mercancia(FraccionArancelaria="9801000100"),), frozenset()),
    "CCE164": ("export", (mercancia(FraccionArancelaria="9801000100"), descuento_first("1.00")), frozenset()),
    "CCE165": ("traslado_sin_aduana", (zero_concepto_same_noid,), frozenset()),
    # ValorUnitarioAduana 0 cannot give a ValorDolares within CantidadAduana × ValorUnitarioAduana either
    "CCE168": ("export", (mercancia(ValorUnitarioAduana="0.00"),), frozenset({"CCE171"})),
    "CCE134": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior/cce20:Receptor/cce20:Domicilio",
                                   **mex_domicilio()),),
               frozenset()),
    "CCE135": ("export", (setattrs("cfdi:Complemento/cce20:ComercioExterior/cce20:Receptor", NumRegIdTrib="ABC"),),
               frozenset()),
    "CCE136": ("export", (cce_domicilio("Receptor", **mex_domicilio(Colonia="0001")),), frozenset()),
    "CCE137": ("export", (cce_domicilio("Receptor", **mex_domicilio(Localidad="99")),), frozenset()),
    "CCE138": ("export", (cce_domicilio("Receptor", **mex_domicilio(Municipio="999")),), frozenset()),
    "CCE139": ("export", (cce_domicilio("Receptor", **usa_domicilio(Estado="BCN")),), frozenset()),
    "CCE140": ("export", (cce_domicilio("Receptor", **usa_domicilio(CodigoPostal="ABCDE")),), frozenset()),
    "CCE141": ("export", (cce_domicilio("Receptor", **mex_domicilio(Municipio="001")),), frozenset()),
    "CCE142": ("traslado", (destinatario(), destinatario()), frozenset()),
    "CCE144": ("export", (destinatario("ABC"),), frozenset()),
    "CCE145": ("export", (destinatario(**mex_domicilio(Colonia="0001")),), frozenset()),
    "CCE146": ("export", (destinatario(**mex_domicilio(Localidad="99")),), frozenset()),
    "CCE147": ("export", (destinatario(**mex_domicilio(Municipio="999")),), frozenset()),
    "CCE148": ("export", (destinatario(**usa_domicilio(Estado="BCN")),), frozenset()),
    "CCE149": ("export", (destinatario(**usa_domicilio(CodigoPostal="ABCDE")),), frozenset()),
    "CCE150": ("export", (destinatario(**mex_domicilio(Municipio="001")),), frozenset()),
    # without NoIdentificacion the concepto's mercancía no longer finds it either
    "CCE151": ("export", (first_concepto(NoIdentificacion=None),), frozenset({"CCE152"})),
    "CCE153": ("export", (copy_mercancia(CantidadAduana="0", ValorDolares="0.00"),), frozenset()),
    "CCE158": ("export", (copy_mercancia(FraccionArancelaria="8471300199", CantidadAduana="1",
                                         ValorUnitarioAduana="1.00", ValorDolares="1.00"),
                          plus("cfdi:Complemento/cce20:ComercioExterior", "TotalUSD")), frozenset()),
    "CCE159": ("export", (mercancia(UnidadAduana="99"),), frozenset()),
    "CCE160": ("export", (mercancia(FraccionArancelaria=None),), frozenset()),
    "CCE166": ("export", (mercancia(ValorUnitarioAduana=None),), frozenset()),
    "CCE171": ("export", (lambda root: plus(".", "ValorUnitarioAduana")(mercancias(root)[0]),), frozenset()),
    "CCE172": ("export", (plus("cfdi:Complemento/cce20:ComercioExterior", "TipoCambioUSD", "0.5"),), frozenset()),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_breaks_alone(export, code) -> None:
    base, mutations, also = CASES[code]
    root = variant(export, *BASES[base], *mutations)
    found = errors(root)
    assert {f.sat_code for f in found} == {code, *also}, [(f.sat_code, f.message) for f in found]
    for finding in found:
        assert finding.code in CODES and finding.message.endswith(".")
        assert isinstance(finding.location.get("line"), int)
        assert finding.location["xpath"].startswith("/cfdi:Comprobante")


def total_usd(root) -> None:
    """TotalUSD = the sum of ValorDolares (CCE122), after a mutation changed one of them."""
    cce(root).set("TotalUSD", money(sum((dec(m, "ValorDolares") for m in mercancias(root)), Decimal(0))))


def unidad_as_key(root) -> None:
    """Each concepto's Unidad as the c_UnidadAduana key of its fracción's UMT ("01"), not its description."""
    umt = sat_columns().umt
    by_noid = {c.get("NoIdentificacion"): c for c in conceptos(root)}
    for element in mercancias(root):
        by_noid[element.get("NoIdentificacion")].set("Unidad", f" {umt[element.get('FraccionArancelaria')][0]} ")


# Where SAT's documents disagree, every reading they allow passes (docs/cfdi-coverage.md says which)
READINGS: dict[str, tuple[str, tuple]] = {
    # CCE155/CCE162: Unidad as the key (matrix: "un valor del catálogo"); the base uses the description (Guía)
    "unidad-as-key": ("traslado_sin_aduana", (unidad_as_key,)),
    # CCE156: minimum "0.0000" (matrix, Estándar) or "0.0001" (Guía): a ValorUnitario of 0 passes
    "valor-unitario-zero": ("traslado_sin_aduana", (first_concepto(ValorUnitario="0", Importe="0.00"),
                                                    mercancia(ValorDolares="0"), total_usd)),
    # CCE157 (and CCE169): ValorDolares "0" or "1" skip the limits
    "valor-dolares-one": ("export", (second_concepto_same_noid, mercancia(ValorDolares="1"), total_usd)),
    # CCE165: several conceptos with one NoIdentificacion (matrix); several mercancías (only the Estándar) pass
    "two-mercancias-one-noid": ("traslado_sin_aduana", (copy_mercancia(FraccionArancelaria="3926909901",
                                                                       ValorDolares="0"),)),
}


@pytest.mark.parametrize("name", sorted(READINGS))
def test_every_reading_sat_allows_passes(export, name) -> None:
    base, mutations = READINGS[name]
    root = variant(export, *BASES[base], *mutations)
    assert errors(root) == [], [(f.sat_code, f.message) for f in errors(root)]


def test_valor_dolares_one_skips_the_customs_limits(export) -> None:
    """CCE169/CCE171 (Estándar p. 44): ValorDolares "1" is not held to CantidadAduana × ValorUnitarioAduana; its
    conversion from the concepto's Importe (CCE172) is another rule and still applies."""
    assert sat_codes(variant(export, mercancia(ValorDolares="1"), total_usd)) == {"CCE172"}


def test_muestras_descuento_compared_as_written_and_in_dollars(export) -> None:
    """CCE164 compares ValorDolares with the Descuentos as written, CCE163 converts them: reported only when
    ValorDolares exceeds both. In MXN at TipoCambioUSD 20.3193, a Descuento of 100.00 is 4.93 USD."""
    def in_mxn(valor: str):
        def mutate(root):
            root.set("Moneda", "MXN")
            del root.attrib["TipoCambio"]
            mercancia(FraccionArancelaria="9801000100", ValorDolares=valor)(root)
            descuento_first("100.00")(root)
        return mutate

    def codes(valor: str) -> set[str | None]:
        return {f.sat_code for f in errors(variant(export, in_mxn(valor)))}

    assert "CCE164" not in codes("4.93") and "CCE164" not in codes("100.00")
    assert "CCE164" in codes("100.01")


def test_muestras_worth_nothing_need_no_descuento(export) -> None:
    root = variant(export, mercancia(FraccionArancelaria="9801000100"),
                   first_concepto(ValorUnitario="0.00", Importe="0.00"))
    assert "CCE163" not in {f.sat_code for f in errors(root)}


# --- through the document kind ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kind(sat_root):
    from gateway.kinds.cfdi.kind import CfdiKind

    return CfdiKind(sat_root, verify_seals=False)


def test_generated_invoice_passes_the_kind(kind, make_invoice) -> None:
    result = kind.check(make_invoice(21))
    assert result.ok, [(f.code, f.sat_code, f.message) for f in result.findings]
    assert [f.code for f in result.findings] == ["SAT-DATA-UNCHECKED"]


def test_schema_and_matrix_report_a_catalog_value_once(kind, make_invoice) -> None:
    """FormaPago 77 breaks the XSD enumeration and CFDI40104: one XSD finding carrying the SAT code."""
    data = make_invoice(22).replace(b'FormaPago="03"', b'FormaPago="77"', 1)
    result = kind.check(data)
    errors_ = [f for f in result.findings if f.severity is Severity.ERROR]
    assert [(f.code, f.sat_code) for f in errors_] == [("XSD", "CFDI40104")]


def test_lifted_catalog_and_matrix_report_once(kind, make_invoice) -> None:
    data = make_invoice(23)
    start = data.index(b'ClaveProdServ="') + len(b'ClaveProdServ="')
    data = data[:start] + b"99999999" + data[data.index(b'"', start):]
    errors_ = [f for f in kind.check(data).findings if f.severity is Severity.ERROR]
    assert [(f.code, f.sat_code) for f in errors_] == [("XSD", "CFDI40162")]
    assert errors_[0].location["xpath"].endswith("cfdi:Concepto[1]/@ClaveProdServ")


def test_every_implemented_code_is_registered_once_per_function() -> None:
    codes = implemented_codes()
    assert all(code.startswith(("CFDI4", "CFDI1", "CCE1")) for code in codes)
    assert len(codes) == len(set(codes))


def test_unparseable_amounts_are_left_to_the_xsd(export) -> None:
    root = variant(export, lambda r: conceptos(r)[0].set("Importe", "1,000.00"))
    assert {f.sat_code for f in check_matrix(root) if f.severity is Severity.ERROR} == set()


@pytest.mark.parametrize("attr", ["SubTotal", "Total", "TotalImpuestosTrasladados", "Importe", "TotalUSD",
                                  "ValorDolares"])
def test_absurd_amounts_are_xsd_findings_not_internal_errors(kind, export, attr) -> None:
    """1E+70 parses as a Decimal but cannot be rounded to cents: the XSD rejects it, no rule may raise."""
    root = variant(export)
    element = next(e for e in root.iter() if e.get(attr) is not None)
    element.set(attr, "1E+70")
    result = kind.check(etree.tostring(root))
    assert "XSD" in {f.code for f in result.findings}
    assert all(f.message.endswith(".") or f.code == "XSD" for f in result.findings)


# --- SAT codes reported by the foundation's rules and seal checks ------------------------------------------------

def _drop(path: str, attr: str):
    return setattrs(path, **{attr: None})


def _total_equals_subtotal(root):
    root.set("Total", root.get("SubTotal"))


def _descuento_over_subtotal(root):
    subtotal = dec(root, "SubTotal")
    conceptos(root)[0].set("Descuento", money(subtotal + 1))
    root.set("Descuento", money(subtotal + 1))
    root.set("Total", "-1.00")


FOUNDATION_CASES: dict[str, tuple[str, tuple, frozenset[str]]] = {
    "CFDI40108": ("export", (plus(".", "SubTotal"), plus(".", "Total")), frozenset()),
    "CFDI40109": ("traslado", (setattrs(".", SubTotal="1", Total="1"),), frozenset()),
    # a Descuento above the SubTotal needs a concepto Descuento above its Importe
    "CFDI40110": ("export", (_descuento_over_subtotal,), frozenset({"CFDI40169"})),
    "CFDI40119": ("export", (plus(".", "Total"),), frozenset()),
    # the export's foreign receptor keeps NumRegIdTrib, which also needs the complement
    "CFDI40122": ("export", (remove("cfdi:Complemento/cce20:ComercioExterior"),), frozenset({"CFDI40155"})),
    "CFDI40203": ("retencion", (plus("cfdi:Impuestos", "TotalImpuestosRetenidos"), plus(".", "Total", "-1.00")),
                  frozenset()),
    "CFDI40205": ("export", (setattrs("cfdi:Impuestos", TotalImpuestosTrasladados="1.00"), plus(".", "Total")),
                  frozenset()),
    "CFDI40206": ("retencion", (_drop("cfdi:Impuestos", "TotalImpuestosRetenidos"), _total_equals_subtotal),
                  frozenset()),
    "CFDI40212": ("export", (_drop("cfdi:Impuestos", "TotalImpuestosTrasladados"),), frozenset()),
    "CCE122": ("export", (plus("cfdi:Complemento/cce20:ComercioExterior", "TotalUSD"),), frozenset()),
    "CCE152": ("export", (mercancia(NoIdentificacion="SKU-X"),), frozenset()),
}


@pytest.mark.parametrize("code", sorted(FOUNDATION_CASES))
def test_foundation_rule_breaks_alone(export, code) -> None:
    base, mutations, also = FOUNDATION_CASES[code]
    root = variant(export, *BASES[base], *mutations)
    assert sat_codes(root) == {code, *also}, [(f.sat_code, f.message) for f in errors(root)]


@pytest.mark.parametrize("code", ["CFDI40102", "CFDI40106"])
def test_seal_code(sat_root, make_invoice, code) -> None:
    from gateway.kinds.cfdi.kind import CfdiKind

    data = make_invoice(24)
    attr = b' Sello="' if code == "CFDI40102" else b' Certificado="'
    start = data.index(attr) + len(attr)
    value = data[start:data.index(b'"', start)]
    # a seal of something else (kept equal in the timbre's SelloCFD), or a Certificado that is no certificate
    data = data.replace(value, b"QUJD" + value[4:]) if code == "CFDI40102" else data.replace(value, b"QUJD")
    result = CfdiKind(sat_root).check(data)
    assert {f.sat_code for f in result.findings if f.severity is Severity.ERROR} == {code}


@pytest.mark.parametrize("value", ["x", "", " ", "-1", "1E+70", "99999999999999999999.9999999999", "NaN", "٣"])
def test_garbage_in_any_attribute_never_raises(kind, export, value) -> None:
    """The rules run on documents the XSD rejects too: every attribute of every element set to junk.

    Through the whole kind (XSD, matrix, foundation rules, canonical record): a rule that raised
    would turn a plain schema error into an INTERNAL one.
    """
    for element in export.iter():
        for attr in list(element.attrib):
            if attr in ("Sello", "Certificado", "SelloSAT", "SelloCFD"):
                continue
            root = deepcopy(export)
            twin = next(e for e, o in zip(root.iter(), export.iter(), strict=True) if o is element)
            twin.set(attr, value)
            for finding in check_matrix(root):
                assert finding.message and finding.code in CODES
            result = kind.check(etree.tostring(root))
            assert all(f.message and f.code in CODES and f.code != "INTERNAL" for f in result.findings)


@pytest.mark.parametrize(("written", "expected"), [
    ("100", 0), ("10.50", 2), ("-0.50", 2), ("0.000001", 6), ("0.0000001", 7), ("0.00000010", 8), ("1E+2", 0),
    ("1.50E+3", 0), ("12345678901234567890.123456", 6), ("NaN", 0), ("Infinity", 0),
])
def test_places_counts_decimals_as_written(written: str, expected: int) -> None:
    """``places`` reads ``str(value)``; scientific notation takes the general path and must agree with it."""
    value = Decimal(written)
    exponent = value.as_tuple().exponent
    assert places(value) == expected == (-exponent if isinstance(exponent, int) and exponent < 0 else 0)


def test_rounded_like_rounds_half_up_to_the_decimals_written() -> None:
    assert rounded_like(Decimal("10.005"), Decimal("1.00")) == Decimal("10.01")
    assert str(rounded_like(Decimal("7"), Decimal("0.000000"))) == "7.000000"
    assert rounded_like(Decimal("2.5"), Decimal("3")) == Decimal("3")


def test_rules_compute_in_a_precise_context_whoever_calls_them() -> None:
    """Called alone (default 28 digits) the rules still compute with 60; inside ``precise`` nothing is re-entered."""
    with localcontext() as outer:
        outer.prec = 28
        with precise():
            assert getcontext().prec == PRECISION
            inner = getcontext()
            with precise():
                assert getcontext() is inner
        assert getcontext().prec == 28
