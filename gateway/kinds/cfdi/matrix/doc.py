"""One pass over a parsed CFDI collecting what the matrix rules read, plus the helpers they share.

The rules run on every document, so the tree is walked once here (children of the
comprobante and of each concepto, never ``iter()`` over the whole tree) and each rule
reads plain attributes. Numbers become ``Decimal`` only where a rule compares money.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, getcontext, localcontext

from lxml import etree

from gateway.findings import Finding, error
from gateway.kinds.cfdi.catalogs import Catalogs
from gateway.kinds.cfdi.effective import in_force
from gateway.kinds.cfdi.sat_columns import SatColumns, sat_columns
from gateway.kinds.cfdi.satdata import SatData
from gateway.xmlsafe import children_by_tag, xpath_of

CFDI = "http://www.sat.gob.mx/cfd/4"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
CCE20 = "http://www.sat.gob.mx/ComercioExterior20"
_C = f"{{{CFDI}}}"
_X = f"{{{CCE20}}}"
_CONCEPTOS, _CONCEPTO, _EMISOR, _RECEPTOR = _C + "Conceptos", _C + "Concepto", _C + "Emisor", _C + "Receptor"
_IMPUESTOS, _COMPLEMENTO = _C + "Impuestos", _C + "Complemento"
_CCE20_ROOT = _X + "ComercioExterior"
_CCE11_ROOT = "{http://www.sat.gob.mx/ComercioExterior11}ComercioExterior"
_TIMBRE = f"{{{TFD}}}TimbreFiscalDigital"
_LOCALES = "{http://www.sat.gob.mx/implocal}ImpuestosLocales"
_ACUENTATERCEROS = _C + "ACuentaTerceros"
_ADDENDA = _C + "Addenda"
_CFDIRELACIONADOS = _C + "CfdiRelacionados"
_COMPLEMENTOCONCEPTO = _C + "ComplementoConcepto"
_CUENTAPREDIAL = _C + "CuentaPredial"
_INFORMACIONADUANERA = _C + "InformacionAduanera"
_INFORMACIONGLOBAL = _C + "InformacionGlobal"
_PARTE = _C + "Parte"
_RETENCION = _C + "Retencion"
_RETENCIONES = _C + "Retenciones"
_TRASLADO = _C + "Traslado"
_TRASLADOS = _C + "Traslados"

Element = etree._Element
_FECHA = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})")
GENERIC_NATIONAL = "XAXX010101000"
GENERIC_FOREIGN = "XEXX010101000"


class Skip(Exception):
    """A value the rule needs does not parse; the XSD reports it, the rule stays quiet."""


class Attrs(dict):
    """An element's attributes read at once (``attrs_of``), with the element kept for locating findings.

    For the nodes the rules read over and over (taxes, mercancías): ``items()`` reads an attribute for
    three quarters of what one ``get`` costs, and every later read is a dictionary lookup. It answers
    ``get`` like the element, so ``num`` and the rules take either.
    """

    __slots__ = ("element",)


def attrs_of(element: Element) -> Attrs:
    """``element``'s attributes as an ``Attrs`` record (a function, not ``__init__``: a Python-level
    ``__init__`` calling ``dict.__init__`` costs a fifth of reading five attributes)."""
    record = Attrs(element.items())
    record.element = element
    return record


def element_of(node: Element | Attrs) -> Element:
    """The element behind an ``Attrs`` record (or the element itself), for locating a finding."""
    return node.element if isinstance(node, Attrs) else node


class _Node:
    """An element whose stripped attributes are read once and kept: many rules read the same few."""

    __slots__ = ("element", "_attributes")

    def __init__(self, element: Element) -> None:
        self.element = element
        self._attributes: dict[str, str] = {}

    def get(self, attr: str) -> str:
        """The attribute, stripped ("" if absent)."""
        value = self._attributes.get(attr)
        if value is None:
            value = self._attributes[attr] = _strip(self.element.get(attr))
        return value


class Concepto(_Node):
    """A cfdi:Concepto and its children, found in one pass."""

    __slots__ = ("impuestos", "traslados", "retenciones", "terceros", "predial", "aduanera", "partes", "complemento")

    def __init__(self, element: Element) -> None:
        super().__init__(element)
        self.impuestos: Element | None = None
        self.traslados: list[Attrs] = []
        self.retenciones: list[Attrs] = []
        self.terceros: Element | None = None
        self.predial: list[Element] = []
        self.aduanera: list[Element] = []
        self.partes: list[Element] = []
        self.complemento: Element | None = None  # ComplementoConcepto
        for child in element:
            tag = child.tag
            if tag == _IMPUESTOS:
                self.impuestos = child
                _collect_taxes(child, self.traslados, self.retenciones)
            elif tag == _ACUENTATERCEROS:
                self.terceros = child
            elif tag == _CUENTAPREDIAL:
                self.predial.append(child)
            elif tag == _INFORMACIONADUANERA:
                self.aduanera.append(child)
            elif tag == _PARTE:
                self.partes.append(child)
            elif tag == _COMPLEMENTOCONCEPTO:
                self.complemento = child


class Doc(_Node):
    """What the rules need from one cfdi:Comprobante, with the catalogs and SAT data to check it against."""

    def __init__(self, root: Element, catalogs: Catalogs, satdata: SatData | None = None,
                 columns: SatColumns | None = None) -> None:
        super().__init__(root)
        self.cat = catalogs
        self.sat = satdata or SatData()
        #: the catalog columns satcfdi lacks (c_ClaveProdServ flags, UMT, c_UnidadAduana): the shipped copy
        self.columns = columns or sat_columns()
        self.emisor: Element | None = None
        self.receptor: Element | None = None
        self.global_: Element | None = None
        self.relacionados: list[Element] = []
        self.conceptos: list[Concepto] = []
        self.impuestos: Element | None = None
        self.complementos: list[Element] = []  # the children of every cfdi:Complemento
        self.complemento_nodes: list[Element] = []
        self.addenda: Element | None = None
        self.addenda_nodes: list[Element] = []  # every cfdi:Addenda (the XSD allows one; ``addenda`` is the last)
        self.cce: list[Element] = []
        self.cce11: list[Element] = []
        self.timbres: list[Element] = []
        self.locales: list[Element] = []  # implocal:ImpuestosLocales
        for child in root:  # the first of a node the XSD allows once, as ``find`` would
            tag = child.tag
            if tag == _CONCEPTOS:
                for concepto in child:
                    if concepto.tag == _CONCEPTO:
                        self.conceptos.append(Concepto(concepto))
            elif tag == _EMISOR:
                self.emisor = child if self.emisor is None else self.emisor
            elif tag == _RECEPTOR:
                self.receptor = child if self.receptor is None else self.receptor
            elif tag == _IMPUESTOS:
                self.impuestos = child if self.impuestos is None else self.impuestos
            elif tag == _COMPLEMENTO:
                self.complemento_nodes.append(child)
                self._complements(child)
            elif tag == _CFDIRELACIONADOS:
                self.relacionados.append(child)
            elif tag == _INFORMACIONGLOBAL:
                self.global_ = child
            elif tag == _ADDENDA:
                self.addenda = child
                self.addenda_nodes.append(child)
        #: the comprobante's own cfdi:Traslado and cfdi:Retencion nodes (under its Impuestos)
        self.traslados: list[Attrs] = []
        self.retenciones: list[Attrs] = []
        if self.impuestos is not None:
            _collect_taxes(self.impuestos, self.traslados, self.retenciones)
        self.tipo = self.get("TipoDeComprobante")
        self.moneda = self.get("Moneda")
        self.emisor_rfc = _strip(self.emisor.get("Rfc")).upper() if self.emisor is not None else ""
        self.receptor_rfc = _strip(self.receptor.get("Rfc")).upper() if self.receptor is not None else ""
        #: per-document scratch space for rules (e.g. children grouped by tag), keyed by element
        self.memo: dict[Element, dict] = {}
        #: each cce20:ComercioExterior's mercancías as ``Attrs`` (see ``cce_mercancias``)
        self.mercancias: dict[Element, list[Attrs]] = {}
        self._decimals: int | None = None
        self._fecha: datetime | None | bool = False
        self._cce_in_force: list[Element] | None = None

    def _complements(self, complemento: Element) -> None:
        """The children of a cfdi:Complemento, each tag read once (lxml builds a new string on every read)."""
        for child in complemento:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            self.complementos.append(child)
            if tag == _CCE20_ROOT:
                self.cce.append(child)
            elif tag == _TIMBRE:
                self.timbres.append(child)
            elif tag == _CCE11_ROOT:
                self.cce11.append(child)
            elif tag == _LOCALES:
                self.locales.append(child)

    @property
    def root(self) -> Element:
        """The cfdi:Comprobante."""
        return self.element

    @property
    def day(self) -> date:
        """The day the invoice is judged as of (``effective``, catalog validity): its Fecha's date, or today
        when the Fecha does not parse (CFDI40101 reports that)."""
        fecha = self.fecha
        return fecha.date() if fecha is not None else date.today()

    @property
    def cce_in_force(self) -> list[Element]:
        """The Comercio Exterior complements of a version in force on the Fecha (``effective``): what SAT's
        CFDI rules mean by "el complemento de comercio exterior" (2.0 from 18/01/2024, 1.1 until the day before).
        """
        found = self._cce_in_force
        if found is None:
            found = self._cce_in_force = []
            if self.cce or self.cce11:
                day = self.day
                if self.cce and in_force("cce20", day):
                    found += self.cce
                if self.cce11 and in_force("cce11", day):
                    found += self.cce11
        return found

    @property
    def decimals(self) -> int | None:
        """Decimals c_Moneda allows for the document's currency (None if the currency is unknown)."""
        if self._decimals is None:
            self._decimals = self.cat.moneda_decimales.get(self.moneda)
        return self._decimals

    @property
    def fecha(self) -> datetime | None:
        """Fecha as a naive datetime; None if it is not a real date and time (strptime is ten times slower)."""
        if self._fecha is False:
            match = _FECHA.fullmatch(self.get("Fecha"))
            try:
                self._fecha = datetime(*map(int, match.groups())) if match else None  # type: ignore[misc]
            except ValueError:
                self._fecha = None
        return self._fecha  # type: ignore[return-value]



def _collect_taxes(impuestos: Element, traslados: list[Attrs], retenciones: list[Attrs]) -> None:
    """The cfdi:Traslado and cfdi:Retencion nodes of a cfdi:Impuestos (of a concepto or of the comprobante)."""
    for group in impuestos:
        tag = group.tag
        if tag == _TRASLADOS:
            for traslado in group:
                if traslado.tag == _TRASLADO:
                    traslados.append(attrs_of(traslado))
        elif tag == _RETENCIONES:
            for retencion in group:
                if retencion.tag == _RETENCION:
                    retenciones.append(attrs_of(retencion))


def cce_children(doc: Doc, element: Element | None, local: str) -> list[Element]:
    """Children of ``element`` named ``local`` (CCE namespace); grouped once per element and document."""
    if element is None:
        return []
    groups = doc.memo.get(element)
    if groups is None:
        groups = doc.memo[element] = children_by_tag(element)
    return groups.get(_X + local, [])


def cce_child(doc: Doc, element: Element | None, local: str) -> Element | None:
    found = cce_children(doc, element, local)
    return found[0] if found else None


def cce_mercancias(doc: Doc, cce: Element) -> list[Attrs]:
    """The cce20:Mercancia nodes of a cce20:ComercioExterior, their attributes read once per document."""
    found = doc.mercancias.get(cce)
    if found is None:
        found = doc.mercancias[cce] = [attrs_of(m) for m in cce_children(doc, cce_child(doc, cce, "Mercancias"),
                                                                      "Mercancia")]
    return found


def _strip(value: str | None) -> str:
    return value.strip() if value else ""


def persona(rfc: str) -> str | None:
    """'moral' (12 characters) or 'fisica' (13), as SAT tells them apart; None for anything else."""
    return {12: "moral", 13: "fisica"}.get(len(rfc))


# --- numbers ----------------------------------------------------------------------------------------------------

_DECIMALS: dict[str, Decimal] = {}
_DECIMALS_KEPT = 4096


def num(element: Element | Attrs, attr: str) -> Decimal | None:
    """The attribute as a Decimal, None if absent; raises Skip if it does not parse.

    Values are kept by their text: the same amounts recur within an invoice (a concepto's Importe is its
    traslado's Base and often its mercancía's ValorDolares) and across invoices (rates, quantities), and
    a lookup costs a fifth of parsing. Decimals are immutable, so sharing them is safe.
    """
    raw = element.get(attr)
    if raw is None:
        return None
    value = _DECIMALS.get(raw)
    if value is None:
        try:
            value = Decimal(raw)  # Decimal ignores the blanks around a number, as XSD's whitespace collapse does
        except InvalidOperation:
            raise Skip from None
        if not value.is_finite():
            raise Skip
        if len(_DECIMALS) >= _DECIMALS_KEPT:
            _DECIMALS.clear()
        _DECIMALS[raw] = value
    return value


def places(value: Decimal) -> int:
    """Decimals of ``value`` as written ("10.50" has 2); read from ``str``, a third of what ``as_tuple`` costs."""
    text = str(value)
    if "E" in text:  # scientific notation (tiny or huge exponents): the slow, general way
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def rounded_like(value: Decimal, like: Decimal) -> Decimal:
    """``value`` rounded half-up to the decimals ``like`` was written with (SAT's "redondeo")."""
    return value.quantize(unit(places(like)), ROUND_HALF_UP)


def raw_places(raw: str) -> int:
    """Decimals as written ("10.50" has 2), without building a Decimal."""
    raw = raw.strip()
    dot = raw.find(".")
    return 0 if dot < 0 else len(raw) - dot - 1


PRECISION = 60  # digits: products and sums of 18-digit amounts with 6 decimals are never rounded by the context


def precise() -> AbstractContextManager[object]:
    """The decimal context the rules compute in; a no-op when it is already in force (entering one costs µs)."""
    return nullcontext() if getcontext().prec >= PRECISION else localcontext(prec=PRECISION)


_UNITS = [Decimal(1).scaleb(-d) for d in range(13)]
_HALVES = [Decimal(5).scaleb(-d - 1) for d in range(13)]


def unit(decimals: int) -> Decimal:
    """10^-decimals."""
    return _UNITS[decimals] if decimals < len(_UNITS) else Decimal(1).scaleb(-decimals)


def half_unit(decimals: int) -> Decimal:
    return _HALVES[decimals] if decimals < len(_HALVES) else Decimal(5).scaleb(-decimals - 1)


def floor_to(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(unit(decimals), ROUND_FLOOR)


def ceil_to(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(unit(decimals), ROUND_CEILING)


def within_product(result: Decimal, a: Decimal, b: Decimal, decimals: int) -> tuple[Decimal, Decimal] | None:
    """None if ``result`` lies within SAT's limits for a × b, else the (lower, upper) limits.

    Limits: (a − ½ unit of a's last decimal) × (b − ½ unit), truncated to ``decimals``, and the
    same with + rounded up (Anexo 20). The exact product, the usual case, is accepted at once.
    """
    if result == a * b:
        return None
    ha, hb = half_unit(places(a)), half_unit(places(b))
    lower, upper = floor_to((a - ha) * (b - hb), decimals), ceil_to((a + ha) * (b + hb), decimals)
    return None if lower <= result <= upper else (lower, upper)


def fmt(value: Decimal) -> str:
    return format(value, "f")


# --- findings ---------------------------------------------------------------------------------------------------

def at(out: list[Finding], node: Element | Attrs, attr: str | None, code: str, message: str, sat_code: str,
       make: Callable[..., Finding] = error) -> None:
    """Append to ``out`` a finding located at ``node`` (and its attribute): line and XPath.

    Rules append rather than yield: a plain call costs a fifth of setting up and draining a generator, and
    some sixty rules run on every document.
    """
    element = element_of(node)
    xpath = xpath_of(element)
    if attr:
        xpath = f"{xpath}/@{attr}"
    out.append(make(code, message, sat_code, line=element.sourceline, xpath=xpath))
